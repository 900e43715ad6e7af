"""Benchmark: the plain seed recipe vs the app's default recipe, same model and data, in one run; prints the ratio.

Usage (CPU, packaged MiniLM, real MRPC pairs):
    python bench/train_speed.py --data ../shared/data/mrpc
GPU path (bert-base-sized random weights are fine for timing):
    python bench/train_speed.py --data ../shared/data/mrpc --model bert-base-random --device cuda
Both recipes evaluate once per epoch here, so the ratio measures the training switches alone.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def bert_base_random(folder: Path) -> str:
    """A bert-base-sized encoder with random weights and the packaged tokenizer (timing only)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from trainer_backend.settings import packaged_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir()))
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def recipes(epochs: float):
    from trainer_backend.config import TrainConfig

    common = dict(num_train_epochs=epochs, eval_strategy="epoch")
    seed = TrainConfig(**common, learning_rate=5e-5, per_device_train_batch_size=8, precision="fp32",
                       group_by_length=False, freeze_embeddings=False)
    ours = TrainConfig(**common)  # every other knob "auto": the app's default recipe for this hardware
    return {"seed": seed, "ours": ours}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/mrpc", help="MRPC folder, file, 'sample' or glue/mrpc")
    parser.add_argument("--model", default="packaged", help="model id/folder, 'packaged' or 'bert-base-random'")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--seeds", default="42", help="comma-separated seeds; each recipe runs once per seed")
    parser.add_argument("--max-train", type=int, default=None, help="cap on training pairs (quick checks)")
    parser.add_argument("--only", choices=["seed", "ours"], default=None)
    args = parser.parse_args()

    if args.device == "cpu":
        os.environ["STUDIO_FORCE_CPU"] = "1"
    from trainer_backend.train import run_training

    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    model = bert_base_random(work / "bert-base-random") if args.model == "bert-base-random" else args.model
    results: dict[str, list[dict]] = {"seed": [], "ours": []}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name, cfg in recipes(args.epochs).items():
            if args.only and name != args.only:
                continue
            cfg = cfg.replace(model_name_or_path=model, dataset=args.data, seed=seed,
                              max_train_samples=args.max_train, output_dir=str(work / f"{name}-{seed}"))
            out = run_training(cfg).metrics
            row = {k: out[k] for k in ("train_samples_per_second", "train_runtime", "eval_accuracy", "eval_f1")}
            results[name].append(row)
            print(f"[bench] {name:4s} seed {seed}: {row['train_samples_per_second']:.1f} samples/s, "
                  f"{row['train_runtime']:.1f} s, accuracy {row['eval_accuracy']:.4f}, F1 {row['eval_f1']:.4f}",
                  flush=True)

    def agg(name: str, key: str) -> tuple[float, float]:
        vals = [r[key] for r in results[name]]
        return statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0

    summary = {"model": args.model, "data": args.data, "device": args.device, "epochs": args.epochs}
    for name in results:
        if results[name]:
            for key in ("train_samples_per_second", "train_runtime", "eval_accuracy", "eval_f1"):
                summary[f"{name}_{key}"], summary[f"{name}_{key}_std"] = agg(name, key)
    if results["seed"] and results["ours"]:
        summary["speed_ratio"] = summary["ours_train_samples_per_second"] / summary["seed_train_samples_per_second"]
        summary["accuracy_delta_points"] = 100 * (summary["ours_eval_accuracy"] - summary["seed_eval_accuracy"])
        print(f"[bench] ours / seed recipe: {summary['speed_ratio']:.2f}x samples/s, "
              f"accuracy {summary['accuracy_delta_points']:+.2f} points")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
