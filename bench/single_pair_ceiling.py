"""Benchmark: how fast could any fp32 engine answer ONE pair on this CPU? The single-pair ceiling at the request's
own shape (issue 20, item 3).

    python -m bench.single_pair_ceiling --out bench/results/single_pair_ceiling.json --readme README.md

`bench/predict_speed.py` bounds a single pair by the model's FLOPs over the rate of a *batch-shaped* matmul (4,096
rows), which a single request never reaches: its matmuls have as many rows as the pair has tokens (~54), too few
to keep two cores' vector units full. This measures, interleaved in rounds (A, B, A, B, ...), on the same MRPC
pairs as that bench:
- A: the `pipeline("text-classification")` answering single pairs one after another (p50 in blocks, as there);
- B: the best fp32 rate, in PyTorch and in ONNX Runtime (the faster decides), of one encoder layer's six matmuls (Q, K, V, output: hidden x hidden; up: hidden x
  4*hidden; down: 4*hidden x hidden) at the median single request's token count, and, for comparison, at 4,096
  rows; int8 (PyTorch's dynamically quantized Linear) at the request's shape too.
The floor on a single pair's model time is its FLOPs over rate B (attention's own matmuls, layer norms, GELU,
tokenizing and Python all left out, so any real engine is slower); the ceiling ratio is the pipeline's p50 over that
floor. The model: the packaged MiniLM with a random head (its time does not depend on the weights' values).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench import hardware  # noqa: E402
from bench.readme_block import replace_block  # noqa: E402

BEGIN, END = "<!-- single-pair-ceiling:begin -->", "<!-- single-pair-ceiling:end -->"


def layer_shapes(hidden: int) -> list[tuple[int, int]]:
    """(in, out) of one BERT layer's six weight matmuls."""
    return [(hidden, hidden)] * 4 + [(hidden, 4 * hidden), (4 * hidden, hidden)]


def _weighted(hidden: int, rows: int, rate_of) -> float:
    """One layer's six matmuls at `rows` tokens as one rate: their operations over the sum of each one's best time
    (`rate_of(fan_in, fan_out, ops)`, GOP/s), so the shapes weigh as much as they cost in the model."""
    total_ops = total_s = 0.0
    for fan_in, fan_out in layer_shapes(hidden):
        ops = 2 * rows * fan_in * fan_out
        total_ops += ops
        total_s += ops / (rate_of(fan_in, fan_out, ops) * 1e9)
    return total_ops / total_s / 1e9


def layer_rate(rows: int, hidden: int, dtype: str = "fp32", seconds: float = 0.6) -> float:
    """GFLOP/s (GOP/s for int8) of one layer's six matmuls at `rows` tokens in PyTorch."""
    import torch

    def rate_of(fan_in: int, fan_out: int, ops: int) -> float:
        layer = torch.nn.Linear(fan_in, fan_out)
        if dtype == "int8":
            layer = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(layer), {torch.nn.Linear},
                                                           dtype=torch.qint8)
        return hardware._best_rate(layer, torch.randn(rows, fan_in), ops, seconds)

    return _weighted(hidden, rows, rate_of)


