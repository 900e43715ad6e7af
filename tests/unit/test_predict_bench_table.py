"""README's Predict benchmark table is generated from bench/predict_speed.py's JSON."""
from __future__ import annotations

import json

import pytest

from bench import predict_table as bench_table

RESULT = {
    "model": "all-MiniLM-L6-v2 + random 2-label head", "pairs": "MRPC msr_paraphrase_train.txt", "cpu": "AMD EPYC",
    "isa": "AVX512-BF16", "vnni": True, "cores": 2, "torch_threads": 2, "bf16_pytorch_path": True,
    "serving": "onnx-int8", "gate_data": "the run's validation split (MRPC folder x)", "rounds": 5,
    "gate_checks": [{"engine": "onnx-int8", "agreement": 0.9975, "accuracy": 0.75, "reference_accuracy": 0.7525,
                     "pairs": 408, "passed": True}],
    "single_p50_ms": {"pipeline": 9.0, "ours_pytorch": 7.0, "ours": 3.0},
    "single_p90_ms": {"pipeline": 12.0, "ours_pytorch": 9.0, "ours": 4.0},
    "single_round_ratios": [3.1, 2.9], "batch_pairs_per_s": {"pipeline": 110.0, "ours_pytorch": 300.0, "ours": 660.0},
    "batch_round_ratios": [6.0, 5.9], "explain_s": {"median": 0.41, "steps": 32}, "single_p50_ratio": 3.0,
    "batch_ratio": 6.0, "load_avg_1min": 2.5,
}


def test_table_rows_and_verdicts_come_from_the_json():
    text = bench_table.table(RESULT)
    assert "| `pipeline(\"text-classification\")` | 9.0 ms | 12.0 ms | 110 |" in text
    assert "| **ours, serving path: ONNX Runtime int8** | 3.0 ms | 4.0 ms | 660 |" in text
    assert "ours, PyTorch, bf16 autocast (before)" in text
    assert "3.00× faster at p50** (target ≥ 2×: met" in text and "6.00× the throughput** (target ≥ 5×: met" in text
    assert "99.8% of 408 pairs" in text and "AMD EPYC (AVX512-BF16, VNNI)" in text
    assert "quiet (load average 2.5" in text  # 2 cores busy with the bench's own 2 threads
    assert "shared with other developers' work (load average 9.0" in bench_table.table({**RESULT, "load_avg_1min": 9.0})


def test_a_batch_engine_is_named_in_the_serving_row():
    text = bench_table.table({**RESULT, "serving": "onnx-fp32", "batch_engine": "pytorch-bf16"})
    assert "**ours, serving path: ONNX Runtime fp32 for single pairs, PyTorch with bf16 weights for 64+**" in text


def test_a_missed_target_is_said_plainly():
    text = bench_table.table({**RESULT, "batch_ratio": 4.2, "single_p50_ratio": 1.8})
    assert "target ≥ 5×: not met" in text and "target ≥ 2×: not met" in text


def test_readme_is_rewritten_between_the_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{bench_table.BEGIN}\nold table\n{bench_table.END}\nafter\n", encoding="utf-8")
    result = tmp_path / "bench.txt"
    result.write_text("progress line\n" + json.dumps(RESULT) + "\n", encoding="utf-8")
    bench_table.update_readme(readme, bench_table.table(bench_table.load(result)))
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "old table" not in text
    assert "660" in text
    readme.write_text("no markers here", encoding="utf-8")
    with pytest.raises(SystemExit, match="needs exactly one"):
        bench_table.update_readme(readme, "x")


def test_the_fp32_path_says_so_and_shows_the_ceiling():
    ceiling = {"tokens_per_pair": 51.1, "gflop_per_pair": 1.109, "pipeline_gflops": 74.6, "fp32_peak_gops": 174.4,
               "fp32_ceiling_pairs_per_s": 157.4, "fp32_ceiling_ratio": 2.34, "int8_peak_gops": 241.1,
               "int8_ceiling_pairs_per_s": 217.5, "int8_ceiling_ratio": 3.23}
    text = bench_table.table({**RESULT, "ceiling": ceiling})
    assert "1.11 GFLOP per pair (51 real tokens)" in text and "157 pairs/s = 2.3× the pipeline in fp32" in text
    assert "218 pairs/s = 3.2× the pipeline in int8 (241 GOP/s)" in text
    assert "Ceiling" not in bench_table.table(RESULT)  # older results have none


def test_single_pairs_in_blocks_and_their_ceiling_are_shown_when_measured():
    ceiling = {"tokens_per_pair": 51.1, "gflop_per_pair": 1.109, "pipeline_gflops": 74.6, "fp32_peak_gops": 174.4,
               "fp32_ceiling_pairs_per_s": 157.4, "fp32_ceiling_ratio": 2.34, "single_gflop_per_pair": 1.02,
               "fp32_single_floor_ms": 5.85, "fp32_single_ceiling_ratio": 2.61}
    steady = {**RESULT, "single_steady_p50_ms": {"pipeline": 15.3, "ours_pytorch": 14.0, "ours": 8.6},
              "single_steady_ratio": 1.78, "ceiling": ceiling}
    text = bench_table.table(steady)
    assert "pipeline 15.3 ms, ours 8.6 ms at p50, **1.78×**" in text
    assert "1.02 GFLOP; at the same rates its model time cannot go under 5.8 ms in fp32 (2.6× the pipeline's" in text
    # the headline stays the per-request ratio; older results (no blocks, no single floor) show neither line
    assert "3.00× faster at p50" in text
    assert "in blocks" not in bench_table.table(RESULT) and "single pair**" not in bench_table.table(RESULT)
