"""Benchmark: transformers.pipeline("text-classification") against our Predictor on the same checkpoint.

Usage: python bench/predict_speed.py [--single 300] [--batch 512] [--rounds 5] [--model FOLDER] [--out FILE]
The checkpoint is the packaged all-MiniLM-L6-v2 with a fresh, seeded 2-label head (random weights time the same
as trained ones), or --model, a trained run folder. Pairs: the real MRPC training pairs from ../shared when
present, else the bundled sample. Our Predictor is loaded exactly as the app loads it, so its fast path (ONNX
Runtime int8/fp32) serves only if it passed the accuracy gate on the validation pairs; the gate's verdict is in
the output. Three contenders run side by side in one process: the pipeline, our PyTorch path and our serving
path. Every measurement interleaves them (A, B, C, A, B, C, ...) and is repeated in --rounds rounds, so load
from other processes hits all alike; ratios are medians of per-round ratios. Single pairs are also timed in blocks
(each contender answers a round's pairs in a row, the blocks alternating), as a server answers one request after
another, beside the per-request headline. Last, the CPU's ceiling: the model's FLOPs over its measured matmul
rate, for the batch and for a single pair. The last line printed is JSON with single_p50_ratio (pipeline p50 /
ours), single_steady_ratio (the same in blocks) and batch_ratio (our pairs/s / pipeline pairs/s).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from trainer_backend import data, serving, settings
from trainer_backend.modeling import ID2LABEL, LABEL2ID
from ui.messages import serving_reason

MRPC_DIR = ROOT.parent / "shared" / "data" / "mrpc"
EXPLAIN_PAIRS = [("The company's profit rose 12 percent in the third quarter.",
                  "The company's profit rose 21 percent in the third quarter."),
                 ("Heavy snow forced the airport to cancel dozens of flights.",
                  "Dozens of flights were called off after a heavy snowfall hit the airport."),
                 ("The minister said the fuel tax would be raised in April.",
                  "The minister said the fuel tax would not be raised in April.")]


def load_pairs() -> tuple[list[tuple[str, str]], str]:
    """Real MRPC pairs when the shared copy exists, else the bundled sample."""
    if (MRPC_DIR / "msr_paraphrase_train.txt").is_file():
        dd, source = data.from_mrpc_folder(MRPC_DIR), "MRPC msr_paraphrase_train.txt"
    else:
        dd, source = data.sample(), "bundled sample"
    ds = dd["train"]
    return list(zip(ds["sentence1"], ds["sentence2"])), source


def build_checkpoint(folder: Path) -> Path:
    """The packaged MiniLM with a seeded, untrained 2-label head, saved like a studio run."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = str(settings.packaged_model_dir())
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=2, id2label=ID2LABEL,
                                                               label2id=LABEL2ID)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    facts = {"hyperparameters": {"max_length": 128}}
    if MRPC_DIR.is_dir():  # the accuracy gate then checks on MRPC's 408 held-out pairs, not the 80-pair sample
        facts["data"] = f"local MRPC folder {MRPC_DIR.resolve()} (train 3,668, validation 408)"
    (folder / "studio_run.json").write_text(json.dumps(facts))
    return folder


def cpu_description() -> dict:
    """Which CPU and which vector extensions it has (AVX512-BF16 or AVX2 decides bf16 and int8 speed)."""
    flags = settings.cpu_flags()
    isa = ("AVX512-BF16" if "avx512_bf16" in flags else "AVX512" if "avx512f" in flags
           else "AVX2" if "avx2" in flags else "no AVX2")
    name = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": name, "isa": isa, "vnni": bool({"avx512_vnni", "avx_vnni"} & flags), "cores": os.cpu_count()}


