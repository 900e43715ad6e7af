"""ETA before Start: from the measured pace of past runs on this machine, else from a quick speed probe."""
from __future__ import annotations

import functools
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from trainer_backend import recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.data import LoadedData, load_data, resolve_dataset
from trainer_backend.easy_pairs import how_many
from trainer_backend.modeling import resolve_model
from trainer_backend.runs.store import RunStore

# Training and validation sizes of the named GLUE tasks (MNLI: its matched validation split), so the ETA of a Hub
# task needs no download; and the mean BERT tokens of one example, which a step's cost follows. MRPC's 55 was
# measured on its training pairs; the others are rough figures from the tasks' typical lengths (short phrases for
# SST-2 and CoLA, a paragraph and a sentence for RTE), not measured here (no network).
KNOWN_SIZES = {"glue/mrpc": (3668, 408), "glue/sst2": (67349, 872), "glue/rte": (2490, 277),
               "glue/qnli": (104743, 5463), "glue/mnli": (392702, 9815), "glue/cola": (8551, 1043)}
MEAN_PAIR_TOKENS = 55          # MRPC pairs average ~53 BERT tokens; length grouping keeps padding near zero
MEAN_TOKENS = {"glue/sst2": 13, "glue/cola": 11, "glue/rte": 70, "glue/qnli": 50, "glue/mnli": 40}
CHARS_PER_TOKEN = 4.5          # English text in a BERT WordPiece vocabulary, for data whose length is counted here
EFFICIENCY = 1.0               # training steps reach about the probed matmul speed (fused kernels, measured on CPU)
STARTUP_SECONDS = 12           # process start, imports, model and data loading
# Calibrated on this project's quiet-machine runs (2-core AMD EPYC with AVX512-BF16, MiniLM, batch 8; README
# Benchmarks): the seed recipe (random order, fp32) trained 27.0 samples/s where the probe predicts 59.9 at full
# efficiency (0.45 = RANDOM_ORDER x SMALL_BATCH); a length-grouped fp32 Quick look 33.3 (0.56 = GROUPED x
# SMALL_BATCH); bf16 autocast 70.5 and 76.3 samples/s against fp32's 33.3 (x2.1-2.3). The GPU factor is unmeasured.
RANDOM_ORDER = 0.6
GROUPED = 0.74
SMALL_BATCH = 0.75
CPU_BF16_SPEEDUP = 2.2
GPU_HALF_SPEEDUP = 2.5
# ZeroGPU: the app process may not touch CUDA, so there is no probe; an assumed effective training throughput of a
# ZeroGPU slice (H200 MIG 3g.71gb, bf16). Measured on a whole H200 (README, GPU; bench/results/gpu_h200_2026-12-04):
# the GPU default recipe on bert-base at batch 32, 3 epochs of MRPC, trained 305-372 samples/s with a checkpoint per
# epoch (490 with no checkpoints and 3 evaluations) — launch-bound (~14 TFLOP/s effective, 2% of the card), so a
# slice should lose little of it; 8.4 TFLOP/s of training work is ~300 samples/s for bert-base on ~55-token pairs.
# Runs finished there replace it with their measured pace (from_history).
ZEROGPU_TFLOPS = 8.4


@dataclass
class Estimate:
    seconds: float
    samples: int
    how: str

    def text(self) -> str:
        return f"≈ {format_duration(self.seconds)} for {self.samples:,} training samples ({self.how})"


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@functools.lru_cache(maxsize=1)
def probe_gflops() -> float:
    """Measure this machine's float32 matmul speed once (about a third of a second): the best of three short
    windows, so a moment of load (the app's own start, a page's first handlers running beside it) does not stand
    for the machine. One window of a quarter second, taken while a first page loaded, read a third of the speed and
    showed a Quick look ETA of 3 min 11 s for a run of 1.5 min. `build_app` takes it before serving."""
    import torch

    device = settings.hardware().device if settings.hardware().device == "cuda" else "cpu"
    a = torch.randn(512, 512, device=device)
    b = torch.randn(512, 512, device=device)
    (a @ b).sum().item()
    best = 0.0
    for _ in range(3):
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.1:
            (a @ b).sum().item()
            reps += 1
        best = max(best, reps * 2 * 512**3 / (time.perf_counter() - start) / 1e9)
    return best


@functools.lru_cache(maxsize=16)
def encoder_shape(model_path: str, token: str | bool | None = None) -> tuple[int, int]:
    """(non-embedding parameter count, encoder layers) from the model's config (no weights loaded; a Hub read
    sends `token`)."""
    try:
        config = json.loads((Path(model_path) / "config.json").read_text())
    except OSError:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model_path, token=token).to_dict()
    h, layers = config.get("hidden_size", 768), config.get("num_hidden_layers", 12)
    inter = config.get("intermediate_size", 4 * h)
    return layers * (4 * h * h + 2 * h * inter), layers


def train_flops_per_sample(cfg: TrainConfig, model_path: str, token: str | bool | None = None,
                           tokens: float = MEAN_PAIR_TOKENS) -> float:
    """Forward through every layer (2·N·T) and backward (4·N·T) through the trainable ones only: 6·N·T when all
    learn, less with frozen lower layers. T: the mean tokens of one example (an MRPC pair unless told)."""
    params, layers = encoder_shape(model_path, token)
    trainable = max(0, layers - cfg.frozen_layers) / max(layers, 1)
    return (2 + 4 * trainable) * params * tokens


