"""TrainConfig: every training knob in one typed dataclass, with defaults, help text and validation."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup")
STRATEGIES = ("no", "steps", "epoch")
AUTO = "auto"
DEFAULT_HEAD_LR_FACTOR = 20.0  # why 20: recipe.head_learning_rate
MAX_EASY_RATIO = 3.0  # easy pairs per real pair (easy_pairs.py): beyond it a run would mostly train the made-up task


class ConfigError(ValueError):
    """A TrainConfig value that cannot work; the message says which and why."""


@dataclass
class TrainConfig:
    """Everything a fine-tuning run needs. "auto" means: choose for this hardware and network."""

    model_name_or_path: str = field(default=AUTO, metadata={
        "help": "Hub model id or local folder. auto: bert-base-uncased on a GPU, a small BERT on CPU, "
                "the packaged all-MiniLM-L6-v2 when offline."})
    dataset: str = field(default=AUTO, metadata={
        "help": "glue/mrpc, glue/sst2, glue/rte, glue/qnli, glue/mnli, glue/cola (Hub), any Hub dataset id, 'sample' "
                "(bundled pairs), 'sample-sentiment' (bundled single sentences), a local MRPC folder or a "
                "CSV/TSV/JSONL file. auto: glue/mrpc online, else a local MRPC folder or the sample."})
    sentence1_column: str = field(default="sentence1", metadata={
        "help": "Column holding the first sentence (the only one for single-sentence data). Named GLUE tasks and "
                "the samples bring their own columns."})
    sentence2_column: str = field(default="sentence2", metadata={
        "help": "Column holding the second sentence; empty for single-sentence data."})
    text_column: Optional[str] = field(default=None, metadata={
        "help": "Single-sentence data: the column holding the text (the same as sentence1_column set to it and "
                "sentence2_column left empty)."})
    label_column: str = field(default="label", metadata={
        "help": "Column holding the label: class names or numbers (2 or more classes; 0/1, yes/no … for pairs "
                "read as paraphrase or not)."})
    max_length: int = field(default=128, metadata={"help": "Truncate each tokenized pair to this many tokens."})
    num_train_epochs: float = field(default=3.0, metadata={"help": "Passes over the training set."})
    max_steps: int = field(default=-1, metadata={"help": "If > 0, stop after this many optimizer steps (overrides epochs)."})
    learning_rate: Optional[float] = field(default=None, metadata={
        "help": "Peak learning rate of the pretrained encoder. Empty: the recipe's (5e-5, the Trainer's default)."})
    head_lr_factor: float = field(default=DEFAULT_HEAD_LR_FACTOR, metadata={
        "help": "The new head's (and pooler's) learning rate as a multiple of learning_rate: they start from random "
                "weights. 1 = one rate for the whole model, as the plain Trainer. Applied whether or not "
                "learning_rate is typed."})
    per_device_train_batch_size: Optional[int] = field(default=None, metadata={"help": "Batch size. Empty: suited to the device."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Add up gradients over this many batches before a step."})
    lr_scheduler_type: str = field(default="linear", metadata={"help": "How the learning rate changes over the run."})
    warmup_ratio: float = field(default=0.0, metadata={"help": "Fraction of steps spent ramping the learning rate up."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    eval_strategy: str = field(default="steps", metadata={"help": "When to evaluate: no, steps or epoch."})
    eval_steps: Optional[float] = field(default=0.1, metadata={
        "help": "Evaluate every N steps (eval_strategy=steps); a value below 1 is a fraction of the run."})
    logging_strategy: str = field(default="steps", metadata={"help": "When to log training loss: no, steps or epoch."})
    logging_steps: Optional[int] = field(default=None, metadata={"help": "Log every N steps. Empty: about 40 points per run."})
    seed: int = field(default=42, metadata={"help": "Random seed (the new head's initialisation, shuffling)."})
    precision: str = field(default=AUTO, metadata={"help": "auto, fp32, fp16 or bf16 (mixed precision)."})
    group_by_length: bool = field(default=True, metadata={"help": "Batch pairs of similar length together (less padding)."})
    freeze_embeddings: Optional[bool] = field(default=None, metadata={
        "help": "Keep the word-embedding matrix fixed (fewer weights to update). Empty: on for CPU, off for GPU."})
    frozen_layers: int = field(default=0, metadata={
        "help": "Keep the embeddings and the lowest N encoder layers fixed; only the layers above, the pooler and "
                "the head learn (fewer weights to update, no backward pass through the frozen ones). 0: all learn."})
    dropout: Optional[float] = field(default=None, metadata={
        "help": "Dropout while training, in the encoder (hidden and attention) and before the head. Empty: the "
                "checkpoint's own (0.1 for BERT-like models); 0 turns it off. Predictions never use dropout."})
    max_train_samples: Optional[int] = field(default=None, metadata={"help": "Use only the first N training pairs."})
    easy_pair_ratio: float = field(default=0.0, metadata={
        "help": "Paraphrase tasks: made-up easy pairs per real training pair (a sentence beside itself, two "
                "unrelated sentences), mixed in so a short run learns to compare the two texts early. 0: none."})
    max_eval_samples: Optional[int] = field(default=None, metadata={"help": "Use only the first N validation pairs."})
    output_dir: str = field(default="outputs/run", metadata={"help": "Where checkpoints, the final model and results go."})
    push_to_hub: bool = field(default=False, metadata={"help": "Push the final model to the Hub (needs a token)."})
    hub_model_id: Optional[str] = field(default=None, metadata={"help": "Repo id to push to. Empty: <user>/<model>-finetuned-mrpc."})
    hub_private: bool = field(default=False, metadata={"help": "Create the Hub repo as private."})

    def __post_init__(self) -> None:
        if self.text_column is not None and str(self.text_column).strip():
            if str(self.sentence2_column).strip() and self.sentence2_column != "sentence2":
                raise ConfigError("Invalid training settings:\n- text_column is for single sentences; for pairs set "
                                  "sentence1_column and sentence2_column instead")
            self.sentence1_column, self.sentence2_column = str(self.text_column).strip(), ""
        self.text_column = None  # one spelling kept: sentence1_column with an empty sentence2_column
        problems = self._source_problems() + self._schedule_problems() + self._cadence_problems()
        if problems:
            raise ConfigError("Invalid training settings:\n- " + "\n- ".join(problems))

    def _source_problems(self) -> list[str]:
        """Model, data, sequence length, seed and output folder."""
        problems = []
        if not str(self.model_name_or_path).strip():
            problems.append("model_name_or_path is empty: give a Hub id, a local folder or 'auto'")
        if not str(self.dataset).strip():
            problems.append("dataset is empty: give glue/mrpc, 'sample', a folder, a file or 'auto'")
        if not str(self.sentence1_column).strip():
            problems.append("sentence1_column is empty: name the column holding the (first) text")
        if not str(self.label_column).strip():
            problems.append("label_column is empty: name the column holding the labels")
        if not 8 <= self.max_length <= 512:
            problems.append(f"max_length={self.max_length} must be between 8 and 512 tokens")
        if self.precision not in PRECISIONS:
            problems.append(f"precision={self.precision!r} is not one of {', '.join(PRECISIONS)}")
        if not 0 <= self.seed < 2**32:
            problems.append(f"seed={self.seed} must be between 0 and 2**32 - 1")
        if not str(self.output_dir).strip():
            problems.append("output_dir is empty: the Trainer needs a folder to write to")
        return problems

    def _schedule_problems(self) -> list[str]:
        """Length of the run, learning rates, batch and optimizer settings."""
        problems = []
        if self.max_steps <= 0 and not 0 < self.num_train_epochs <= 100:
            problems.append(f"num_train_epochs={self.num_train_epochs} must be above 0 and at most 100")
        if self.max_steps > 1_000_000:
            problems.append(f"max_steps={self.max_steps} is unreasonably large")
        if self.learning_rate is not None and not 0 < self.learning_rate <= 1e-2:
            problems.append(f"learning_rate={self.learning_rate} must be above 0 and at most 0.01 (typical: 2e-5 to 1e-4)")
        if not 1 <= self.head_lr_factor <= 100:
            problems.append(f"head_lr_factor={self.head_lr_factor} must be 1 to 100 (1: one rate for the whole model)")
        if self.per_device_train_batch_size is not None and not 1 <= self.per_device_train_batch_size <= 1024:
            problems.append(f"per_device_train_batch_size={self.per_device_train_batch_size} must be 1 to 1024")
        if not 1 <= self.gradient_accumulation_steps <= 1024:
            problems.append(f"gradient_accumulation_steps={self.gradient_accumulation_steps} must be 1 to 1024")
        if self.lr_scheduler_type not in SCHEDULERS:
            problems.append(f"lr_scheduler_type={self.lr_scheduler_type!r} is not one of {', '.join(SCHEDULERS)}")
        if not 0 <= self.warmup_ratio < 1:
            problems.append(f"warmup_ratio={self.warmup_ratio} must be in [0, 1)")
        if not 0 <= self.weight_decay <= 1:
            problems.append(f"weight_decay={self.weight_decay} must be in [0, 1]")
        return problems

    def _cadence_problems(self) -> list[str]:
        """When to evaluate and log, and the data caps."""
        problems = []
        for name in ("eval_strategy", "logging_strategy"):
            if getattr(self, name) not in STRATEGIES:
                problems.append(f"{name}={getattr(self, name)!r} is not one of {', '.join(STRATEGIES)}")
        if self.eval_strategy == "steps" and (self.eval_steps is None or self.eval_steps <= 0
                                              or (self.eval_steps > 1 and self.eval_steps != int(self.eval_steps))):
            problems.append("eval_strategy='steps' needs eval_steps: a whole number of steps, or a fraction below 1")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            problems.append(f"dropout={self.dropout} must be at least 0 and below 1 (empty: the model's own)")
        if not 0 <= self.easy_pair_ratio <= MAX_EASY_RATIO:
            problems.append(f"easy_pair_ratio={self.easy_pair_ratio} must be 0 to {MAX_EASY_RATIO:g} (made-up pairs per "
                            "real pair; 0: none)")
        if not 0 <= self.frozen_layers <= 48:
            problems.append(f"frozen_layers={self.frozen_layers} must be 0 to 48 (0: every layer learns)")
        for name in ("logging_steps", "max_train_samples", "max_eval_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                problems.append(f"{name}={value} must be at least 1 (or left empty)")
        return problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict; unknown keys are an error that names them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **changes})


# How the Train tab shows each field (label, form section, bounds); HfArgumentParser reads only `help`.
FORM: dict[str, dict[str, Any]] = {
    "model_name_or_path": {"label": "Model", "ui": "source"},
    "dataset": {"label": "Data", "ui": "source"},
    "sentence1_column": {"label": "First sentence column (or the text column)", "ui": "columns"},
    "sentence2_column": {"label": "Second sentence column (empty: single sentences)", "ui": "columns"},
    "text_column": {"label": "Text column (single sentences)", "ui": "cli"},
    "label_column": {"label": "Label column", "ui": "columns"},
    "max_length": {"label": "Max tokens per example", "ui": "switches", "min": 8, "max": 512},
    "num_train_epochs": {"label": "Epochs", "ui": "hyper", "min": 0, "max": 100},
    "max_steps": {"label": "Max steps (≤ 0: use epochs)", "ui": "hyper", "min": -1, "max": 1000000},
    "learning_rate": {"label": "Learning rate (0 = recipe: 5e-5)", "ui": "hyper", "min": 0, "max": 0.01, "empty": 0},
    "head_lr_factor": {"label": "Head learning rate × (1 = plain Trainer)", "ui": "hyper", "min": 1, "max": 100},
    "per_device_train_batch_size": {"label": "Batch size (0 = auto)", "ui": "hyper", "min": 0, "max": 1024, "empty": 0},
    "gradient_accumulation_steps": {"label": "Gradient accumulation", "ui": "hyper", "min": 1, "max": 1024},
    "lr_scheduler_type": {"label": "LR scheduler", "ui": "hyper", "choices": SCHEDULERS},
    "warmup_ratio": {"label": "Warmup (fraction of steps)", "ui": "hyper", "min": 0, "max": 0.5, "slider": True},
    "weight_decay": {"label": "Weight decay", "ui": "hyper", "min": 0, "max": 1},
    "eval_strategy": {"label": "Evaluate", "ui": "cadence", "choices": STRATEGIES},
    "eval_steps": {"label": "Eval every (steps, or fraction < 1)", "ui": "cadence", "min": 0, "empty": 0},
    "logging_strategy": {"label": "Log training loss", "ui": "cadence", "choices": STRATEGIES},
    "logging_steps": {"label": "Log every N steps (0 = ~40 points)", "ui": "cadence", "min": 0, "empty": 0},
    "seed": {"label": "Seed", "ui": "seeds", "min": 0},
    "precision": {"label": "Precision", "ui": "switches", "choices": PRECISIONS},
    "group_by_length": {"label": "Group batches by length", "ui": "switches"},
    "freeze_embeddings": {"label": "Freeze word embeddings", "ui": "switches", "empty": "auto"},
    "frozen_layers": {"label": "Frozen lower layers (0 = all learn)", "ui": "switches", "min": 0, "max": 48},
    "dropout": {"label": "Dropout (empty = the model's own)", "ui": "switches", "min": 0, "max": 0.9, "empty": None},
    "max_train_samples": {"label": "Max training pairs (0 = all)", "ui": "switches", "min": 0, "empty": 0},
    "easy_pair_ratio": {"label": "Easy pairs per real pair (paraphrase tasks; 0 = none)", "ui": "switches", "min": 0,
                        "max": MAX_EASY_RATIO},
    "max_eval_samples": {"label": "Max validation pairs (0 = all)", "ui": "switches", "min": 0, "empty": 0},
    "output_dir": {"label": "Output folder", "ui": "cli"},
    "push_to_hub": {"label": "Push to the Hub", "ui": "cli"},
    "hub_model_id": {"label": "Hub repo id", "ui": "cli"},
    "hub_private": {"label": "Private repo", "ui": "cli"},
}


def config_to_command(cfg: TrainConfig, program: str = "python -m trainer_backend") -> str:
    """The CLI line that runs `cfg`: every field that differs from its default, as `--name value` (HfArgumentParser).

    A field left empty (None) where its default is a value cannot be written as a flag; it is named in a comment."""
    import shlex

    parts, unset = [program], []
    for f in fields(TrainConfig):
        value = getattr(cfg, f.name)
        if value == f.default and f.name != "output_dir":
            continue
        if value is None:
            unset.append(f.name)
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else (
            repr(value) if isinstance(value, float) else str(value))
        parts.append(f"--{f.name} {shlex.quote(text)}")
    line = " \\\n    ".join([" ".join(parts[:1] + parts[1:2])] + parts[2:]) if len(parts) > 1 else parts[0]
    return line + (f"  # left empty: {', '.join(unset)}" if unset else "")