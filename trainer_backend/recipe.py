"""The default recipe for the hardware: batch size, learning rate, precision, grouping, logging cadence."""
from __future__ import annotations

import math
from dataclasses import dataclass

from trainer_backend import settings
from trainer_backend.config import TrainConfig
from trainer_backend.notes import BatchSize, CheckpointsPerEpoch, Fp16OnCpu, LearningRates, Note, PrecisionChosen


@dataclass
class Resolved:
    """Concrete values for every 'auto' in a TrainConfig, plus a typed note of each choice (words: wording/)."""

    batch_size: int
    learning_rate: float
    precision: str
    notes: list[Note]
    head_learning_rate: float | None = None   # None: the whole model at learning_rate (the plain Trainer)


def default_batch_size(hw: settings.Hardware) -> int:
    """32 keeps a GPU busy. On CPU, length grouping already removes the padding, so small batches cost little
    speed, and what MiniLM needs first is optimizer steps: it sits at the majority class until ~100 updates
    (at 32 a 3-epoch run stalled there; at 16, 75 steps over 400 MRPC pairs still did). 8 doubles the steps of 16."""
    return 32 if hw.is_gpu else 8


def default_learning_rate(model_name: str) -> float:
    """5e-5, the Trainer default: 1e-4 and 2e-4 made MiniLM collapse to the majority class on MRPC."""
    return 5e-5


def head_learning_rate(lr: float, factor: float) -> float | None:
    """The freshly initialised classifier (and the pooler feeding it) learn at `factor` x the encoder's rate;
    None when the factor is 1 (one rate for everything: the plain Trainer's optimizer).

    Why 20 by default (config.DEFAULT_HEAD_LR_FACTOR): with one rate for everything, 5e-5 is right for the
    pretrained encoder but leaves the random head crawling, so the loss sat at chance for the first epochs on the
    sample; a 20x head rate gets it out of that flat start in a few dozen steps while the encoder keeps its safe
    5e-5 (raising the rate of everything made MiniLM collapse to the majority class). The measurements behind
    this live in bench/ and the README's tables."""
    return None if factor == 1 else lr * factor


def applied_learning_rates(cfg: TrainConfig, model_name: str = "") -> tuple[float, float]:
    """(encoder, head) learning rates a run of `cfg` trains with: the same whether learning_rate is typed or
    left empty (the head rate equals the encoder's when the factor is 1)."""
    lr = cfg.learning_rate or default_learning_rate(model_name)
    head = head_learning_rate(lr, cfg.head_lr_factor)
    return lr, lr if head is None else head


def auto_precision_choice(hw: settings.Hardware) -> PrecisionChosen:
    """What precision 'auto' becomes on this hardware: the one fact the run's notes and the Train tab's
    environment panel both show (its words: wording.run_notes.precision_why)."""
    return PrecisionChosen(precision=settings.auto_precision(hw), gpu=hw.is_gpu)


def checkpoints_per_epoch(cfg: TrainConfig, hw: settings.Hardware) -> bool:
    """Whether the run saves its checkpoint (model, optimizer and scheduler: what Resume needs) once per epoch
    rather than at each evaluation: on a GPU, when evaluations come every few steps.

    Measured on an H200 (README, GPU): 3 epochs of a bert-base-sized encoder on MRPC-sized data took 57 s with a
    checkpoint (1.3 GB) at each of its 10 evaluations, 30-36 s with one per epoch and 32-37 s with none; on a CPU
    a save is a small part of a step-bound run. Stop and the time limit still save one at the step they end, so a
    resumed run loses nothing; only a crash goes back to the last epoch's."""
    return hw.is_gpu and cfg.eval_strategy == "steps"


def save_strategy(cfg: TrainConfig, hw: settings.Hardware) -> str:
    """The Trainer's save_strategy: the evaluation cadence (so each checkpoint has its scores), once per epoch
    when the run does not evaluate or when checkpoints_per_epoch says so."""
    return "epoch" if cfg.eval_strategy == "no" or checkpoints_per_epoch(cfg, hw) else cfg.eval_strategy


def resolve(cfg: TrainConfig, model_name: str, hw: settings.Hardware | None = None) -> Resolved:
    """Fill in batch size, learning rate and precision for this machine."""
    hw = hw or settings.hardware()
    notes: list[Note] = []
    batch = cfg.per_device_train_batch_size or default_batch_size(hw)
    if not cfg.per_device_train_batch_size:
        notes.append(BatchSize(batch=batch, gpu=hw.is_gpu))
    lr = cfg.learning_rate or default_learning_rate(model_name)
    head_lr = head_learning_rate(lr, cfg.head_lr_factor)
    notes.append(LearningRates(encoder=lr, head=head_lr, factor=cfg.head_lr_factor))
    precision = cfg.precision
    if precision == "auto":
        chosen = auto_precision_choice(hw)
        precision = chosen.precision
        notes.append(chosen)
    elif precision == "fp16" and hw.device == "cpu":
        notes.append(Fp16OnCpu())
        precision = "bf16"
    if checkpoints_per_epoch(cfg, hw):
        notes.append(CheckpointsPerEpoch())
    return Resolved(batch, lr, precision, notes, head_lr)


def steps_per_epoch(n_train: int, batch: int, accumulation: int = 1) -> int:
    return max(1, math.ceil(n_train / batch / accumulation))


def total_steps(cfg: TrainConfig, n_train: int, batch: int) -> int:
    if cfg.max_steps > 0:
        return cfg.max_steps
    return max(1, math.ceil(steps_per_epoch(n_train, batch, cfg.gradient_accumulation_steps) * cfg.num_train_epochs))


def logging_steps(cfg: TrainConfig, steps: int) -> int:
    """About 40 training-loss points per run, never fewer than ~20 when the run has them."""
    if cfg.logging_steps:
        return cfg.logging_steps
    return max(1, steps // 40)