def ort_layer_rate(rows: int, hidden: int, threads: int, seconds: float = 0.6) -> float:
    """The same as `layer_rate` in fp32 through ONNX Runtime's own matmul (MLAS), the library the app's fp32 engine
    uses: each shape as a one-node MatMul graph, best of three windows."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    def rate_of(fan_in: int, fan_out: int, ops: int) -> float:
        weight = numpy_helper.from_array(np.random.randn(fan_in, fan_out).astype(np.float32), "w")
        graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, fan_in])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, fan_out])], [weight])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        x = np.random.randn(rows, fan_in).astype(np.float32)
        return hardware._best_rate(lambda v: session.run(None, {"x": v}), x, ops, seconds)

    return _weighted(hidden, rows, rate_of)


def measure(rounds: int, per_round: int) -> dict:
    import torch
    from transformers import AutoTokenizer, pipeline

    from bench.predict_speed import batch_chunk, build_checkpoint, load_pairs, single_pairs, timed

    pairs, source = load_pairs()
    folder = build_checkpoint(Path(tempfile.mkdtemp(prefix="bench-ceiling-")))
    config = json.loads((folder / "config.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    pipe = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device="cpu")
    def n_tokens(pair: tuple[str, str]) -> int:
        return len(tokenizer(*pair, truncation=True, max_length=128)["input_ids"])

    singles = single_pairs(pairs, rounds * per_round)
    tokens = [n_tokens(p) for p in singles]
    batch_tokens = statistics.fmean(n_tokens(p) for p in batch_chunk(pairs))  # predict_speed's batch, as its ceiling
    median_tokens = int(statistics.median(tokens))
    flops = statistics.median(hardware.inference_flops_per_token(config, n) * n for n in tokens)
    hidden = config["hidden_size"]
    for pair in singles[:10]:  # warm-up
        pipe({"text": pair[0], "text_pair": pair[1]})
    pipe_ms, single_rates, ort_rates, batch_rates, ort_batch_rates, int8_rates = [], [], [], [], [], []
    for r in range(rounds):  # A, B, A, B, ...
        block = singles[r * per_round:(r + 1) * per_round]
        pipe_ms += [timed(lambda: pipe({"text": a, "text_pair": b})) * 1000 for a, b in block]
        single_rates.append(layer_rate(median_tokens, hidden))
        ort_rates.append(ort_layer_rate(median_tokens, hidden, torch.get_num_threads()))
        batch_rates.append(layer_rate(4096, hidden))
        ort_batch_rates.append(ort_layer_rate(4096, hidden, torch.get_num_threads()))
        int8_rates.append(layer_rate(median_tokens, hidden, "int8"))
    rate, int8 = max(single_rates + ort_rates), max(int8_rates)  # the faster library decides the floor
    floor_ms, int8_floor_ms = flops / (rate * 1e9) * 1000, flops / (int8 * 1e9) * 1000
    pipeline_ms = statistics.median(pipe_ms)
    return {"machine": hardware.describe_machine("cpu"), "torch_threads": torch.get_num_threads(), "pairs": source,
            "rounds": rounds, "requests": len(pipe_ms), "median_tokens": median_tokens,
            "single_gflop": round(flops / 1e9, 3), "pipeline_single_p50_ms": round(pipeline_ms, 2),
            "fp32_gflops_at_single_shape": [round(x, 1) for x in single_rates],
            "fp32_gflops_at_single_shape_onnxruntime": [round(x, 1) for x in ort_rates],
            "fp32_gflops_at_4096_rows": [round(x, 1) for x in batch_rates],
            "fp32_gflops_at_4096_rows_onnxruntime": [round(x, 1) for x in ort_batch_rates],
            "batch_gflop_per_pair": round(hardware.inference_flops_per_token(config, batch_tokens) * batch_tokens / 1e9, 3),
            "int8_gops_at_single_shape": [round(x, 1) for x in int8_rates],
            "fp32_single_floor_ms": round(floor_ms, 2), "fp32_single_ceiling_ratio": round(pipeline_ms / floor_ms, 2),
            "int8_single_floor_ms": round(int8_floor_ms, 2),
            "int8_single_ceiling_ratio": round(pipeline_ms / int8_floor_ms, 2),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def markdown(result: dict) -> str:
    m = result["machine"]
    torch_rates, ort_rates = result["fp32_gflops_at_single_shape"], result["fp32_gflops_at_single_shape_onnxruntime"]
    best = max(torch_rates + ort_rates)
    batch_best = max(result["fp32_gflops_at_4096_rows"] + result["fp32_gflops_at_4096_rows_onnxruntime"])
    batch_cap = batch_best / result["batch_gflop_per_pair"]
    return (f"**Ceiling for a single pair at its own shape** (`python -m bench.single_pair_ceiling`, "
            f"{result['measured']}, {m['cpu']} ({', '.join(m['cpu_flags'])}), {result['torch_threads']} threads, "
            f"{result['rounds']} interleaved rounds, {result['pairs']}): a single request's matmuls have "
            f"{result['median_tokens']} rows (its tokens), and there this CPU's best fp32 rate for one layer's six "
            f"weight matmuls is {best:.0f} GFLOP/s (per round, PyTorch: {', '.join(f'{x:.0f}' for x in torch_rates)}; "
            f"ONNX Runtime: {', '.join(f'{x:.0f}' for x in ort_rates)}; PyTorch at 4,096 rows: "
            f"{max(result['fp32_gflops_at_4096_rows']):.0f}, ONNX Runtime at 4,096 rows: "
            f"{max(result['fp32_gflops_at_4096_rows_onnxruntime']):.0f}). The median request costs {result['single_gflop']:.2f} "
            f"GFLOP, so its weight matmuls alone take at least **{result['fp32_single_floor_ms']:.1f} ms** in fp32 — "
            f"the pipeline answered in {result['pipeline_single_p50_ms']:.1f} ms (p50, same run), so **no fp32 engine "
            f"can answer a single pair more than {result['fp32_single_ceiling_ratio']:.2f}× faster than the pipeline "
            f"on this CPU**, before attention, layer norms, tokenizing or Python. In int8 the floor is "
            f"{result['int8_single_floor_ms']:.1f} ms ({result['int8_single_ceiling_ratio']:.1f}×), but int8 has to "
            "pass the accuracy gate first. For batches the same best rate at 4,096 rows, "
            f"{batch_best:.0f} GFLOP/s, caps any fp32 engine at {batch_cap:.0f} pairs/s ({result['batch_gflop_per_pair']:.2f} "
            "GFLOP a pair): set beside the pipeline's batch rate in the table above, far from 5×.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=60, help="single requests of the pipeline per round")
    parser.add_argument("--out", help="write the JSON result here")
    parser.add_argument("--readme", help="replace the README's single-pair ceiling block with this result")
    parser.add_argument("--from-json", help="render an earlier result instead of measuring")
    args = parser.parse_args()
    result = json.loads(Path(args.from_json).read_text()) if args.from_json else measure(args.rounds, args.per_round)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    if args.readme:
        replace_block(Path(args.readme), BEGIN, END, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