def ceiling(folder: Path, tokenizer, chunk: list[tuple[str, str]], pipeline_rate: float,
            singles: list[tuple[str, str]] = (), pipeline_single_ms: float | None = None) -> dict:
    """What this CPU could do at best: the model's FLOPs per pair (real tokens, no padding) against the machine's
    measured matmul rate of an encoder-shaped matmul in fp32, bf16 (where native) and int8. The ratio ceilings say
    how far above the pipeline any engine of that precision could go on this machine: on the batch (pairs/s), and
    for a single pair (the median single request's FLOPs at that rate: a floor on its time, overheads left out)."""
    from bench import hardware

    config = json.loads((folder / "config.json").read_text())

    def flops(pair: tuple[str, str]) -> float:
        n = len(tokenizer(*pair, truncation=True, max_length=128)["input_ids"])
        return hardware.inference_flops_per_token(config, n) * n

    lengths = [len(tokenizer(a, b, truncation=True, max_length=128)["input_ids"]) for a, b in chunk]
    mean_len = statistics.fmean(lengths)
    flops_per_pair = hardware.inference_flops_per_token(config, mean_len) * mean_len
    single_flops = statistics.median(flops(p) for p in singles) if singles else None
    peaks = {"fp32": hardware.linear_peak("fp32"), "int8": hardware.int8_matmul_peak()}
    if settings.cpu_has_fast_bf16():
        peaks["bf16"] = hardware.linear_peak("bf16")
    out = {"tokens_per_pair": round(mean_len, 1), "gflop_per_pair": round(flops_per_pair / 1e9, 3),
           "pipeline_gflops": round(pipeline_rate * flops_per_pair / 1e9, 1)}
    if single_flops:
        out["single_gflop_per_pair"] = round(single_flops / 1e9, 3)
    for name, peak in peaks.items():
        out[f"{name}_peak_gops"] = round(peak, 1)
        out[f"{name}_ceiling_pairs_per_s"] = round(peak * 1e9 / flops_per_pair, 1)
        out[f"{name}_ceiling_ratio"] = round(peak * 1e9 / flops_per_pair / pipeline_rate, 2)
        if single_flops and pipeline_single_ms:
            floor_ms = single_flops / (peak * 1e9) * 1000
            out[f"{name}_single_floor_ms"] = round(floor_ms, 2)
            out[f"{name}_single_ceiling_ratio"] = round(pipeline_single_ms / floor_ms, 2)
    return out


BATCH_PAIRS = 512  # pairs in the batch test (--batch)


