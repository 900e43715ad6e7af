"""Head-swap, logits-to-labels and compute_metrics demos on the real model and validation pairs."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lesson import live
from trainer_backend.data import LABEL_NAMES
from trainer_backend.metrics import compute_metrics, confusion, logits_to_predictions, metric_from_hub
from trainer_backend.runs.store import RunStore
from trainer_backend.runs.summary import at_floor, run_name
from web.access import REFUSED, reader
from wording.run_notes import head_swap_markdown, metric_source_text

MAX_LOGIT_PAIRS = 64
LOGITS_HEADERS = ["#", "logit 0", "logit 1", "argmax", "label", "right?", "sentence1", "sentence2"]
HEAD_SWAP_HEADERS = ["weight", "what happened", "shape", "what it is"]
MAX_METRIC_ROWS = 100_000
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def weight_meaning(name: str, hidden: int | None = None) -> str:
    """What one weight named in the head-swap report is for, in a phrase."""
    width = f"{hidden}" if hidden else "hidden-size"
    if name.startswith("classifier.weight"):
        return f"the new head: a {width} × 2 matrix turning the pooled [CLS] vector into two scores"
    if name.startswith("classifier.bias"):
        return "the new head: one offset per class, added to the two scores"
    if name.startswith("cls.predictions"):
        return "pretraining head that guessed masked-out words; useless for pair classification"
    if name.startswith("cls.seq_relationship"):
        return "pretraining head that guessed whether sentence B followed A; replaced by our own head"
    if "pooler" in name:
        return "the pooler (a dense layer + tanh over [CLS]) the classifier reads from"
    return "a weight the checkpoint and the model class do not share"


@dataclass
class HeadSwap:
    """The real report of one load, as table rows and an explanation."""

    model_name: str
    explanation: str
    rows: list[list]
    dropped: int
    new: int


def head_swap_demo(model_spec: str = "auto") -> HeadSwap:
    """Load the model as a run would and list what was dropped, newly initialised or re-shaped."""
    loaded = live.model(model_spec)
    params = dict(loaded.model.named_parameters())
    hidden = getattr(loaded.model.config, "hidden_size", None)
    rows = []
    for status, names in (("dropped", loaded.report.dropped), ("newly initialised", loaded.report.new),
                          ("re-initialised (shape)", loaded.report.mismatched)):
        for name in names:
            shape = " × ".join(map(str, params[name].shape)) if name in params else "—"
            rows.append([name, status, shape, weight_meaning(name, hidden)])
    return HeadSwap(loaded.name, head_swap_markdown(loaded.report), rows, len(loaded.report.dropped), len(loaded.report.new))


def trained_models(limit: int = 20, viewer=None) -> list[tuple[str, str]]:
    """(name, 'run:<id>') for finished runs in the run store whose model folder still exists; on a Space only
    the viewer's own (an `access.Visitor`; none given: nobody's there, everyone's off a Space).

    Names tell runs apart (label, start time, short id, seed) and flag a run that ended at the majority-class
    floor of its data."""
    try:
        runs = RunStore().list(("completed", "stopped"), limit=limit, owner=reader(viewer).runs_owner)
    except Exception:  # noqa: BLE001 - a missing or locked store just means no trained models to offer
        return []
    out = []
    for run in runs:
        if run.output_dir and (Path(run.output_dir) / "config.json").is_file():
            acc = run.final_metrics.get("eval_accuracy")
            score = f" · accuracy {acc:.3f}" if isinstance(acc, (int, float)) else ""
            if at_floor(run):
                score += " ⚠ at the floor"
            out.append((f"{run_name(run)} · seed {run.config.get('seed', '?')}{score}", f"run:{run.id}"))
    return out


def checked_model_spec(spec: str | None, viewer=None) -> str:
    """Allow 'auto', 'packaged', 'run:<id>' of a finished run the viewer may use, or a Hub id; never a server path.

    Menus carry 'run:<id>', never a folder, so no server path reaches the page; a refused name (another
    visitor's run included) gets the same sentence whether or not it exists."""
    spec = (spec or "auto").strip()
    if spec in {"auto", "packaged"}:
        return spec
    if spec.startswith("run:"):
        folders = {value: value for _, value in trained_models(limit=200, viewer=viewer)}
        if spec in folders:
            run = RunStore().get(spec[4:])
            if run is not None:
                return run.output_dir
        raise ValueError(REFUSED)
    if HUB_ID.match(spec) and ".." not in spec and not Path(spec).expanduser().exists():
        return spec
    raise ValueError(REFUSED)


@dataclass
class LogitsResult:
    """Model outputs for N validation pairs."""

    logits: np.ndarray        # (N, 2)
    predictions: np.ndarray   # (N,)
    labels: np.ndarray        # (N,)
    sentence1: list[str]
    sentence2: list[str]
    model_name: str

    def rows(self) -> list[list]:
        """LOGITS_HEADERS: numbers and labels first, the two sentences last (they are long)."""
        out = []
        for i, (a, b, z, p, y) in enumerate(zip(self.sentence1, self.sentence2, self.logits, self.predictions,
                                                self.labels)):
            out.append([i, round(float(z[0]), 4), round(float(z[1]), 4), int(p), int(y), "✓" if p == y else "✗",
                        a, b])
        return out

    def to_dict(self) -> dict:
        return {"logits": self.logits.tolist(), "labels": self.labels.tolist()}


def run_logits(model, tok, sentence1: list[str], sentence2: list[str], max_length: int = 128) -> np.ndarray:
    """Forward the pairs through the model and return the raw (N, 2) scores."""
    import torch

    enc = tok(list(sentence1), list(sentence2), truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**enc).logits.float().numpy()


def logits_demo(model_spec: str = "auto", n: int = 8, data_spec: str = "auto") -> LogitsResult:
    """Logits, argmax and labels for the first `n` validation pairs."""
    n = int(n)
    if not 1 <= n <= MAX_LOGIT_PAIRS:
        raise ValueError(f"Choose between 1 and {MAX_LOGIT_PAIRS} pairs.")
    loaded = live.model(model_spec)
    val = live.data(data_spec).dataset["validation"]
    val = val.select(range(min(n, len(val))))
    s1, s2, labels = list(val["sentence1"]), list(val["sentence2"]), np.asarray(list(val["label"]))
    logits = run_logits(loaded.model, loaded.tokenizer, s1, s2)
    return LogitsResult(logits, logits_to_predictions(logits), labels, s1, s2, loaded.name)


@dataclass
class MetricsResult:
    """What compute_metrics returned, and the same numbers worked out by hand."""

    returned: dict[str, float]
    matrix: list[list[int]]
    by_hand: dict[str, float]
    source: str

    def markdown(self) -> str:
        (tn, fp), (fn, tp) = self.matrix
        n = tn + fp + fn + tp
        shown = {k: round(v, 4) for k, v in self.returned.items()}
        return (f"`compute_metrics` returned `{shown}` "
                f"(scored by the {self.source}).\n\n"
                f"By hand, from the confusion counts (true {LABEL_NAMES[1]} = {tp}, false alarms = {fp}, "
                f"missed = {fn}, true {LABEL_NAMES[0]} = {tn}):\n\n"
                f"- accuracy = right / all = ({tp} + {tn}) / {n} = **{self.by_hand['accuracy']:.4f}**\n"
                f"- precision = {tp} / ({tp} + {fp}) = {self.by_hand['precision']:.4f}; "
                f"recall = {tp} / ({tp} + {fn}) = {self.by_hand['recall']:.4f}\n"
                f"- F1 = 2 · precision · recall / (precision + recall) = **{self.by_hand['f1']:.4f}**")


def metrics_demo(logits: list[list[float]], labels: list[int]) -> MetricsResult:
    """Feed (logits, labels) to the real compute_metrics and check it against a hand calculation."""
    z, y = np.asarray(logits, dtype=float), np.asarray(labels, dtype=int)
    if z.ndim != 2 or z.shape[1] != 2 or len(z) != len(y) or not 0 < len(y) <= MAX_METRIC_ROWS:
        raise ValueError(f"Need logits of shape (N, 2) and N labels; got {z.shape} and {y.shape}.")
    returned = {k: float(v) for k, v in compute_metrics((z, y)).items()}
    matrix = confusion(logits_to_predictions(z), y)
    (tn, fp), (fn, tp) = matrix
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by_hand = {"accuracy": (tp + tn) / len(y), "precision": precision, "recall": recall, "f1": f1}
    return MetricsResult(returned, matrix, by_hand, metric_source_text(metric_from_hub()))
