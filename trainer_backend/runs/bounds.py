"""What bounds one run: its size on a Space (tokens per optimizer step, validation pairs), and why it was stopped
(the reasons the app's watchdog and the training process share, and the one sentence its owner reads)."""
from __future__ import annotations

from pathlib import Path

from trainer_backend import recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.runs.store import last_checkpoint

OWNER = "owner"            # its owner pressed Stop
TIME_LIMIT = "time limit"  # it ran past settings.limits().run_seconds


class RunTooLarge(ValueError):
    """A run whose single step or validation pass is beyond this app's bounds; the message says which and how."""


def step_tokens(cfg: TrainConfig) -> int:
    """Tokens one optimizer step may process at most: batch × gradient accumulation × max_length (an empty batch
    is the one the recipe picks for this machine)."""
    batch = cfg.per_device_train_batch_size or recipe.default_batch_size(settings.hardware())
    return batch * cfg.gradient_accumulation_steps * cfg.max_length


def bounded(cfg: TrainConfig) -> TrainConfig:
    """The run as this app may start it: refused (RunTooLarge) when one optimizer step holds more tokens than
    STUDIO_STEP_TOKENS or it asks for more validation pairs than STUDIO_EVAL_SAMPLES; an empty validation cap
    becomes that limit (MRPC's 408 pairs fit whole). Limits of 0 (the local default) bound nothing."""
    lim = settings.limits()
    tokens = step_tokens(cfg)
    if lim.step_tokens and tokens > lim.step_tokens:
        raise RunTooLarge(
            f"One optimizer step of {cfg.per_device_train_batch_size or 'auto'} pairs × "
            f"{cfg.gradient_accumulation_steps} accumulated × {cfg.max_length} tokens is {tokens:,} tokens per "
            f"optimizer step, above this app's {lim.step_tokens:,}: lower the batch size, the gradient "
            "accumulation or the max tokens per pair.")
    if lim.eval_samples and (cfg.max_eval_samples or 0) > lim.eval_samples:
        raise RunTooLarge(f"{cfg.max_eval_samples:,} validation pairs is above this app's {lim.eval_samples:,} "
                          "validation pairs per run: lower Max validation pairs.")
    if lim.eval_samples and cfg.max_eval_samples is None:
        return cfg.replace(max_eval_samples=lim.eval_samples)
    return cfg


def stop_message(reason: str | None, output_dir: str | Path, limit_seconds: float | None = None) -> str:
    """Why a run stopped and what its owner can do now (Resume from the newest complete checkpoint, if any)."""
    if reason == TIME_LIMIT:
        limit = f" of {limit_seconds / 60:g} min" if limit_seconds else ""
        why = f"Stopped: time limit{limit} per run reached"
    else:
        why = "Stopped by its owner"
    ckpt = last_checkpoint(output_dir)
    then = f"Resume continues from {ckpt.name}" if ckpt else "no checkpoint was saved yet, so start it again"
    return f"{why}; {then}."
