"""The Predict tab's words about one answer and one model: what the model reads and answers, the plain verdict at the
top, the swap check, the facts."""
from __future__ import annotations

import time
from typing import Any

from trainer_backend import serving
from trainer_backend.serving import engine_onnx, fastpath
from trainer_backend.tasks import TaskSpec
from trainer_backend.textsafe import md_escape
from ui.common import viewer_of
from ui.messages import serving_reason

UNSURE_BELOW = 0.6  # an answer under 60% is close to a coin toss for a two-way head (and barely ahead for more)


def _name(label: str) -> str:
    return md_escape(label.replace("_", " "))


def _pct(result: serving.PairResult, label: str | None = None) -> str:
    label = label or result.label
    return f"{_name(label)} {result.confidences[label]:.0%}"


def task_markdown(task: TaskSpec) -> str:
    """What the loaded model reads and answers, in one line above the boxes (MRPC keeps its paraphrase wording)."""
    if task.is_mrpc:
        return ("**This model compares two sentences** and answers *paraphrase* or *not paraphrase*.")
    reads = (f"compares two texts ({', '.join(map(md_escape, task.text_columns))})" if task.pair
             else "reads one sentence")
    classes = ", ".join(f"*{_name(n)}*" for n in task.label_names)
    return f"**This model {reads}** and answers one of {task.num_labels} classes: {classes}."


def verdict_markdown(forward: serving.PairResult, backward: serving.PairResult | None) -> str:
    """The plain-words warning above the answer when the model is unsure: the two orders disagree, or the answer
    is close to a coin toss (two classes) or barely ahead of the next class (more). Empty when the answer holds."""
    if backward is not None and forward.label != backward.label:
        return (f"⚠️ **The model is unsure: swapping the sentences flips its answer** ({_pct(forward)} in this "
                f"order, {_pct(backward)} the other way). Read the answer as a guess; a model trained longer "
                "usually gives the same answer both ways.")
    if max(forward.confidences.values()) < UNSURE_BELOW:
        if len(forward.confidences) == 2:
            return f"⚠️ **The model is unsure:** {_pct(forward)} is close to a coin toss between the two answers."
        runner_up = sorted(forward.confidences, key=forward.confidences.get)[-2]
        return (f"⚠️ **The model is unsure:** {_pct(forward)} is only just ahead of {_pct(forward, runner_up)}.")
    return ""


def swap_check(sentence1: str, sentence2: str, model: str, enabled: bool, browser_id: Any = None,
               ticket: Any = None) -> dict[str, str]:
    """Ask again with the sentences swapped: {"verdict": the warning above the answer, "swap": the swap-check line
    below it}. Only MRPC models are asked the other way round (a paraphrase is symmetric; an entailment is not);
    every other model gets the verdict on its one answer."""
    nothing = {"verdict": "", "swap": ""}
    try:
        predictor = serving.get_predictor(model, viewer=viewer_of(browser_id, ticket))
    except serving.InferenceError:
        return nothing
    if predictor.task.is_mrpc and not enabled:
        return nothing
    if not predictor.task.is_mrpc:
        forward = predictor.predict_pairs([(sentence1, sentence2)])[0]
        return nothing if forward.error else {"verdict": verdict_markdown(forward, None), "swap": ""}
    forward, backward = predictor.predict_pairs([(sentence1, sentence2), (sentence2, sentence1)])
    if forward.error or backward.error:
        return nothing
    positive = predictor.labels[1]
    moved = abs(forward.confidences[positive] - backward.confidences[positive])
    verdict = "the same answer" if forward.label == backward.label else "a **different** answer"
    line = (f"**Swap check:** with the sentences swapped the model says **{backward.label}** "
            f"({backward.confidences[backward.label]:.1%}) — {verdict}; P({positive}) moved by {moved:.1%}. "
            "Being a paraphrase is symmetric, but the model reads the pair in order (the first sentence gets "
            "segment id 0, the second 1), so small shifts are normal and large ones are worth a look.")
    return {"verdict": verdict_markdown(forward, backward), "swap": line}


