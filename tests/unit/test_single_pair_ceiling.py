"""bench/single_pair_ceiling.py: the matmul rates it measures are real and weighed by cost, and its README block is
generated from its JSON (the faster library decides the floor)."""
from __future__ import annotations

import json

import pytest

from bench import single_pair_ceiling as c


def test_a_layer_is_four_square_matmuls_and_the_two_feed_forward_ones():
    assert c.layer_shapes(384) == [(384, 384)] * 4 + [(384, 1536), (1536, 384)]


@pytest.mark.parametrize("rate", [lambda: c.layer_rate(8, 16, seconds=0.06),
                                  lambda: c.layer_rate(8, 16, "int8", seconds=0.06),
                                  lambda: c.ort_layer_rate(8, 16, threads=1, seconds=0.06)])
def test_each_library_gives_a_measured_rate(rate):
    assert 0.001 < rate() < 10_000  # GFLOP/s: measured, so only its order is known


def test_the_readme_block_is_written_from_the_result(tmp_path):
    result = json.loads((c.Path(__file__).resolve().parents[2] / "bench/results/single_pair_ceiling.json").read_text())
    text = c.markdown(result)
    best = max(result["fp32_gflops_at_single_shape"] + result["fp32_gflops_at_single_shape_onnxruntime"])
    assert f"is {best:.0f} GFLOP/s" in text and f"{result['fp32_single_ceiling_ratio']:.2f}× faster" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{c.BEGIN}\nold\n{c.END}\nafter\n")
    c.replace_block(readme, c.BEGIN, c.END, text)
    assert readme.read_text() == f"before\n{c.BEGIN}\n{text}\n{c.END}\nafter\n"


def test_the_readme_shows_the_kept_result_unchanged():
    root = c.Path(__file__).resolve().parents[2]
    result = json.loads((root / "bench/results/single_pair_ceiling.json").read_text())
    assert f"{c.BEGIN}\n{c.markdown(result)}\n{c.END}" in (root / "README.md").read_text()