def single_pairs(pairs: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """The `n` pairs sent one at a time (every 7th, wrapping): the same in every bench that compares with these."""
    return [pairs[(i * 7) % len(pairs)] for i in range(n)]


def batch_chunk(pairs: list[tuple[str, str]], n: int = BATCH_PAIRS) -> list[tuple[str, str]]:
    """The `n` pairs of the batch test (every 13th, wrapping)."""
    return [pairs[(i * 13) % len(pairs)] for i in range(n)]


def time_singles(contenders: dict, pairs: list[tuple[str, str]], rounds: int, single: int) -> tuple:
    """Single-pair requests: per request, the contenders interleaved (p50, p90 and per-round ratios), then the
    same pairs in blocks (steady p50); also returns the pairs timed."""
    singles = {k: [] for k in contenders}
    round_ratios, per_round = [], max(1, single // rounds)
    chosen = single_pairs(pairs, rounds * per_round)
    for r in range(rounds):
        this = {k: [] for k in contenders}
        for pair in chosen[r * per_round:(r + 1) * per_round]:
            for name, fn in contenders.items():
                this[name].append(timed(lambda: fn([pair])))
        for name in contenders:
            singles[name] += this[name]
        round_ratios.append(statistics.median(this["pipeline"]) / statistics.median(this["ours"]))
    p50 = {k: statistics.median(v) * 1000 for k, v in singles.items()}
    p90 = {k: statistics.quantiles(v, n=10)[-1] * 1000 for k, v in singles.items()}
    # The same single pairs in blocks (a contender answers a block of requests in a row, then the next; the blocks
    # still alternate, round after round): as a server answers requests one after another with one engine. Per
    # request, every answer of ours follows two PyTorch calls, whose OpenMP threads keep spinning on the cores for a
    # while and slow the next engine; reported beside the headline ratio, which stays the per-request one.
    steady = {k: [] for k in contenders}
    for r in range(rounds):
        block = chosen[r * per_round:(r + 1) * per_round]
        for name, fn in contenders.items():
            fn([block[0]])  # the block's first call pays for the previous contender's threads: untimed
            steady[name] += [timed(lambda: fn([pair])) for pair in block]
    steady_p50 = {k: statistics.median(v) * 1000 for k, v in steady.items()}
    return p50, p90, round_ratios, steady_p50, chosen


@contextlib.contextmanager
def counting_close_calls(backend, into: dict, key: str):
    """For int8 with close calls in fp32 (a backend that counts them): the share of rows fp32 answered again while
    the block ran, stored as into[key]; nothing for other engines."""
    counts = hasattr(backend, "rechecked")
    if counts:
        backend.rows = backend.rechecked = 0
    yield
    if counts:
        into[key] = round(backend.rechecked / max(backend.rows, 1), 3)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=300, help="single-pair requests per contender")
    parser.add_argument("--batch", type=int, default=BATCH_PAIRS, help="pairs in the batch test")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the single and batch tests")
    parser.add_argument("--model", help="a trained checkpoint folder (default: MiniLM with a random head)")
    parser.add_argument("--out", help="also write the JSON result to this file")
    parser.add_argument("--threads", type=int, help="threads for PyTorch and ONNX Runtime alike (default: torch's)")
    parser.add_argument("--no-bf16", action="store_true",
                        help="the fp32-only path: treat the CPU as one without native bf16 (STUDIO_CPU_BF16=off), "
                             "so the bf16 engines are left out as on an AVX2 machine")
    args = parser.parse_args()
    if args.no_bf16:
        os.environ["STUDIO_CPU_BF16"] = "off"
        settings.hardware.cache_clear()

    import torch
    from transformers import pipeline

    if args.threads:
        torch.set_num_threads(args.threads)

    load_at_start = round(os.getloadavg()[0], 2)
    pairs, source = load_pairs()
    folder = Path(args.model) if args.model else build_checkpoint(Path(tempfile.mkdtemp(prefix="bench-predict-")))
    pipe = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device="cpu")
    start = time.perf_counter()
    ours = serving.load_predictor(serving.ModelRef(str(folder), "bench", "chosen"))
    load_s = time.perf_counter() - start
    path = ours.serving
    print(f"serving path: {path.title} ({serving_reason(path)}); load incl. export and check {load_s:.1f} s")

    def run_pipe(batch):
        return pipe([{"text": a, "text_pair": b} for a, b in batch])

    contenders = {"pipeline": run_pipe,
                  "ours_pytorch": lambda batch: ours.predict_pairs(batch, engine="pytorch"),
                  "ours": lambda batch: ours.predict_pairs(batch)}

    # the same answers first: otherwise the timing would compare different work
    sample = pairs[:64]
    theirs = pipe([{"text": a, "text_pair": b} for a, b in sample], top_k=None)
    p_theirs = [{d["label"]: d["score"] for d in t}["paraphrase"] for t in theirs]
    diffs = {}
    for name, engine in (("pytorch_fp32", "pytorch-fp32"), ("pytorch", "pytorch"), ("serving", "serving")):
        got = ours.predict_pairs(sample, engine=engine)
        diffs[name] = round(max(abs(p - o.confidences["paraphrase"]) for p, o in zip(p_theirs, got)), 6)

    for i in range(10):  # warm-up
        for fn in contenders.values():
            fn([pairs[i]])
    rechecked: dict = {}  # int8 with close calls in fp32: the share of rows fp32 answered again
    with counting_close_calls(ours.fast, rechecked, "single"):
        p50, p90, round_ratios, steady_p50, single_pairs = time_singles(contenders, pairs, args.rounds, args.single)

    chunk = batch_chunk(pairs, args.batch)
    rates = {k: [] for k in contenders}
    batch_ratios = []
    with counting_close_calls(ours.engine_for(len(chunk)), rechecked, "batch"):
        for _ in range(args.rounds):
            got = {name: len(chunk) / timed(lambda: fn(chunk)) for name, fn in contenders.items()}
            for name, rate in got.items():
                rates[name].append(rate)
            batch_ratios.append(got["ours"] / got["pipeline"])
    pipe32 = len(chunk) / timed(lambda: pipe([{"text": a, "text_pair": b} for a, b in chunk], batch_size=32))

    # a burst of 16 single requests arriving together: the pipeline answers them one by one, the app's
    # batch=True endpoint hands them to one predict_pairs call
    burst = chunk[:16]
    burst_pipe, burst_ours = [], []
    for _ in range(args.rounds):
        burst_pipe.append(timed(lambda: [run_pipe([p]) for p in burst]))
        burst_ours.append(timed(lambda: ours.predict_pairs(burst)))

    from trainer_backend.serving.explain import explain_pair

    explain_pair(ours, *EXPLAIN_PAIRS[0])  # warm-up
    explain_s = [explain_pair(ours, a, b).seconds for a, b in EXPLAIN_PAIRS for _ in range(2)]

    checks = [{"engine": c.engine, "agreement": round(c.agreement, 4), "accuracy": round(c.accuracy, 4),
               "reference_accuracy": round(c.reference_accuracy, 4), "pairs": c.pairs, "passed": c.passed,
               "pairs_per_s": round(c.pairs_per_s, 1), "single_ms": round(c.single_ms, 2)}
              for c in path.checks]
    result = {
        "model": f"checkpoint {folder.name}" if args.model else "all-MiniLM-L6-v2 + random 2-label head",
        "pairs": source, "device": settings.hardware().describe(), **cpu_description(),
        "torch_threads": torch.get_num_threads(), "bf16_pytorch_path": ours.use_bf16,
        "serving": path.engine, "batch_engine": path.batch_engine, "gate_data": path.data, "gate_checks": checks, "load_s": round(load_s, 1),
        "max_prob_diff_vs_pipeline": diffs, "rounds": args.rounds,
        "single_p50_ms": {k: round(v, 2) for k, v in p50.items()},
        "single_p90_ms": {k: round(v, 2) for k, v in p90.items()},
        "single_round_ratios": [round(x, 3) for x in round_ratios],
        "single_steady_p50_ms": {k: round(v, 2) for k, v in steady_p50.items()},
        "single_steady_ratio": round(steady_p50["pipeline"] / steady_p50["ours"], 3),
        "batch_pairs_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
        "batch_pairs_per_s_best": {k: round(max(v), 1) for k, v in rates.items()},
        "pipeline_batch_size_32_pairs_per_s": round(pipe32, 1),
        "batch_round_ratios": [round(x, 3) for x in batch_ratios],
        "burst16_ms": {"pipeline": round(statistics.median(burst_pipe) * 1000, 1),
                       "ours": round(statistics.median(burst_ours) * 1000, 1)},
        "explain_s": {"median": round(statistics.median(explain_s), 3), "max": round(max(explain_s), 3),
                      "steps": 32},
        "single_p50_ratio": round(p50["pipeline"] / p50["ours"], 3),
        "single_p50_ratio_median_of_rounds": round(statistics.median(round_ratios), 3),
        "batch_ratio": round(statistics.median(batch_ratios), 3),
        "load_avg_1min": round(os.getloadavg()[0], 2), "load_avg_at_start": load_at_start,
    }
    result["burst16_ratio"] = round(result["burst16_ms"]["pipeline"] / result["burst16_ms"]["ours"], 3)
    result["fp32_only_path"] = bool(args.no_bf16)
    if rechecked:
        result["close_calls_in_fp32"] = rechecked
    result["ceiling"] = ceiling(folder, ours.tokenizer, chunk, result["batch_pairs_per_s"]["pipeline"], single_pairs,
                                steady_p50["pipeline"])
    print(f"pairs: {source}; {result['cpu']} ({result['isa']}); answers vs pipeline within {diffs}")
    print("single pair p50: " + ", ".join(f"{k} {v:.2f} ms" for k, v in p50.items())
          + f" -> ratio {result['single_p50_ratio']} (per round {result['single_round_ratios']})")
    print("single pair p50 in blocks: " + ", ".join(f"{k} {v:.2f} ms" for k, v in steady_p50.items())
          + f" -> ratio {result['single_steady_ratio']}")
    print(f"batch of {len(chunk)}: " + ", ".join(f"{k} {v} pairs/s" for k, v in result["batch_pairs_per_s"].items())
          + f" (pipeline batch_size=32: {pipe32:.1f}) -> ratio {result['batch_ratio']}")
    print(f"explain: median {result['explain_s']['median']} s; load average {result['load_avg_1min']}")
    print(f"ceiling on this CPU (batch): {result['ceiling']}")
    line = json.dumps(result)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
