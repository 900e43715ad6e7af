"""Benchmark: the Quick look preset from Start to the end of the run, as a user gets it (the CLI in a fresh process,
exactly what the Train tab starts), on the offline default (packaged MiniLM, bundled sample), several seeds.

    python -m bench.quick_look --seeds 1,2,3 --no-bf16 --log bench/results/quick_look_fp32.jsonl
    python -m bench.quick_look --seeds 1,2,3 --data ../shared/data/mrpc     # held-out check on real MRPC pairs
    python -m bench.quick_look --summarize bench/results/quick_look_fp32.jsonl
    python -m bench.quick_look --write README.md bench/results/quick_look_*.jsonl   # the README's table

Per run: wall time from process start to exit (imports, loading, tokenizing, training, evaluations and the saved
model all counted), final validation accuracy and F1, the training loss logged over the run and whether it falls
within the first quarter (its mean over the first quarter's last logs is below the first log by `FALL`). --no-bf16 takes
the fp32-only path (STUDIO_CPU_BF16=off), as on a CPU without native bf16. The machine (CPU name, flags) and the
load average are logged with each run; the summary says whether the machine was quiet. Last line: JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import hardware
from bench.readme_block import replace_block

FALL = 0.02  # the loss "falls" in the first quarter when it drops by at least this much below its first log
UNDER_CHANCE = 0.05  # the loss has "left chance" when its running mean is this far under the chance loss
WINDOW = 5           # logs in that running mean (one log is a handful of batches of 8: noisy)


def chance_loss(data: str) -> float:
    """The loss of always answering the training split's label shares (their entropy, in nats): where the training
    loss sits until the model has learned something (ln 2 = 0.69 for balanced labels; MRPC's 68/32: 0.63)."""
    import math

    from trainer_backend import data as studio_data

    dd = studio_data.sample() if data == "sample" else studio_data.from_mrpc_folder(data)
    labels = list(dd["train"]["label"])
    shares = [labels.count(k) / len(labels) for k in set(labels)]
    return -sum(p * math.log(p) for p in shares if p)


def left_chance(losses: list[float], chance: float) -> float | None:
    """The share of the run at which the loss's running mean over WINDOW logs first lies UNDER_CHANCE under the
    chance loss; None when it never does."""
    for i in range(WINDOW - 1, len(losses)):
        if statistics.fmean(losses[i - WINDOW + 1:i + 1]) <= chance - UNDER_CHANCE:
            return (i + 1) / len(losses)
    return None


def evaluations(stdout: str) -> list[dict]:
    """The run's evaluations on the validation pairs, in order, from the Trainer's log lines on stdout
    (`{'eval_loss': '0.705', 'eval_accuracy': '0.46', ...}`): loss and accuracy of each. Quick look evaluates at each
    quarter, so the first is the validation loss after the first quarter — on real pairs only, whatever trained."""
    import ast

    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{") and "'eval_loss'" in line:
            try:
                logged = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                continue
            out.append({"loss": round(float(logged["eval_loss"]), 4),
                        "accuracy": round(float(logged.get("eval_accuracy", "nan")), 4)})
    return out


def _data_name(data: str) -> str:
    return "sample" if data == "sample" else "MRPC folder"


def _training_pairs(row: dict) -> str:
    """'real + easy' when the run mixed in made-up easy pairs (its easy_pairs note), else 'real only'."""
    easy = [n for n in row.get("notes") or [] if isinstance(n, dict) and n.get("kind") == "easy_pairs"]
    return f"real + {easy[0]['added']:,} easy" if easy and easy[0].get("added") else "real only"


def _first_evaluation(row: dict) -> str:
    evals = row.get("evaluations")  # absent from logs written before it was kept
    return f"{evals[0]['loss']:.3f}, {evals[0]['accuracy']:.3f}" if evals else "—"


def _share(left: float | None) -> str:
    return "never" if left is None else f"{left:.0%} of the run"


def one_run(seed: int, data: str, no_bf16: bool, work: Path, flags: list[str] = ()) -> dict:
    out = work / f"seed-{seed}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "STUDIO_FORCE_CPU": "1", "TOKENIZERS_PARALLELISM": "false"}
    if no_bf16:
        env["STUDIO_CPU_BF16"] = "off"
    cmd = [sys.executable, "-m", "trainer_backend", "--preset", "Quick look", "--dataset", data, "--seed", str(seed),
           "--output_dir", str(out), *flags]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    record = json.loads((out / "studio_run.json").read_text())
    metrics = record.get("metrics") or {}
    losses = [loss for _, loss in record.get("loss_curve") or []]
    evals = evaluations(proc.stdout)
    quarter = losses[: max(2, len(losses) // 4)]
    falls = bool(losses) and min(quarter[1:] or quarter) <= losses[0] - FALL
    return {"seed": seed, "data": data, "fp32_only_path": no_bf16, "precision": record.get("precision"),
            "wall_s": round(wall, 1), "accuracy": metrics.get("eval_accuracy"), "f1": metrics.get("eval_f1"),
            "n_validation": record.get("n_validation"), "losses": [round(x, 3) for x in losses],
            "loss_falls_in_first_quarter": falls, "evaluations": evals, "notes": record.get("notes"),
            "load_average": round(os.getloadavg()[0], 2)}


def summarize(rows: list[dict], header: dict) -> dict:
    acc = [r["accuracy"] for r in rows]
    wall = [r["wall_s"] for r in rows]
    cores = header["machine"]["cores"]
    loads = [header["load_average_at_start"]] + [r["load_average"] for r in rows]
    return {"runs": len(rows), "data": rows[0]["data"] if rows else None, "fp32_only_path": header["fp32_only_path"],
            "cpu": header["machine"]["cpu"], "cpu_flags": header["machine"]["cpu_flags"],
            "quiet": hardware.was_quiet(loads, cores), "max_load_average": max(loads),
            "accuracy_mean": round(statistics.mean(acc), 4), "accuracy_min": min(acc),
            "accuracy_std": round(statistics.stdev(acc), 4) if len(acc) > 1 else 0.0,
            "wall_s_mean": round(statistics.mean(wall), 1), "wall_s_max": max(wall),
            "loss_falls_in_first_quarter": sum(r["loss_falls_in_first_quarter"] for r in rows)}


START, END = "<!-- bench:quick:start -->", "<!-- bench:quick:end -->"


def markdown(logs: list[Path]) -> str:
    """The README's Quick-look table from one or more logs (each: a header line, then one line per run)."""
    out = ["| data | training pairs | path | CPU (flags) | seed | Start → exit | val. accuracy | F1 | loss: first logs → last |"
           " falls in 1st quarter | leaves chance at | validation after 1st quarter: loss, acc. |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    sentences, chances = [], {}
    for log in logs:
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
        header = next(x for x in lines if "machine" in x)
        rows = [x for x in lines if "seed" in x]
        m = header["machine"]
        path = "fp32 only (`--no-bf16`)" if header["fp32_only_path"] else "as detected"
        chance = {d: chance_loss(d) for d in {r["data"] for r in rows}}
        chances.update({_data_name(d): v for d, v in chance.items()})
        for r in rows:
            loss = f"{', '.join(f'{x:.2f}' for x in r['losses'][:3])} → {r['losses'][-1]:.2f}"
            left = left_chance(r["losses"], chance[r["data"]])
            leaves = _share(left)
            out.append(f"| {_data_name(r['data'])} ({r['n_validation']} val.) | {_training_pairs(r)} | {path} "
                       f"| {m['cpu']} ({', '.join(m['cpu_flags'])}) | {r['seed']} | {r['wall_s']:.0f} s | "
                       f"{r['accuracy']:.4f} | {r['f1']:.4f} | {loss} | {'yes' if r['loss_falls_in_first_quarter'] else 'no'} "
                       f"| {leaves} | {_first_evaluation(r)} |")
        s = summarize(rows, header)
        sentences.append(f"`{log.name}` ({header['started']}): mean accuracy {s['accuracy_mean']:.4f} ± "
                         f"{s['accuracy_std']:.4f} over {s['runs']} run(s), mean {s['wall_s_mean']:.0f} s from Start "
                         f"to exit (max {s['wall_s_max']:.0f} s); the machine was "
                         + ("quiet" if s["quiet"] else f"shared with other jobs (load average up to "
                                                      f"{s['max_load_average']:.1f} on {m['cores']} cores)") + ".")
    sentences.append(f"*Leaves chance at*: the first log at which the training loss, averaged over {WINDOW} logs, lies "
                     f"{UNDER_CHANCE} under the chance loss of the real training pairs (always answering their label shares: "
                     + ", ".join(f"{v:.2f} on the {d}" for d, v in chances.items())
                     + "), as a share of the run's logs. *Falls in 1st "
                     f"quarter*: a log in the first quarter {FALL} under the first log (which a new head settling to "
                     "chance from its random start also gives).")
    return "\n".join(out + [""] + sentences)


def write_readme(readme: Path, logs: list[Path]) -> None:
    replace_block(readme, START, END, markdown(logs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--data", default="sample", help="'sample' (the offline default) or an MRPC folder")
    parser.add_argument("--no-bf16", action="store_true", help="the fp32-only path (STUDIO_CPU_BF16=off)")
    parser.add_argument("--flags", default="", help="extra training flags laid over the preset (exploring a "
                        "change before it goes into the preset), e.g. '--learning_rate 2e-4'; logged in the header")
    parser.add_argument("--log", help="append the header and each run here as JSON lines")
    parser.add_argument("--summarize", help="print the summary of a log and exit")
    parser.add_argument("--write", nargs="+", metavar=("README", "LOG"),
                        help="replace the README's Quick-look block with the table of these logs, and exit")
    args = parser.parse_args()
    if args.write:
        write_readme(Path(args.write[0]), [Path(p) for p in args.write[1:]])
        return 0
    if args.summarize:
        lines = [json.loads(x) for x in Path(args.summarize).read_text().splitlines() if x.strip()]
        summary = summarize([x for x in lines if "seed" in x], next(x for x in lines if "machine" in x))
        print(json.dumps(summary))
        return 0
    header = {"machine": hardware.describe_machine("cpu"), "fp32_only_path": args.no_bf16,
              "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_average_at_start": os.getloadavg()[0],
              **({"flags": args.flags} if args.flags else {})}
    print(f"[bench] machine: {header['machine']}; fp32-only path: {args.no_bf16}", flush=True)
    log = Path(args.log) if args.log else None
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(json.dumps(header) + "\n")
    work = Path(tempfile.mkdtemp(prefix="bench-quick-"))
    rows, chance = [], chance_loss(args.data)
    for seed in (int(s) for s in args.seeds.split(",")):
        row = one_run(seed, args.data, args.no_bf16, work, args.flags.split())
        rows.append(row)
        if log:
            with log.open("a") as f:
                f.write(json.dumps(row) + "\n")
        print(f"[bench] seed {seed}: {row['wall_s']:.0f} s, accuracy {row['accuracy']:.4f} on "
              f"{row['n_validation']} pairs ({row['precision']}), loss {row['losses'][:3]}…{row['losses'][-2:]}, "
              f"leaves chance at {_share(left_chance(row['losses'], chance))}, validation after each quarter: "
              f"{row['evaluations']}", flush=True)
    print(json.dumps(summarize(rows, header)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
