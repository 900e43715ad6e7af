"""Writes README's Predict benchmark table from bench/predict_speed.py's JSON (never typed by hand).

Usage: python bench/predict_table.py RESULT.json [MORE.json ...] [--readme README.md]
Each input is the JSON line predict_speed.py prints last (or a file whose last line it is); several give one
table each (e.g. 2 threads and 1 thread). Without --readme the tables are printed; with it, the text between
the markers below in README.md is replaced.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.hardware import was_quiet
from bench.readme_block import replace_block
from trainer_backend.serving import engines

BEGIN, END = "<!-- predict-bench:begin -->", "<!-- predict-bench:end -->"

def load(path: str | Path) -> dict:
    """The last non-empty line of the file, parsed as JSON."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(lines[-1])


def table(result: dict) -> str:
    """Markdown: one row per contender, then the ratios against their targets, the gate and the machine."""
    pytorch = "PyTorch, bf16 autocast" if result.get("bf16_pytorch_path") else "PyTorch, fp32"
    serving = engines.short_title(result["serving"])
    if result.get("batch_engine"):
        serving = f"{serving} for single pairs, {engines.short_title(result['batch_engine'])} for 64+"
    names = {"pipeline": '`pipeline("text-classification")`', "ours_pytorch": f"ours, {pytorch} (before)",
             "ours": f"**ours, serving path: {serving}**"}
    p50, p90 = result["single_p50_ms"], result["single_p90_ms"]
    rate = result["batch_pairs_per_s"]
    rows = ["| contender | single pair p50 | single pair p90 | 512 pairs, pairs/s |", "|---|---|---|---|"]
    for key, title in names.items():
        rows.append(f"| {title} | {p50[key]:.1f} ms | {p90[key]:.1f} ms | {rate[key]:.0f} |")
    single, batch = result["single_p50_ratio"], result["batch_ratio"]
    lines = ["\n".join(rows), ""]
    lines.append(f"**Single pair: {single:.2f}× faster at p50** (target ≥ 2×: {'met' if single >= 2 else 'not met'}; "
                 f"per-round ratios {', '.join(f'{x:.2f}' for x in result['single_round_ratios'])}). "
                 f"**512 pairs: {batch:.2f}× the throughput** (target ≥ 5×: {'met' if batch >= 5 else 'not met'}; "
                 f"per-round {', '.join(f'{x:.2f}' for x in result['batch_round_ratios'])}).")
    steady = result.get("single_steady_p50_ms")
    if steady:
        lines.append("")
        lines.append(f"Single pairs in blocks (each contender answering a round's pairs in a row, as a server answers "
                     f"one request after another; the blocks alternate): pipeline {steady['pipeline']:.1f} ms, ours "
                     f"{steady['ours']:.1f} ms at p50, **{result['single_steady_ratio']:.2f}×** (the headline above "
                     "stays the per-request figure, where each answer of ours follows two PyTorch calls).")
    close = result.get("close_calls_in_fp32")
    if close:
        lines.append("")
        lines.append("Close calls answered again in fp32 while timed: "
                     + ", ".join(f"{share:.0%} of the {what}" for what, share in
                                 (("single pairs", close.get("single")), ("batch's rows", close.get("batch")))
                                 if share is not None) + ".")
    checks = "; ".join(f"{engines.short_title(c['engine'])} {'passed' if c['passed'] else 'failed'}: same "
                       f"answer on {c['agreement']:.1%} of {c['pairs']} pairs, accuracy {c['accuracy']:.3f} vs "
                       f"PyTorch {c['reference_accuracy']:.3f}" for c in result.get("gate_checks", []))
    if checks:
        lines.append("")
        lines.append(f"Accuracy gate on {result['gate_data']}: {checks}.")
    lines.append("")
    vnni = ", VNNI" if result.get("vnni") else ""
    lines.append(f"Measured on {result['cpu']} ({result['isa']}{vnni}), {result['cores']} cores, "
                 f"{result['torch_threads']} thread{'s' if result['torch_threads'] != 1 else ''} per contender, on {result['pairs']} with {result['model']}, "
                 f"{result['rounds']} interleaved rounds; Explain took {result['explain_s']['median']:.2f} s "
                 f"(median, {result['explain_s']['steps']} steps). " + machine_load(result))
    ceiling = result.get("ceiling")
    if ceiling:
        rates = [(name, ceiling.get(f"{name}_ceiling_pairs_per_s"), ceiling.get(f"{name}_ceiling_ratio"),
                  ceiling.get(f"{name}_peak_gops")) for name in ("fp32", "bf16", "int8")
                 if ceiling.get(f"{name}_ceiling_ratio") is not None]
        lines.append("")
        lines.append(f"**Ceiling on this CPU** (512 pairs): the model costs {ceiling['gflop_per_pair']:.2f} GFLOP per pair "
                     f"({ceiling['tokens_per_pair']:.0f} real tokens); the pipeline already runs at "
                     f"{ceiling['pipeline_gflops']:.0f} GFLOP/s. At this CPU's measured rate for an encoder-shaped "
                     "matmul, no engine could pass " + "; ".join(
                         f"{rate:.0f} pairs/s = {ratio:.1f}× the pipeline in {name} ({peak:.0f} G{'OP' if name == 'int8' else 'FLOP'}/s)"
                         for name, rate, ratio, peak in rates) + ".")
        floors = [(name, ceiling[f"{name}_single_floor_ms"], ceiling[f"{name}_single_ceiling_ratio"])
                  for name in ("fp32", "bf16", "int8") if ceiling.get(f"{name}_single_floor_ms") is not None]
        if floors and steady:
            lines.append("")
            lines.append(f"**Ceiling for a single pair**: the median single request costs "
                         f"{ceiling['single_gflop_per_pair']:.2f} GFLOP; at the same rates its model time cannot go "
                         "under " + "; ".join(f"{ms:.1f} ms in {name} ({ratio:.1f}× the pipeline's "
                                              f"{steady['pipeline']:.1f} ms in blocks)" for name, ms, ratio in floors)
                         + ", before any tokenizing or Python.")
    return "\n".join(lines)


def machine_load(result: dict) -> str:
    """Quiet or shared, from the load the bench logged (its own threads keep it near the core count)."""
    start, end = result.get("load_avg_at_start", result["load_avg_1min"]), result["load_avg_1min"]
    if was_quiet([start, end], result["cores"]):
        return f"The machine was quiet (load average {start:.1f} at the start, {end:.1f} at the end, on {result['cores']} cores)."
    return (f"The machine was shared with other developers' work (load average {start:.1f} at the start, "
            f"{end:.1f} at the end, on {result['cores']} cores).")


def update_readme(readme: Path, text: str) -> None:
    """Replace what lies between the markers; the markers must already be in the file."""
    replace_block(readme, BEGIN, END, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="predict_speed.py's JSON (files whose last line it is)")
    parser.add_argument("--readme", help="README.md to update between the predict-bench markers")
    args = parser.parse_args()
    parts = []
    for path in args.results:
        result = load(path)
        path = ", fp32-only path (`--no-bf16`: bf16 engines left out, as on a CPU without native bf16)" if result.get(
            "fp32_only_path") else ""
        heading = (f"*{result['torch_threads']} thread{'s' if result['torch_threads'] != 1 else ''} per contender"
                   f"{path}, {result['model']}:*")
        parts.append(heading + "\n\n" + table(result) if len(args.results) > 1 else table(result))
    text = "\n\n".join(parts)
    if args.readme:
        update_readme(Path(args.readme), text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
