"""Numbers the lesson and the quiz quote, computed from the split sizes and the pinned Trainer's defaults."""
from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass

from trainer_backend.config import TrainConfig
from trainer_backend.metrics import MajorityFloor
from trainer_backend.settings import packaged_model_dir

# glue/mrpc as published on the Hub (and in the GLUE paper): pairs per split, and the validation pairs
# labelled 1 ("paraphrase"). The test labels are hidden by GLUE, so validation is all a learner can score.
GLUE_MRPC_SIZES = {"train": 3668, "validation": 408, "test": 1725}
GLUE_MRPC_VALIDATION_POSITIVES = 279
LONGEST_TRAIN_PAIR = 103  # tokens, uncased BERT vocabulary, no truncation (tests recompute it from local MRPC)
TYPICAL_ACCURACY = 0.86   # the seed article's final validation accuracy, rounded


@functools.cache
def trainer_default(name: str):
    """The default of one `TrainingArguments` field in the installed transformers (read, never typed)."""
    from transformers import TrainingArguments

    field = next(f for f in dataclasses.fields(TrainingArguments) if f.name == name)
    return field.default


@dataclass(frozen=True)
class Recipe:
    """Steps of a run from its data size and batch settings, as the Trainer counts them."""

    train_pairs: int
    batch_size: int
    epochs: float
    logging_steps: float
    drop_last: bool = False

    @property
    def steps_per_epoch(self) -> int:
        """One optimizer step per batch; the last, smaller batch counts unless it is dropped."""
        whole, rest = divmod(self.train_pairs, self.batch_size)
        return whole + (1 if rest and not self.drop_last else 0)

    @property
    def total_steps(self) -> int:
        return math.ceil(self.steps_per_epoch * self.epochs)

    @property
    def first_epoch_logged(self) -> bool:
        """Whether a training loss is logged before the first evaluation at the end of epoch 1."""
        return self.logging_steps <= self.steps_per_epoch


def seed_recipe() -> Recipe:
    """The course recipe: MRPC's training split with the Trainer's own defaults."""
    return Recipe(GLUE_MRPC_SIZES["train"], int(trainer_default("per_device_train_batch_size")),
                  float(trainer_default("num_train_epochs")), float(trainer_default("logging_steps")),
                  bool(trainer_default("dataloader_drop_last")))


def majority_floor(positives: int = GLUE_MRPC_VALIDATION_POSITIVES,
                   total: int = GLUE_MRPC_SIZES["validation"]) -> MajorityFloor:
    """Accuracy and F1 (paraphrase class) of always giving the majority answer on MRPC validation (paraphrase)."""
    return MajorityFloor(total, positives)


def pair_points(total: int = GLUE_MRPC_SIZES["validation"]) -> float:
    """How many accuracy points one validation pair is worth."""
    return 100 / total


def standard_error_points(accuracy: float = TYPICAL_ACCURACY, total: int = GLUE_MRPC_SIZES["validation"]) -> float:
    """Binomial standard error of an accuracy measured on `total` pairs, in points."""
    return 100 * math.sqrt(accuracy * (1 - accuracy) / total)


def studio_max_length() -> int:
    """The studio's truncation length (TrainConfig.max_length); the library alone truncates at the model's limit."""
    return next(f for f in dataclasses.fields(TrainConfig) if f.name == "max_length").default


def packaged_embedding_params() -> int:
    """Size of the word-embedding matrix of the packaged all-MiniLM-L6-v2 (vocabulary x hidden size)."""
    import json


    config = json.loads((packaged_model_dir() / "config.json").read_text(encoding="utf-8"))
    return int(config["vocab_size"]) * int(config["hidden_size"])


def values() -> dict[str, str]:
    """Every {{name}} the lesson and the quiz may use, formatted for prose."""
    r, floor = seed_recipe(), majority_floor()
    return {
        "train_pairs": f"{GLUE_MRPC_SIZES['train']:,}", "val_pairs": f"{GLUE_MRPC_SIZES['validation']:,}",
        "test_pairs": f"{GLUE_MRPC_SIZES['test']:,}", "batch": f"{r.batch_size}", "epochs": f"{r.epochs:g}",
        "steps_per_epoch": f"{r.steps_per_epoch}", "steps_total": f"{r.total_steps:,}",
        "logging_steps": f"{r.logging_steps:g}", "floor_acc": f"{floor.accuracy:.2f}", "floor_f1": f"{floor.f1:.2f}",
        "pair_points": f"{pair_points():.2f}", "se_points": f"{standard_error_points():.1f}",
        "typical_acc": f"{TYPICAL_ACCURACY:.0%}", "longest_pair": f"{LONGEST_TRAIN_PAIR}",
        "max_length": f"{studio_max_length()}", "warmup": f"{trainer_default('warmup_steps'):g}",
        "weight_decay": f"{trainer_default('weight_decay'):g}",
        "minilm_embedding_params": f"{packaged_embedding_params() / 1e6:.1f} million",
    }


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def fill(text: str) -> str:
    """Replace every {{name}} with its computed value; an unknown name is an error, not silent text."""
    known = values()

    def one(m: re.Match) -> str:
        if m.group(1) not in known:
            raise KeyError(f"unknown figure {{{{{m.group(1)}}}}}; known: {', '.join(sorted(known))}")
        return known[m.group(1)]

    return _PLACEHOLDER.sub(one, text)
