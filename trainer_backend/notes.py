"""The choices a run made, as typed facts (one model per kind of note, with its numbers): no sentences here.

The recipe and the training stages record these in the run record (`RunRecord.notes`, studio_run.json and the
store); the words for each kind live in wording/run_notes.py, which the Train tab and the training log both read.
A note is a pydantic model so the record validates and serialises it; `kind` tells the kinds apart in JSON.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Note(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ModelChosen(_Note):
    """The base model and why it (the loader's reason, from modeling.resolve_model)."""

    kind: Literal["model"] = "model"
    name: str
    reason: str = ""


class DataChosen(_Note):
    """The data in use (its summary: source and split sizes) and why it (from data.resolve_dataset)."""

    kind: Literal["data"] = "data"
    summary: str
    reason: str = ""


class BatchSize(_Note):
    """The batch size the recipe chose (only when the form left it empty)."""

    kind: Literal["batch_size"] = "batch_size"
    batch: int
    gpu: bool


class LearningRates(_Note):
    """The encoder's rate and the new head's (None: one rate for the whole model, factor 1)."""

    kind: Literal["learning_rates"] = "learning_rates"
    encoder: float
    head: float | None = None
    factor: float = 1.0


class PrecisionChosen(_Note):
    """What precision 'auto' became on this hardware (bf16 on a bf16 CPU or GPU, fp16, or fp32)."""

    kind: Literal["precision"] = "precision"
    precision: str
    gpu: bool


class Fp16OnCpu(_Note):
    """fp16 was asked on a CPU, where the Trainer does not support it: bf16 autocast is used instead."""

    kind: Literal["fp16_on_cpu"] = "fp16_on_cpu"


class MetricSource(_Note):
    """Where the scores come from: the Hub's `glue` module for the task's config, or the packaged offline twin."""

    kind: Literal["metrics"] = "metrics"
    hub: bool
    config: str = "mrpc"


class TaskChosen(_Note):
    """A task other than MRPC: the text columns read (one or two) and the classes, in id order."""

    kind: Literal["task"] = "task"
    columns: list[str]
    labels: list[str]


class FrozenEmbeddings(_Note):
    """The word embeddings were not trained (asked for, or the CPU default)."""

    kind: Literal["frozen_embeddings"] = "frozen_embeddings"
    parameters: int
    by_default: bool


class FrozenLayers(_Note):
    """The lower `layers` of `of` encoder layers (and the embeddings) were not trained."""

    kind: Literal["frozen_layers"] = "frozen_layers"
    layers: int
    of: int
    parameters: int


class DropoutSet(_Note):
    """Dropout was set to `p` for training (`was`: the checkpoint's own hidden dropout, None when it names none)."""

    kind: Literal["dropout"] = "dropout"
    p: float
    was: float | None = None


class EasyPairs(_Note):
    """Made-up easy pairs were mixed into the training split (easy_pairs.py): `added` of them beside `real` real
    pairs; `added` 0 with `skipped` set: asked for, but the task is not a paraphrase task."""

    kind: Literal["easy_pairs"] = "easy_pairs"
    added: int
    real: int
    skipped: str = ""


class CheckpointsPerEpoch(_Note):
    """On a GPU, a run that evaluates every few steps saved its checkpoint once per epoch, not at each evaluation."""

    kind: Literal["checkpoints_per_epoch"] = "checkpoints_per_epoch"


class TimeLimit(_Note):
    """The run stopped at the app's time limit per run (None: no limit was given in minutes)."""

    kind: Literal["time_limit"] = "time_limit"
    minutes: float | None = None


class PushSkipped(_Note):
    """The push to the Hub asked for did not happen (the model is kept); `reason` is the HubError's message."""

    kind: Literal["push_skipped"] = "push_skipped"
    reason: str


NOTE_TYPES = (ModelChosen, DataChosen, BatchSize, LearningRates, PrecisionChosen, Fp16OnCpu, MetricSource, TaskChosen,
              FrozenEmbeddings, FrozenLayers, DropoutSet, EasyPairs, CheckpointsPerEpoch, TimeLimit, PushSkipped)
Note = Annotated[Union[NOTE_TYPES], Field(discriminator="kind")]
KINDS = frozenset(cls.model_fields["kind"].default for cls in NOTE_TYPES)


def known(value: object) -> bool:
    """Whether a stored note can be read: a sentence (records written before notes were typed) or a kind this
    version knows (a newer app's kind is skipped, not a reason to drop the record's other notes)."""
    return isinstance(value, str) or (isinstance(value, dict) and value.get("kind") in KINDS) or \
        isinstance(value, NOTE_TYPES)
