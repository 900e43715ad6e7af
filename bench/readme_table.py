"""The README's training-benchmark table, generated from bench/train_speed.py's JSON-lines log (never hand-typed).

    python -m bench.readme_table /tmp/bench.jsonl              # print the Markdown
    python -m bench.readme_table /tmp/bench.jsonl --write README.md   # replace the block between the markers
    python -m bench.readme_table run1.jsonl run2.jsonl --write README.md   # several runs of one setup, pooled

Exit code 2 when the README lacks the pair of markers (or holds either twice), as before it used
bench/readme_block.replace_block, the one marker writer every bench shares.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.hardware import was_quiet
from bench.readme_block import replace_block
from bench.train_speed import best_peaks, summarize

START, END = "<!-- bench:train:start -->", "<!-- bench:train:end -->"
# A log of the fp32-only path (train_speed --no-bf16) has its own block, so the README shows both rows of machines.
START_FP32, END_FP32 = "<!-- bench:train_fp32:start -->", "<!-- bench:train_fp32:end -->"


def markers(lines: list[dict]) -> tuple[str, str]:
    """The README block a log belongs in: the fp32-only path's, or the machine's own."""
    header = next(x for x in lines if "machine" in x)
    return (START_FP32, END_FP32) if header.get("fp32_only_path") else (START, END)


def ours_sentence(rows: list[dict]) -> str:
    """What "ours" trained, from its runs' own records (epochs, and the dropout note when it was set)."""
    ours = [r for r in rows if r["recipe"] == "ours"]
    if not ours:
        return ""
    epochs = sorted({r["epochs"] for r in ours})
    evaluations = sorted({len(r["evals"]) for r in ours})
    dropout = next((n.split(" (")[0].split(":")[0] for r in ours for n in r.get("notes", []) if n.startswith("dropout")),
                   None)
    return (f"Ours is \"Best for this hardware\" as this path chooses it: {', '.join(f'{e:g}' for e in epochs)} epochs"
            + (f", {dropout}" if dropout else "")
            + f", evaluated {' or '.join(str(n) for n in evaluations)} times. ")


def load_sentence(lines: list[dict], cores: int) -> str:
    """What the machine's load was during the runs (every header's start and each run, as logged), in words."""
    loads = ([x.get("load_average_at_start", 0.0) for x in lines if "machine" in x]
             + [x["load_average"] for x in lines if "load_average" in x])
    worst = max(loads)
    if was_quiet(loads, cores):
        return (f"The machine was quiet: no other jobs ran (load average at most {worst:.1f} on {cores} cores, "
                "the bench's own threads included); seeds were interleaved all the same.")
    return (f"The machine was shared with other developers' jobs (load average up to {worst:.1f} on {cores} "
            "cores), so times are noisy: seeds were interleaved so the noise hits both recipes alike.")


def _pm(mean: float, std: float, fmt: str) -> str:
    return f"{fmt.format(mean)} ± {fmt.format(std)}"


SAME_SETUP = ("model", "data", "seed_epochs", "max_train", "max_eval", "fp32_only_path")


def pooled_lines(logs: list[list[dict]]) -> list[dict]:
    """The lines of several logs of one setup as one log (more seeds, each run's seeds interleaved in itself).
    Logs of different setups (model, data, epochs, path, CPU) or that repeat a seed are refused: pooling them would
    compare unlike runs."""
    headers = [next(x for x in lines if "machine" in x) for lines in logs]
    for h in headers[1:]:
        if any(h.get(k) != headers[0].get(k) for k in SAME_SETUP) or h["machine"]["cpu"] != headers[0]["machine"]["cpu"]:
            raise SystemExit("these logs are not of one setup (model, data, epochs, path or CPU differ)")
    seeds = [(x["recipe"], x["seed"]) for lines in logs for x in lines if "recipe" in x]
    if len(seeds) != len(set(seeds)):
        raise SystemExit("these logs repeat a seed of a recipe")
    return [x for lines in logs for x in lines]


