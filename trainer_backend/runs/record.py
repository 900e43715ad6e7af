"""What a run produced, as one typed record: written by the training process, read by everyone else.

The training process fills a `RunRecord` as it goes (prepare: base model, data, settings, notes; evaluate:
metrics, confusion matrix, loss curve, files) and hands it to the store (the `info` column holds its fields) and
to `studio_run.json` beside the model. The Train tab reads `Run.record`, Predict reads the record beside a
checkpoint (local or pushed), the model card reads it through `publish.model_card.public_run`. pydantic
validates it; unknown keys are ignored so records written by older or newer versions of the app still load.
Paths in it are relative to the run folder: a record never names a place on the server.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trainer_backend import notes as run_notes
from trainer_backend.tasks import MRPC, TaskSpec

RECORD_FILE = "studio_run.json"
RECORD_VERSION = 1
METRIC_KEYS = ("eval_accuracy", "eval_f1", "eval_matthews_correlation", "eval_loss", "eval_mismatched_accuracy")


class Hyperparameters(BaseModel):
    """The settings as the Trainer applied them (after the hardware recipe), not as they were asked for."""

    model_config = ConfigDict(extra="ignore")

    learning_rate: float | None = None
    head_learning_rate: float | None = None
    batch_size: int | None = None
    epochs: float | None = None
    max_steps: int | None = None
    seed: int | None = None
    max_length: int | None = None
    group_by_length: bool | None = None
    frozen_layers: int | None = None
    dropout: float | None = None   # None: the checkpoint's own
    easy_pair_ratio: float | None = None  # made-up easy pairs per real one (None: none, or a run from before them)
    lr_scheduler_type: str | None = None
    weight_decay: float | None = None


class RunRecord(BaseModel):
    """One run's product: what it was trained from and how, and what it scored."""

    model_config = ConfigDict(extra="ignore")

    version: int = RECORD_VERSION
    base_model: str | None = None
    data: str | None = None
    precision: str | None = None
    device: str | None = None
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    notes: list[run_notes.Note | str] = Field(default_factory=list)  # str: a run recorded before notes were typed
    head_swap: dict[str, list[str]] = Field(default_factory=dict)
    parameters: dict[str, int] = Field(default_factory=dict)
    n_train: int | None = None
    n_validation: int | None = None
    # the task (tasks.TaskSpec): absent in records written before it was kept, which were all MRPC pairs
    task: str | None = None
    text_columns: list[str] = Field(default_factory=list)
    label_names: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    confusion: list[list[int]] | None = None
    loss_curve: list[tuple[int, float]] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)  # relative to the run folder
    created: str | None = None

    @field_validator("notes", mode="before")
    @classmethod
    def _readable_notes(cls, value: Any) -> Any:
        """Old sentences and known kinds load; a kind from a newer version of the app is left out."""
        return [note for note in value if run_notes.known(note)] if isinstance(value, list) else value

    @classmethod
    def coerce(cls, value: RunRecord | dict[str, Any] | None) -> RunRecord:
        """A record from a record, a decoded studio_run.json, or nothing (an empty record)."""
        if isinstance(value, RunRecord):
            return value
        try:
            return cls.model_validate(value or {})
        except ValidationError:  # a hand-edited or foreign file: keep what parses, field by field
            good = {}
            for key, item in (value or {}).items():
                try:
                    cls.model_validate({key: item})
                except ValidationError:
                    continue
                good[key] = item
            return cls.model_validate(good)

    @property
    def task_spec(self) -> TaskSpec:
        """The run's task: what it recorded, else MRPC (every run before tasks were recorded trained MRPC pairs)."""
        if not self.label_names or not self.text_columns:
            return MRPC
        try:
            return TaskSpec(self.task or "unknown", tuple(self.text_columns), tuple(self.label_names))
        except ValueError:
            return MRPC

    @classmethod
    def read(cls, folder: str | Path) -> RunRecord | None:
        """The record beside a checkpoint, or None when the folder has none (a model not trained here)."""
        return cls.read_file(Path(folder) / RECORD_FILE)

    @classmethod
    def read_file(cls, path: str | Path) -> RunRecord | None:
        path = Path(path)
        try:
            return cls.coerce(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None
        except (OSError, ValueError):  # unreadable or not JSON: treated as absent, like a foreign repo
            return None

    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / RECORD_FILE
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    def finished(self, results: dict[str, Any], confusion: list[list[int]],
                 loss_curve: list[tuple[int, float]], folder: str | Path) -> RunRecord:
        """The same record with the evaluation's results and the files now in the run folder."""
        root = Path(folder)
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                       if p.is_file() and not p.relative_to(root).parts[0].startswith("checkpoint-"))
        return self.model_copy(update=dict(
            metrics={k: float(results[k]) for k in METRIC_KEYS if isinstance(results.get(k), (int, float))},
            confusion=confusion, loss_curve=loss_curve, files=files, created=time.strftime("%Y-%m-%d %H:%M:%S")))

    def store_fields(self) -> dict[str, Any]:
        """The record's fields as the store's `info` column keeps them (metrics live in `final_metrics`)."""
        return self.model_dump(mode="json", exclude={"metrics", "confusion"})
