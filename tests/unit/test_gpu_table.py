"""bench/gpu_table.py: the README's GPU block is the table of the committed H200 logs, generated, not typed."""
from pathlib import Path

from bench import gpu_table

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "bench" / "results" / "gpu_h200_2026-12-04"


def test_every_result_line_of_the_three_calls_is_a_row():
    rows = gpu_table.rows(FOLDER)
    assert [r["call"] for r in rows] == ["1"] * 3 + ["2"] * 3 + ["3"] * 3
    by_label = {(r["call"], r["label"]): r for r in rows}
    assert by_label[("2", "bf16, checkpoints: once-per-epoch")]["train"] == "36.1"
    assert by_label[("1", "accelerate launch, 1 epoch, auto precision")]["wall"] is None


def test_the_readme_block_is_the_generated_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- bench:gpu:start -->\n", 1)[1].split("\n<!-- bench:gpu:end -->", 1)[0]
    assert block == gpu_table.table(FOLDER)
    assert "| 2 | bf16, checkpoint once per epoch (the GPU default now) | 36.1 s | 305 | 57 s |" in block
