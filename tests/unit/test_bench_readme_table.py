"""bench/readme_table.py writes its table through bench/readme_block.replace_block: the block between the markers
is replaced, and a README without them (or with a marker twice) is refused with exit code 2, touching nothing."""
from __future__ import annotations

import sys

from bench import readme_table

LOG = "bench/results/train_speed_cpu.jsonl"


def _run(monkeypatch, readme) -> int:
    monkeypatch.setattr(sys, "argv", ["readme_table", LOG, "--write", str(readme)])
    return readme_table.main()


def test_the_table_replaces_only_the_block_between_the_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{readme_table.START}\nold table\n{readme_table.END}\nafter\n", encoding="utf-8")
    assert _run(monkeypatch, readme) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"before\n{readme_table.START}\nMeasured ") and text.endswith(f"{readme_table.END}\nafter\n")
    assert "old table" not in text and "| recipe | seed |" in text


def test_a_readme_without_the_pair_of_markers_exits_2_and_is_left_alone(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    for body in ("no markers here\n", f"{readme_table.START}\n{readme_table.END}\n{readme_table.START}\n"):
        readme.write_text(body, encoding="utf-8")
        assert _run(monkeypatch, readme) == 2
        assert readme.read_text(encoding="utf-8") == body
        assert readme_table.START in capsys.readouterr().err


def test_a_log_of_the_fp32_only_path_goes_to_its_own_block_and_names_the_recipe(tmp_path, monkeypatch):
    """Issue 20: the README shows the bf16 machine's row and the fp32 path's, each written from its own log."""
    import json

    readme = tmp_path / "README.md"
    body = (f"{readme_table.START}\nbf16 table\n{readme_table.END}\n"
            f"{readme_table.START_FP32}\nold fp32 table\n{readme_table.END_FP32}\n")
    readme.write_text(body, encoding="utf-8")
    lines = [json.loads(x) for x in open(LOG, encoding="utf-8") if x.strip()]
    fp32 = [{**x, "fp32_only_path": True} if "machine" in x else x for x in lines]
    fp32 = [{**x, "notes": [*x["notes"], "dropout off while training (the checkpoint's own: 0.1): a short fine-tune"]}
            if x.get("recipe") == "ours" else x for x in fp32]
    log = tmp_path / "fp32.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in fp32), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["readme_table", str(log), "--write", str(readme)])
    assert readme_table.main() == 0
    text = readme.read_text(encoding="utf-8")
    assert "bf16 table" in text and "old fp32 table" not in text
    block = text.split(readme_table.START_FP32)[1]
    assert "**fp32-only path**" in block and "dropout off while training, evaluated 10 times" in block


def test_two_runs_of_one_setup_are_pooled_and_unlike_runs_refused(tmp_path, monkeypatch, capsys):
    """Issue 20: a second run with other seeds adds evidence; its rows pool with the first's, and the figures are those
    of one log holding every run. Logs of another setup, or repeating a seed, are refused."""
    import json

    lines = [json.loads(x) for x in open(LOG, encoding="utf-8") if x.strip()]
    header = next(x for x in lines if "machine" in x)
    runs = [x for x in lines if "recipe" in x]
    first_seed = runs[0]["seed"]
    one = [header, *(r for r in runs if r["seed"] == first_seed)]
    two = [{**header, "started": "later"}, *(r for r in runs if r["seed"] != first_seed)]
    pooled = readme_table.markdown(readme_table.pooled_lines([one, two]))
    whole = readme_table.markdown([header, *runs])
    assert "in 2 runs of the bench, pooled" in pooled and ", later)" in pooled
    assert pooled.split("| recipe |")[1] == whole.split("| recipe |")[1]  # the same rows, means and verdict
    paths = []
    for name, log in (("a", one), ("b", [{**two[0], "data": "sample"}, *two[1:]]), ("c", one)):
        paths.append(tmp_path / f"{name}.jsonl")
        paths[-1].write_text("".join(json.dumps(x) + "\n" for x in log), encoding="utf-8")
    for other in paths[1:]:   # another dataset; the same seeds again
        monkeypatch.setattr(sys, "argv", ["readme_table", str(paths[0]), str(other)])
        assert readme_table.main() == 2
    assert "not of one setup" in capsys.readouterr().err
