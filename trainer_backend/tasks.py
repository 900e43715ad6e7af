"""What a run and its checkpoint are for: which texts go in and which classes come out.

One small contract shared by the training process (which writes it) and serving, the model card and the Train
tab's tables (which read it):

- the library's own config fields carry the classes: ``num_labels``, ``id2label``, ``label2id``;
- two fields of ours, saved in ``config.json`` next to them, carry the rest: ``studio_text_columns`` (one or two
  column names, in the order the tokenizer receives them) and ``studio_task`` (a name such as ``glue/sst2``,
  ``sample`` or ``file``).

A checkpoint without our fields (trained before this contract, or any Hub model) reads as a sentence pair, which
is what the studio always trained; when its labels are the library's placeholders (``LABEL_0``, ``LABEL_1``) and
it has two of them, they read as MRPC's classes, as Predict always showed them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MRPC_LABELS = ("not_paraphrase", "paraphrase")
PAIR_COLUMNS = ("sentence1", "sentence2")
_PLACEHOLDER = re.compile(r"LABEL_\d+")


@dataclass(frozen=True)
class TaskSpec:
    """A task as a checkpoint records it."""

    name: str
    text_columns: tuple[str, ...] = PAIR_COLUMNS
    label_names: tuple[str, ...] = MRPC_LABELS

    def __post_init__(self) -> None:
        if len(self.text_columns) not in (1, 2):
            raise ValueError(f"a task reads one or two texts, not {len(self.text_columns)}")
        if len(self.label_names) < 2:
            raise ValueError("a task needs at least two classes")

    @property
    def pair(self) -> bool:
        return len(self.text_columns) == 2

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.label_names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.label_names)}

    @property
    def is_mrpc(self) -> bool:
        """The paraphrase task the studio began with: its wording ("paraphrase / not paraphrase") stays for it."""
        return self.pair and self.label_names == MRPC_LABELS


MRPC = TaskSpec("glue/mrpc")


def stamp(config, spec: TaskSpec) -> None:
    """Write `spec` into a transformers config (before save_pretrained / push)."""
    config.num_labels = spec.num_labels
    config.id2label = spec.id2label
    config.label2id = spec.label2id
    config.studio_text_columns = list(spec.text_columns)
    config.studio_task = spec.name


def task_of(config) -> TaskSpec:
    """Read the task back from a transformers config (see the module docstring for unstamped checkpoints)."""
    n = int(getattr(config, "num_labels", 2) or 2)
    id2label = getattr(config, "id2label", None) or {}
    names = tuple(str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(n))
    if n == 2 and all(_PLACEHOLDER.fullmatch(x) for x in names):
        names = MRPC_LABELS
    columns = tuple(getattr(config, "studio_text_columns", None) or PAIR_COLUMNS)
    return TaskSpec(str(getattr(config, "studio_task", None) or "unknown"), columns, names)


# --- The named tasks the Train tab and the CLI offer -------------------------------------------------------------

SAMPLE_TASK = "sample"              # the bundled MRPC-style pairs (assets/mrpc_sample.tsv)
SENTIMENT_SAMPLE = "sample-sentiment"  # the bundled single-sentence reviews (assets/sentiment_sample.tsv)
SENTIMENT_LABELS = ("negative", "positive")


@dataclass(frozen=True)
class NamedTask:
    """A task offered by name: what a checkpoint records, how evaluate's `glue` metric scores it (its config name),
    which split it validates on (and a second one reported at the end), and the bundled data that stands in for it
    when the Hub cannot be reached."""

    spec: TaskSpec
    metric: str
    title: str
    validation: str = "validation"
    also_validate: str | None = None
    offline: str = SAMPLE_TASK

    @property
    def glue_config(self) -> str | None:
        """The folder of nyu-mll/glue holding its files ('sst2' for glue/sst2); None for a bundled sample."""
        return self.spec.name.split("/", 1)[1] if self.spec.name.startswith("glue/") else None


# Columns, class names (in label-id order) and metric configs as GLUE and evaluate's `glue` metric define them.
# MRPC keeps the studio's own names for its classes (not_paraphrase/paraphrase), as it always has.
NAMED_TASKS: dict[str, NamedTask] = {t.spec.name: t for t in (
    NamedTask(MRPC, "mrpc", "paraphrase or not (sentence pairs)"),
    NamedTask(TaskSpec("glue/sst2", ("sentence",), SENTIMENT_LABELS), "sst2",
              "movie-review sentiment (single sentences)", offline=SENTIMENT_SAMPLE),
    NamedTask(TaskSpec("glue/rte", PAIR_COLUMNS, ("entailment", "not_entailment")), "rte",
              "does the first sentence entail the second (pairs)"),
    NamedTask(TaskSpec("glue/qnli", ("question", "sentence"), ("entailment", "not_entailment")), "qnli",
              "does the sentence answer the question (pairs)"),
    NamedTask(TaskSpec("glue/mnli", ("premise", "hypothesis"), ("entailment", "neutral", "contradiction")), "mnli",
              "entailment, neutral or contradiction (pairs, three classes)", validation="validation_matched",
              also_validate="validation_mismatched"),
    NamedTask(TaskSpec("glue/cola", ("sentence",), ("unacceptable", "acceptable")), "cola",
              "is the sentence grammatical (single sentences)", offline=SENTIMENT_SAMPLE),
    NamedTask(TaskSpec(SENTIMENT_SAMPLE, ("sentence",), SENTIMENT_LABELS), "sst2",
              "bundled reviews, positive or negative (single sentences, offline)", offline=SENTIMENT_SAMPLE),
)}


def named(name: str) -> NamedTask | None:
    """The named task called `name` ('glue/sst2', 'sample-sentiment'), or None."""
    return NAMED_TASKS.get(name)


def metric_config(spec: TaskSpec) -> str:
    """The `glue` metric config that scores `spec`: a named task's own; for other data, MRPC's accuracy and F1 (of
    class 1) when there are two classes, else accuracy alone (as MNLI's)."""
    task = NAMED_TASKS.get(spec.name)
    if task is not None:
        return task.metric
    return "mrpc" if spec.num_labels == 2 else "mnli"
