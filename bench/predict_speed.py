"""Benchmark: transformers.pipeline("text-classification") against our Predictor on the same checkpoint.

Usage: python bench/predict_speed.py [--single 200] [--batch 512] [--rounds 3]
The checkpoint is the packaged all-MiniLM-L6-v2 with a fresh 2-label head (random weights time the
same as trained ones). Pairs: the real MRPC training pairs from ../shared when present, else the
bundled sample. Single-pair latency is measured interleaved (pipeline, ours, pipeline, ...) so that
load from other processes hits both alike; batch throughput takes the best of several rounds.
The last line printed is JSON with single_p50_ratio (pipeline p50 / ours) and batch_ratio
(our pairs/s / pipeline pairs/s); burst16_ratio shows what batching visitors' requests buys.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from trainer_backend import data, inference, settings  # noqa: E402
from trainer_backend.modeling import ID2LABEL, LABEL2ID  # noqa: E402

MRPC_FILE = ROOT.parent / "shared" / "data" / "mrpc" / "msr_paraphrase_train.txt"


def load_pairs() -> tuple[list[tuple[str, str]], str]:
    """Real MRPC pairs when the shared copy exists, else the bundled sample."""
    if MRPC_FILE.is_file():
        dd = data.from_mrpc_folder(MRPC_FILE.parent)
        source = f"MRPC {MRPC_FILE.name}"
    else:
        dd = data.sample()
        source = "bundled sample"
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
    (folder / "studio_run.json").write_text(json.dumps({"hyperparameters": {"max_length": 128}}))
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=200, help="single-pair requests per method")
    parser.add_argument("--batch", type=int, default=512, help="pairs in the batch test")
    parser.add_argument("--rounds", type=int, default=3, help="batch rounds per method (best counts)")
    args = parser.parse_args()

    import torch
    from transformers import pipeline

    pairs, source = load_pairs()
    folder = build_checkpoint(Path(tempfile.mkdtemp(prefix="bench-predict-")))
    pipe = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device="cpu")
    ours = inference.load_predictor(inference.ModelRef(str(folder), "bench", "chosen"))
    as_dicts = [{"text": a, "text_pair": b} for a, b in pairs]

    # the same answers first: otherwise the timing would compare different work
    sample = pairs[:64]
    theirs = pipe([{"text": a, "text_pair": b} for a, b in sample], top_k=None)
    ours_sample = ours.predict_pairs(sample)
    diff = max(abs({d["label"]: d["score"] for d in t}["paraphrase"] - o.confidences["paraphrase"])
               for t, o in zip(theirs, ours_sample))

    for i in range(10):  # warm-up
        pipe(as_dicts[i])
        ours.predict_pairs([pairs[i]])
    t_pipe, t_ours = [], []
    for i in range(args.single):
        a, b = pairs[(i * 7) % len(pairs)]
        start = time.perf_counter()
        pipe({"text": a, "text_pair": b})
        t_pipe.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours.predict_pairs([(a, b)])
        t_ours.append(time.perf_counter() - start)
    p50_pipe, p50_ours = statistics.median(t_pipe) * 1000, statistics.median(t_ours) * 1000

    chunk = [pairs[(i * 13) % len(pairs)] for i in range(args.batch)]
    chunk_dicts = [{"text": a, "text_pair": b} for a, b in chunk]
    best_pipe = best_pipe32 = best_ours = 0.0
    for _ in range(args.rounds):
        start = time.perf_counter()
        pipe(chunk_dicts)
        best_pipe = max(best_pipe, len(chunk) / (time.perf_counter() - start))
        start = time.perf_counter()
        ours.predict_pairs(chunk)
        best_ours = max(best_ours, len(chunk) / (time.perf_counter() - start))
        start = time.perf_counter()
        pipe(chunk_dicts, batch_size=32)
        best_pipe32 = max(best_pipe32, len(chunk) / (time.perf_counter() - start))

    # a burst of 16 single requests arriving together: the pipeline answers them one by one, the app's
    # batch=True endpoint hands them to one predict_pairs call
    burst = chunk[:16]
    best_burst_pipe = best_burst_ours = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        for a, b in burst:
            pipe({"text": a, "text_pair": b})
        best_burst_pipe = min(best_burst_pipe, time.perf_counter() - start)
        start = time.perf_counter()
        ours.predict_pairs(burst)
        best_burst_ours = min(best_burst_ours, time.perf_counter() - start)

    result = {
        "model": "all-MiniLM-L6-v2 + 2-label head", "pairs": source, "device": settings.hardware().describe(),
        "torch_threads": torch.get_num_threads(), "bf16": ours.use_bf16, "max_prob_diff": round(diff, 6),
        "single_p50_ms": {"pipeline": round(p50_pipe, 2), "ours": round(p50_ours, 2)},
        "batch_pairs_per_s": {"pipeline": round(best_pipe, 1), "ours": round(best_ours, 1),
                              "pipeline_batch_size_32": round(best_pipe32, 1)},
        "burst16_ms": {"pipeline": round(best_burst_pipe * 1000, 1), "ours": round(best_burst_ours * 1000, 1)},
        "burst16_ratio": round(best_burst_pipe / best_burst_ours, 3),
        "single_p50_ratio": round(p50_pipe / p50_ours, 3), "batch_ratio": round(best_ours / best_pipe, 3),
    }
    print(f"pairs: {source}; device: {result['device']}; answers agree within {diff:.2e}")
    print(f"single pair p50: pipeline {p50_pipe:.2f} ms, ours {p50_ours:.2f} ms "
          f"-> ratio {result['single_p50_ratio']}")
    print(f"batch of {len(chunk)}: pipeline {best_pipe:.1f} pairs/s (batch_size=32: {best_pipe32:.1f}), "
          f"ours {best_ours:.1f} pairs/s -> ratio {result['batch_ratio']}")
    print(f"16 simultaneous single requests: pipeline {best_burst_pipe * 1000:.0f} ms one by one, ours "
          f"{best_burst_ours * 1000:.0f} ms batched -> ratio {result['burst16_ratio']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