def markdown(lines: list[dict]) -> str:
    headers = [x for x in lines if "machine" in x]
    header = headers[0]
    rows = [x for x in lines if "recipe" in x]
    best = best_peaks(lines)
    s = summarize(rows, header, best)
    rows = [{**r, "flop_fraction": r["gflops"] / best.get(r["precision"], r["peak_gflops"])} for r in rows]
    m = header["machine"]
    peaks = ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in best.items())
    n_peaks = sum(1 for x in lines if x.get("peaks"))
    when = (header["started"] if len(headers) == 1 else
            f"in {len(headers)} runs of the bench, pooled ({', '.join(h['started'] for h in headers)})")
    out = [f"Measured {when} on **{m['cpu']}** ({m['cores']} cores, torch {m['torch_threads']} threads; "
           f"flags: {', '.join(m['cpu_flags']) or 'none of note'}; native bf16: {'yes' if m['bf16_native'] else 'no'}"
           + ("; **fp32-only path**: bf16 turned off with `--no-bf16`, as on a CPU without it" if header.get("fp32_only_path") else "")
           + "). "
           f"Matmul peak (the best of {n_peaks} measurements by the bench, on the same machine): {peaks}. Model `{header['model']}`, data `{header['data']}`"
           + (f" (first {header['max_train']:,} training pairs" if header.get("max_train") else "")
           + (f", {header['max_eval']:,} validation pairs)" if header.get("max_eval") else
              (")" if header.get("max_train") else "")) + ", "
           f"seed recipe {header['seed_epochs']:g} epochs. " + ours_sentence(rows) + load_sentence(lines, m['cores']), "",
           "| recipe | seed | val. accuracy | val. F1 | wall time | samples/s (steps only) | precision | FLOP/s (% of peak) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {'seed recipe' if r['recipe'] == 'seed' else 'ours'} | {r['seed']} | {r['accuracy']:.4f} | "
                   f"{r['f1']:.4f} | {r['wall_s']:,.0f} s | {r['samples_per_s']:.1f} | {r['precision']} | "
                   f"{r['gflops']:.0f} G ({100 * r['flop_fraction']:.0f}%) |")
    for name, label in (("seed", "seed recipe, mean ± std"), ("ours", "ours, mean ± std")):
        if f"{name}_accuracy" in s:
            out.append(f"| **{label}** | {s['runs'][name]} seeds | {_pm(s[f'{name}_accuracy'], s[f'{name}_accuracy_std'], '{:.4f}')} | "
                       f"{_pm(s[f'{name}_f1'], s[f'{name}_f1_std'], '{:.4f}')} | "
                       f"{_pm(s[f'{name}_wall_s'], s[f'{name}_wall_s_std'], '{:,.0f}')} s | "
                       f"{_pm(s[f'{name}_samples_per_s'], s[f'{name}_samples_per_s_std'], '{:.1f}')} | | "
                       f"{100 * s[f'{name}_flop_fraction']:.0f}% |")
    out.append("")
    if "samples_per_s_ratio" in s:
        t = s["ours_time_to_target_s"]
        ratio = s["time_to_accuracy_ratio"]
        per_seed = ", ".join("never" if x is None else f"{x:.0f} s" for x in s["ours_time_to_target_per_seed"])
        out.append(f"**Time to the seed recipe's accuracy** ({s['seed_accuracy']:.4f}, its {s['runs']['seed']}-seed mean): "
                   + (f"ours gets there at {t:,.0f} s on its seed-mean curve (per seed: {per_seed}) against the seed "
                      f"recipe's {s['seed_wall_s']:,.0f} s: **ratio {ratio:.2f}** (target ≤ 0.50, "
                      f"{'met' if ratio <= 0.5 else 'not met'}). "
                      if t is not None else "ours never reaches it on its seed-mean curve ("
                      + (f"best mean {s['ours_best_mean_accuracy']:.4f}; "
                         if s.get("ours_best_mean_accuracy") is not None else "")
                      + f"per seed: {per_seed}, against the seed recipe's "
                      f"{s['seed_wall_s']:,.0f} s): **target not met**"
                      + (f" — the mean curve comes within 1 point of it at {s['ours_time_within_1pt_s']:,.0f} s "
                         f"({s['ours_time_within_1pt_s'] / s['seed_wall_s']:.2f} of the seed recipe's time). "
                         if s.get("ours_time_within_1pt_s") is not None else ". "))
                   + "Pairs trained when ours first reaches it (independent of the machine's load): "
                   + ", ".join("never" if x is None else f"{x:,}" for x in s["ours_samples_to_target_per_seed"])
                   + f" against the seed recipe's {s['seed_samples']:,.0f}. "
                   + f"Final accuracy **{s['accuracy_delta_points']:+.2f} points** (target within 1 point, "
                   f"{'met' if abs(s['accuracy_delta_points']) <= 1 or s['accuracy_delta_points'] > 0 else 'not met'}); "
                   f"samples/s ratio **{s['samples_per_s_ratio']:.2f}×**.")
        out.append("")
        out.append("```json")
        out.append(json.dumps({k: (round(s[k], 3) if isinstance(s[k], float) else s[k]) for k in
                               ("time_to_accuracy_ratio", "samples_per_s_ratio", "accuracy_delta_points")}))
        out.append("```")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", nargs="+", help="JSON-lines log(s) written by bench/train_speed.py --log; several "
                        "logs of one setup are pooled")
    parser.add_argument("--write", default=None, help=f"README to update between {START} and {END} (a log of the "
                        f"fp32-only path: between {START_FP32} and {END_FP32})")
    args = parser.parse_args()
    logs = [[json.loads(x) for x in Path(log).read_text().splitlines() if x.strip()] for log in args.log]
    try:
        lines = pooled_lines(logs)
    except SystemExit as refused:
        print(refused, file=sys.stderr)
        return 2
    text = markdown(lines)
    if not args.write:
        print(text)
        return 0
    try:
        replace_block(Path(args.write), *markers(lines), text)
    except SystemExit as refused:  # replace_block refuses with its message; this script has always exited 2
        print(refused, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
