"""The sentences for a run's notes (trainer_backend/notes.py) and its head swap: one line per kind, plain text
(the caller escapes it for Markdown or HTML)."""
from __future__ import annotations

from typing import Callable

from trainer_backend import notes as n
from trainer_backend.modeling import HeadSwapReport

_CPU_BATCH = ("on CPU, length-grouped batches of 8 cost little speed and give the encoder the most updates "
              "(MiniLM sits at the majority class for its first ~100)")
_PRECISION = {
    "bf16": ("bf16 autocast: this CPU has AVX512-BF16/AMX (detected from its flags), where bf16 matmuls run several "
             "times faster than fp32; weights and optimizer stay fp32"),
    "fp16": "fp16 mixed precision on the GPU",
    "fp32": "fp32: this CPU has no fast bf16 (AVX512-BF16/AMX), so mixed precision would be slower",
}


def precision_why(note: n.PrecisionChosen) -> str:
    """Why precision 'auto' became what it did (the run's note and the Train tab's environment panel)."""
    if note.precision == "bf16" and note.gpu:
        return "bf16 mixed precision: this GPU computes bf16 natively"
    return _PRECISION.get(note.precision, note.precision)


def metric_source_text(hub: bool, config: str = "mrpc") -> str:
    """Where the scores come from (the run's note, the Lesson's metrics step)."""
    return f"evaluate 'glue/{config}' (Hub)" if hub else "local evaluate module (offline copy)"


def _task(note: n.TaskChosen) -> str:
    kind = "sentence pairs" if len(note.columns) == 2 else "single sentences"
    return f"task: {kind} ({', '.join(note.columns)}), {len(note.labels)} classes: {', '.join(note.labels)}"


def _learning_rates(note: n.LearningRates) -> str:
    if note.head is None:
        return f"learning rate {note.encoder:g} for the whole model, new head included (head factor 1, as the plain " \
               "Trainer)"
    return (f"learning rate {note.encoder:g} for the pretrained encoder and {note.head:g} for the new, randomly "
            f"initialised head ({note.factor:g}x): the head starts from nothing, so small steps left the loss flat at "
            "chance for the first epochs")


def _frozen_embeddings(note: n.FrozenEmbeddings) -> str:
    why = (": on a CPU that is that many fewer weights for AdamW to update each step, and a 30k-word table barely "
           "moves in a few epochs anyway") if note.by_default else ""
    return f"word embeddings frozen ({note.parameters / 1e6:.1f}M parameters not updated){why}"


def _dropout(note: n.DropoutSet) -> str:
    was = "" if note.was is None else f" (the checkpoint's own: {note.was:g})"
    if note.p == 0:
        return (f"dropout off while training{was}: a short fine-tune on a few thousand pairs has little time to "
                "overfit, each step skips drawing random masks over every activation, and the encoder is not "
                "slowed by noise while it learns to compare the two texts; predictions never use dropout")
    return f"dropout {note.p:g} while training{was}"


def _frozen_layers(note: n.FrozenLayers) -> str:
    return (f"lower {note.layers} of {note.of} encoder layers frozen, with the embeddings ({note.parameters / 1e6:.1f}M "
            "parameters): only the layers above, the pooler and the head learn, so each step skips the backward pass "
            "through the frozen ones")


def _easy_pairs(note: n.EasyPairs) -> str:
    if note.skipped:
        return f"no easy pairs added: {note.skipped}"
    return (f"{note.added:,} made-up easy pairs mixed into the {note.real:,} real training pairs — half a sentence "
            "beside itself (paraphrase), half two unrelated sentences (not): an encoder trained on single sentences "
            "has never compared two texts, and on real pairs alone (which share most of their words either way) "
            "its loss sits at chance for most of a short run; the easy pairs teach it to look at what the two texts "
            "share first, so the loss falls early. The training loss mixes both kinds (its early fall is mostly the "
            "easy pairs being learned); validation and test pairs are all real")


def time_limit_text(minutes: float | None) -> str:
    """The note, and the run's error line, when a run stops at the app's time limit."""
    limit = f" of {minutes:g} min" if minutes else ""
    return f"stopped at this app's time limit{limit} per run (checkpoint saved: Resume continues it)"


_WORDS: dict[type, Callable[..., str]] = {
    n.ModelChosen: lambda x: f"model: {x.name}" + (f" — {x.reason}" if x.reason else ""),
    n.DataChosen: lambda x: f"data: {x.summary}" + (f" — {x.reason}" if x.reason else ""),
    n.BatchSize: lambda x: f"batch size {x.batch}: " + ("keeps the GPU busy" if x.gpu else _CPU_BATCH),
    n.LearningRates: _learning_rates,
    n.PrecisionChosen: precision_why,
    n.Fp16OnCpu: lambda x: "fp16 asked on a CPU: the Trainer does not support it there, so bf16 autocast is used",
    n.MetricSource: lambda x: f"metrics: {metric_source_text(x.hub, x.config)}",
    n.TaskChosen: _task,
    n.FrozenEmbeddings: _frozen_embeddings,
    n.FrozenLayers: _frozen_layers,
    n.DropoutSet: _dropout,
    n.EasyPairs: _easy_pairs,
    n.CheckpointsPerEpoch: lambda x: (
        "checkpoint once per epoch, evaluations as set: on a GPU a save (weights and optimizer state, 1.3 GB for "
        "bert-base) costs more than the steps between two evaluations; Stop still saves one where it ends"),
    n.TimeLimit: lambda x: time_limit_text(x.minutes),
    n.PushSkipped: lambda x: f"push skipped: {x.reason}",
}


def note_text(note: n.Note | str) -> str:
    """One note in a sentence; a note stored as a sentence (a run recorded before notes were typed) as it was."""
    return note if isinstance(note, str) else _WORDS[type(note)](note)


def head_swap_markdown(report: HeadSwapReport, num_labels: int = 2) -> str:
    """What from_pretrained did to the checkpoint's weights, as a Markdown list (names in code spans);
    `num_labels`: the classes of the new head."""
    lines = []
    if report.dropped:
        lines.append(f"**Dropped ({len(report.dropped)})** — weights of the checkpoint's pretraining head "
                     f"(e.g. `{report.dropped[0]}`). They predicted masked words or next sentences, a job we "
                     "no longer need, so they are thrown away.")
    if report.new:
        lines.append(f"**Newly initialised ({len(report.new)})** — `{'`, `'.join(report.new[:4])}`. This is the "
                     f"fresh {num_labels}-way classification head, filled with random numbers. It knows nothing yet; "
                     "training is what teaches it. This is why the library warns you.")
    if report.mismatched:
        lines.append(f"**Re-initialised, wrong shape ({len(report.mismatched)})** — `{report.mismatched[0]}`: the "
                     "checkpoint already had a head, but for a different number of labels.")
    if not lines:
        lines.append(f"No weights were dropped or added: this checkpoint already has a matching {num_labels}-label head "
                     "(it was probably fine-tuned on this task before).")
    return "\n\n".join(f"- {line}" for line in lines)