def example_tokens(loaded: LoadedData) -> float:
    """Mean tokens of one training example: MRPC's measured figure for MRPC pairs (the sample, a folder, an upload
    of pairs), else counted from the data's characters (mean_tokens)."""
    return MEAN_PAIR_TOKENS if loaded.task.is_mrpc else mean_tokens(loaded.dataset["train"])


def mean_tokens(train) -> float:
    """About how many tokens one training example holds, from its characters (the first 2,000 examples), with
    the [CLS]/[SEP] markers; a pair counts both texts."""
    rows = train.select(range(min(2000, len(train))))
    texts = [rows[c] for c in ("sentence1", "sentence2") if c in rows.column_names]
    chars = sum(len(t) for column in texts for t in column) / max(len(rows), 1)
    return chars / CHARS_PER_TOKEN + 1 + len(texts)


def training_rows(cfg: TrainConfig, n_train: int) -> int:
    """The rows one epoch passes over: the real training pairs up to the cap, and the made-up easy pairs joined to
    them (paraphrase tasks; counted for any task, which at worst overstates a run whose task skips them)."""
    n = min(n_train, cfg.max_train_samples or n_train)
    return n + how_many(n, cfg.easy_pair_ratio)


def samples_to_train(cfg: TrainConfig, n_train: int, batch: int) -> int:
    if cfg.max_steps > 0:
        return cfg.max_steps * batch * cfg.gradient_accumulation_steps
    return int(training_rows(cfg, n_train) * cfg.num_train_epochs)


def from_history(store: RunStore, model: str, device: str, precision: str, batch: int,
                 frozen_layers: int = 0, dropout: float | None = None) -> list[float]:
    """samples/s of finished runs with the same model, device, precision, batch size, frozen layers and dropout
    (dropout off trained ~13% faster on the fp32 path: no random masks to draw; None: the checkpoint's own)."""
    pace = []
    for run in store.list(("completed",), limit=100):
        if (run.model == model and (run.device or "") == device and run.precision == precision
                and run.config.get("per_device_train_batch_size") in (batch, None)
                and run.config.get("frozen_layers", 0) == frozen_layers
                and run.config.get("dropout") == dropout and run.samples_per_second):
            pace.append(run.samples_per_second)
    return pace


def estimate(cfg: TrainConfig, n_train: int, model_path: str, model_name: str, store: RunStore | None = None,
             hw: settings.Hardware | None = None, token: str | bool | None = None,
             tokens: float = MEAN_PAIR_TOKENS) -> Estimate:
    """Seconds the run should take, and how that number was obtained."""
    hw = hw or settings.hardware()
    resolved = recipe.resolve(cfg, model_name, hw)
    samples = samples_to_train(cfg, n_train, resolved.batch_size)
    pace = (from_history(store, model_name, hw.describe(), resolved.precision, resolved.batch_size,
                         cfg.frozen_layers, cfg.dropout) if store else [])
    if pace:
        sps = statistics.median(pace)
        return Estimate(STARTUP_SECONDS + samples / sps, samples,
                        f"measured: {sps:.1f} samples/s over {len(pace)} past run(s) here")
    flops_per_sample = train_flops_per_sample(cfg, model_path, token, tokens)
    factor = GROUPED if cfg.group_by_length else RANDOM_ORDER
    factor *= SMALL_BATCH if resolved.batch_size < 16 else 1.0
    if hw.is_gpu and settings.on_zero_gpu():
        sps = ZEROGPU_TFLOPS * 1e12 * (SMALL_BATCH if resolved.batch_size < 16 else 1.0) / flops_per_sample
        return Estimate(STARTUP_SECONDS + samples / sps, samples,
                        f"assumed for a ZeroGPU slice, not yet measured on this Space: ~{sps:.0f} samples/s")
    half = resolved.precision in ("bf16", "fp16") and (hw.is_gpu or hw.bf16)
    speedup = (GPU_HALF_SPEEDUP if hw.is_gpu else CPU_BF16_SPEEDUP) if half else 1.0
    sps = probe_gflops() * 1e9 * EFFICIENCY * factor * speedup / flops_per_sample
    return Estimate(STARTUP_SECONDS + samples / sps, samples,
                    f"from a speed probe of this machine: ~{sps:.0f} samples/s expected")


def for_config(cfg: TrainConfig, store: RunStore | None = None, token: str | bool | None = None) -> Estimate:
    """The estimate of a run as queued: its model and data resolved as the run will resolve them (a Hub dataset
    other than MRPC is loaded to count its pairs; the loader caches it for the run)."""
    path, name, _ = resolve_model(cfg.model_name_or_path)
    spec, _ = resolve_dataset(cfg.dataset)
    if spec in KNOWN_SIZES:
        n_train, tokens = KNOWN_SIZES[spec][0], MEAN_TOKENS.get(spec, MEAN_PAIR_TOKENS)
    else:
        loaded = load_data(spec, cfg.sentence1_column, cfg.sentence2_column, cfg.label_column, token=token)
        n_train, tokens = len(loaded.dataset["train"]), example_tokens(loaded)
    return estimate(cfg, n_train, path, name, store, token=token, tokens=tokens)