def _engine_lines(predictor: serving.Predictor) -> tuple[str, list[str]]:
    """(what answers now, for a learner; the engine details for the folded part)."""
    plain = "the model as trained (PyTorch" + (", bf16)" if predictor.use_bf16 else ")")
    info = predictor.serving
    if predictor.checking:
        waited = time.time() - (predictor.check_started or time.time())
        return (f"**Answers now with {plain}.** A faster copy of the model is being checked in the background "
                f"({waited:.0f} s so far): it takes over on its own once it gives the same answer on at least "
                f"{fastpath.MIN_AGREEMENT:.1%} of the validation pairs. Press **Load** again to see.", [])
    if info is None:
        return f"**Answers with {plain}.**", []
    details = [f"- served by {md_escape(info.title)}: {md_escape(serving_reason(info))}"
               + (" (result kept from this checkpoint's first load)" if info.cached
                  else f" (checked in {info.seconds:.1f} s)")]
    if info.batch_engine:
        details.append(f"- files and requests of {fastpath.BATCH_ROUTE_PAIRS}+ pairs: {md_escape(info.batch_title)} "
                       "(it passed the same check and was faster on its batch)")
    chosen = next((c for c in info.checks if c.engine == info.engine and c.passed), None)
    if predictor.fast is not None and chosen is not None:
        recheck = (" Pairs it is not clearly sure about are answered again by the full-precision copy."
                   if info.engine == engine_onnx.CHECKED.name else "")
        return (f"**Answers with a faster copy of the model** that gives the same answer on {chosen.agreement:.1%} "
                f"of the {chosen.pairs} validation pairs ({md_escape(info.title)}).{recheck}", details)
    return f"**Answers with {plain}**: no faster copy was used ({md_escape(serving_reason(info).split(':')[0])}).", details


def facts_markdown(predictor: serving.Predictor) -> str:
    """What the loaded checkpoint is and what answers: a learner's summary first, engine details folded below."""
    record = predictor.record
    now, engine_details = _engine_lines(predictor)
    lines = [f"**Loaded:** {md_escape(predictor.ref.title)}", f"- {now}", f"- from {md_escape(predictor.loaded_from)}"]
    if record:
        metrics = record.metrics
        hyper = record.hyperparameters.model_dump(exclude_none=True)
        lines.append(f"- base model: {md_escape(str(record.base_model or '?'))}")
        lines.append(f"- data: {md_escape(str(record.data or '?'))}")
        if metrics:
            lines.append("- validation: " + ", ".join(f"{md_escape(k.removeprefix('eval_'))} {v:.3f}"
                                                     for k, v in metrics.items() if isinstance(v, (int, float))))
        if hyper:
            keys = ("learning_rate", "head_learning_rate", "batch_size", "epochs", "max_steps", "max_length", "seed")
            lines.append("- settings: " + ", ".join(f"{k} {hyper[k]}" for k in keys if k in hyper))
        if record.created:
            lines.append(f"- trained: {md_escape(record.created)}")
    else:
        lines.append("- no studio_run.json beside this checkpoint, so its training facts are unknown")
    task = predictor.task
    reads = ("two texts (" + ", ".join(task.text_columns) + ")") if task.pair else f"one text ({task.text_columns[0]})"
    lines.append(f"- reads {md_escape(reads)}; classes, in order: "
                 + ", ".join(md_escape(n) for n in task.label_names))
    lines.append(f"- reads up to {predictor.max_length} tokens per input on {predictor.device}"
                 f"{' with bf16' if predictor.use_bf16 else ''}")
    lines += [f"- {md_escape(note)}" for note in predictor.notes]
    if engine_details:
        lines += ["", "<details><summary>Engine details</summary>", "", *engine_details, "", "</details>"]
    return "\n".join(lines)
