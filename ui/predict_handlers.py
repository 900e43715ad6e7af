"""The Predict tab's handlers: each answers {name: update} (predict_tab maps the names to its components), except
the batched `predict`, which Gradio's batch mode needs positional (one list per output)."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import gradio as gr
import pandas as pd

from trainer_backend import serving, settings
from trainer_backend.data import DataError
from trainer_backend.publish import hub
from trainer_backend.serving import compare as comparing
from trainer_backend.serving import explain as explaining
from trainer_backend.serving.predict_table import predict_table
from trainer_backend.tasks import MRPC, PAIR_COLUMNS, TaskSpec
from trainer_backend.textsafe import md_escape
from ui.common import error_toast, viewer_of
from ui.predict_answers import facts_markdown, task_markdown
from web import downloads
from web.access import Visitor

DEFAULT_CHOICE = "(default model)"
PLAIN_CHOICE = "(this model in plain PyTorch fp32, no fast path)"
PREVIEW_ROWS = 20
LOG = logging.getLogger(__name__)
# what the tab shows about one text or pair, by name and the element that holds it. A new text hides them all in the
# browser (STALE_JS); each answering event shows again the ones it answered (fresh_js). Done in the page, not by a
# server call that empties them: that call could land after the new pair's answer and wipe it (it did, on a loaded
# machine), whereas two scripts in the same page run in the order the events happen.
ANSWER_ELEMENTS = {"verdict": "predict-verdict", "label": "predict-label", "details": "predict-details",
                   "swap": "predict-swap-md", "compare": "predict-compare", "explain_html": "predict-explain",
                   "explain_json": "predict-explain-json", "compare_json": "predict-compare-json"}
ANSWERS = tuple(ANSWER_ELEMENTS)
STALE_JS = "() => { document.body.dataset.predictStale = %s; }" % json.dumps(" ".join(ANSWERS))
STALE_CSS = "\n".join(f'body[data-predict-stale~="{name}"] #{element} {{ display: none !important; }}'
                      for name, element in ANSWER_ELEMENTS.items())


def fresh_js(*names: str) -> str:
    """The page script that shows these answers again (they were just answered for the text in the boxes)."""
    return ("() => { const fresh = %s; document.body.dataset.predictStale = (document.body.dataset.predictStale || '')"
            ".split(' ').filter((p) => p && !fresh.includes(p)).join(' '); }" % json.dumps(list(names)))
# what follows the model's task: the second box's column, the swap check, the line above and the column boxes. The
# text boxes themselves are never updated: any update fires their change, which hides the answers (STALE_JS)
LAYOUT = ("second_box", "swap_box", "task", "col1", "col2")


def _warn(message: str) -> str:
    return f"⚠️ {md_escape(message)}"


def _choices(who: Visitor | None = None) -> list[tuple[str, str]]:
    """The model menu: the default, then pushed repos and finished runs (on a Space, the visitor's own only)."""
    try:
        runs = serving.model_choices(viewer=who)
    except Exception:  # noqa: BLE001 - an unreadable run store must not break the page
        runs = []
    return [("Default model", DEFAULT_CHOICE)] + runs


def _compare_choices(who: Visitor | None = None) -> list[tuple[str, str]]:
    return [("This model without its fast path (PyTorch fp32)", PLAIN_CHOICE),
            ("Default model", DEFAULT_CHOICE)] + _choices(who)[1:]


# --- the layout follows the model ---------------------------------------------------------------
def layout(task: TaskSpec | None, columns: bool = True) -> dict[str, Any]:
    """One text box or two (the line above names the task's texts); the swap check only where swapping the
    sentences should not change the answer (MRPC's paraphrases). None (unknown yet): two boxes, as for MRPC.
    columns: also set the file's column boxes to the task's column names (when another model is chosen; a Load of
    the same model keeps what was typed)."""
    task = task or MRPC
    names = {"value": task.text_columns[0]} if columns else {}
    second = {"value": task.text_columns[1] if task.pair else PAIR_COLUMNS[1]} if columns else {}
    return {"second_box": gr.Column(visible=task.pair),
            "swap_box": gr.Checkbox(visible=task.is_mrpc),
            "task": task_markdown(task),
            "col1": gr.Textbox(label="Sentence 1 column" if task.pair else "Text column", **names),
            "col2": gr.Textbox(visible=task.pair, **second)}


def _task(model: str, browser_id: Any, ticket: Any) -> TaskSpec | None:
    try:
        return serving.task_for(model, viewer=viewer_of(browser_id, ticket))
    except serving.InferenceError:
        return None


def follow_model(model: str, browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    """The boxes for the chosen model (read from its config alone: nothing is loaded); a model that cannot be read
    keeps two boxes, and Predict or Load says why."""
    return layout(_task(model, browser_id, ticket))


# --- one text or pair ---------------------------------------------------------------------------
def _details(result: serving.PairResult, ms: float, n: int, predictor: serving.Predictor) -> str:
    share = f"in a batch of {n} requests" if n > 1 else "for this request"
    lines = [f"**{md_escape(result.label)}** with {max(result.confidences.values()):.1%} confidence · "
             f"{ms:.0f} ms {share} · model: {md_escape(predictor.ref.title)} · "
             f"{comparing.engine_title(predictor, 'serving', n)}"]
    if predictor.checking:
        lines.append("- A faster copy of the model is being checked in the background; it takes over once it gives "
                     "the same answers as this one (see **Load**).")
    lines += [f"- {md_escape(note)}" for note in result.notes]
    return "\n".join(lines)


def predict(sentence1: list[str], sentence2: list[str], model: list[str],
            browser_id: list | None = None, ticket: list | None = None) -> tuple[list, list]:
    """Batched across visitors: each list holds one entry per waiting request (browser_id and ticket: who sent
    it, read per request by ui.common.viewer_of, never from session state, which Gradio takes from the first
    request of a batch), grouped here by model and visitor, so a run resolves only for its owner. A
    single-sentence model reads sentence1 only. Positional (labels, details): Gradio's batch mode zips one list
    per output, so it cannot take a {component: update} map."""
    n = len(sentence1)
    labels: list[Any] = [None] * n
    details = [""] * n
    ids, tickets = list(browser_id or [None] * n), list(ticket or [None] * n)
    groups: dict[tuple[str, Visitor], list[int]] = {}
    for i, value in enumerate(model):
        groups.setdefault(((value or "").strip() or DEFAULT_CHOICE, viewer_of(ids[i], tickets[i])), []).append(i)
    for (value, who), idx in groups.items():
        try:
            predictor = serving.get_predictor(value, viewer=who)
            start = time.perf_counter()
            results = predictor.predict_pairs([(sentence1[i], sentence2[i]) for i in idx])
            ms = (time.perf_counter() - start) * 1000
        except serving.InferenceError as err:
            for i in idx:
                details[i] = _warn(str(err))
            continue
        except Exception as err:  # noqa: BLE001 - one broken model must not fail other visitors' requests
            LOG.exception("prediction failed")
            for i in idx:
                details[i] = _warn(f"Prediction failed unexpectedly ({err.__class__.__name__}); please try again.")
            continue
        for i, result in zip(idx, results):
            if result.error:
                details[i] = _warn(result.error)
            else:
                labels[i] = result.confidences
                details[i] = _details(result, ms, n, predictor)
    return labels, details


def default_summary(browser_id: Any = None, ticket: Any = None) -> str:
    """Shown on page load: which model a request without a choice will use."""
    try:
        ref = serving.default_model(viewer=viewer_of(browser_id, ticket))
    except Exception:  # noqa: BLE001 - an unreadable run store must not break the page
        ref = None
    if ref is None:
        return serving.NO_MODEL_MESSAGE
    why = {"env": "named by PREDICT_MODEL_ID", "pushed": "the last model this app pushed to the Hub",
           "run": "the latest finished training run",
           "run-skipped": "the latest finished run that learned: newer runs ended at the majority-class floor "
                          "(they answer the commoner label for almost every pair), so they are not the default",
           "run-at-floor": "the latest finished run — but it ended at the majority-class floor, so expect it to "
                           "answer the commoner label for almost every pair; train longer first"}[ref.source]
    return f"**Default model:** {md_escape(ref.title)} ({why}). Press **Load** to see its facts."


def load_model(model: str, browser_id: Any = None, ticket: Any = None, progress=gr.Progress()) -> dict[str, Any]:
    """Load (or fetch from the cache) the chosen model, with progress, and show its facts. Its boxes come from
    follow_loaded, chained after this: a Load takes seconds, and the visitor may choose another model meanwhile."""
    try:
        predictor = serving.get_predictor(model, progress=lambda f, desc: progress(f, desc=desc),
                                          viewer=viewer_of(browser_id, ticket))
    except serving.InferenceError as err:
        return {"facts": _warn(str(err)), "zip_button": gr.Button(visible=False)}
    return {"facts": facts_markdown(predictor), "zip_button": gr.Button(visible=serving.has_weights(predictor.loaded_from))}


def follow_loaded(model: str, browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    """After a Load: the boxes of the model chosen *now* (a Hub model's config is in the cache once loaded), keeping
    the column names typed for the file."""
    return layout(_task(model, browser_id, ticket), columns=False)


def refresh_models(current: str, other: str = PLAIN_CHOICE, browser_id: Any = None,
                   ticket: Any = None) -> dict[str, Any]:
    """Re-read the run store so newly finished or pushed runs appear in both lists."""
    who = viewer_of(browser_id, ticket)
    return {"model": gr.Dropdown(choices=_choices(who), value=current or DEFAULT_CHOICE),
            "other": gr.Dropdown(choices=_compare_choices(who), value=other or PLAIN_CHOICE)}


def on_page_load(browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    """A (re)loaded page lists the runs finished or pushed since the app started and names the default (the boxes
    its model reads come from follow_model, wired beside this). The menus' choices only, not their values: this
    answer can land after a model the visitor chose in the first seconds, and must not put the old one back."""
    who = viewer_of(browser_id, ticket)
    return {"model": gr.Dropdown(choices=_choices(who)), "other": gr.Dropdown(choices=_compare_choices(who)),
            "default": default_summary(browser_id, ticket)}


def explain(sentence1: str, sentence2: str, model: str | None = None, browser_id: Any = None,
            ticket: Any = None) -> dict[str, Any]:
    """Integrated Gradients for one input: its words coloured (HTML; both sentences of a pair) and the scores."""
    try:
        predictor = serving.get_predictor(model, viewer=viewer_of(browser_id, ticket))
        expl = explaining.explain_pair(predictor, sentence1, sentence2)
    except serving.InferenceError as err:
        return {"explain_html": f"<p>{_warn(str(err))}</p>", "explain_json": {"error": str(err)}}
    except Exception as err:  # noqa: BLE001 - a failed explanation must not break the page
        LOG.exception("explanation failed")
        message = f"The explanation failed unexpectedly ({err.__class__.__name__}); please try again."
        return {"explain_html": f"<p>{_warn(message)}</p>", "explain_json": {"error": message}}
    return {"explain_html": explaining.to_html(expl), "explain_json": expl.to_json()}


# --- compare ------------------------------------------------------------------------------------
def _second(model: str, other: str, who: Visitor) -> tuple[serving.Predictor, serving.Predictor, str]:
    """The two predictors to compare and the engine the second one uses."""
    other = (other or "").strip() or PLAIN_CHOICE
    first = serving.get_predictor(model, viewer=who)
    if other == PLAIN_CHOICE:
        return first, first, "pytorch-fp32"
    return first, serving.get_predictor(other, viewer=who), "serving"


def _probability(side: comparing.Side, positive: str | None) -> float:
    """P(the positive class) for two-class models, else P(the side's own answer)."""
    return side.confidences.get(positive if positive else side.label, 0.0)


def compare_pair(sentence1: str, sentence2: str, model: str | None = None,
                 other: str = PLAIN_CHOICE, browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    """The input through two models side by side: both answers and latencies."""
    try:
        start = time.perf_counter()
        first, second, engine = _second(model, other, viewer_of(browser_id, ticket))
        load_s = time.perf_counter() - start
        sides = comparing.compare_pair(first, second, sentence1, sentence2, engine)
    except serving.InferenceError as err:
        return {"compare": _warn(str(err)), "compare_json": {"error": str(err)}}
    same_classes = first.labels == second.labels
    positive = first.labels[1] if len(first.labels) == 2 and same_classes else None
    shown = f"P({md_escape(positive)})" if positive else "P(answer)"
    rows = [f"| | model | engine | answer | {shown} | latency |", "|---|---|---|---|---|---|"]
    for name, side in zip(("A", "B"), sides):
        if side.error:
            rows.append(f"| {name} | {md_escape(side.model)} | {md_escape(side.engine)} | {_warn(side.error)} | | |")
        else:
            rows.append(f"| {name} | {md_escape(side.model)} | {md_escape(side.engine)} | **{md_escape(side.label)}** "
                        f"| {_probability(side, positive):.1%} | {side.ms:.1f} ms |")
    a, b = sides
    verdict = ("Both give the **same answer**." if a.label == b.label else "They **disagree**.") \
        if not (a.error or b.error) else ""
    if verdict and positive:
        verdict += f" P({md_escape(positive)}) differs by {abs(_probability(a, positive) - _probability(b, positive)):.1%}."
    if verdict and not same_classes:
        verdict += " (The two models do not have the same classes.)"
    notes = [verdict, "Latency: best of 3 calls for this one input, loading not counted"
             + (f" (loading took {load_s:.1f} s)." if load_s > 0.5 else ".")]
    return {"compare": "\n".join(rows) + "\n\n" + " ".join(n for n in notes if n),
            "compare_json": {"a": a.to_json(), "b": b.to_json()}}


def _columns(sentence1_column: str, sentence2_column: str, label_column: str) -> tuple[str, str, str]:
    return ((sentence1_column or "").strip() or PAIR_COLUMNS[0], (sentence2_column or "").strip() or PAIR_COLUMNS[1],
            (label_column or "").strip())


def _f1(metrics: dict) -> str:
    value = metrics.get("f1", metrics.get("macro_f1"))
    return f"{value:.3f}" if value is not None else "–"


def compare_batch(file: str | None, sentence1_column: str, sentence2_column: str, label_column: str,
                  model: str | None = None, other: str = PLAIN_CHOICE, browser_id: Any = None,
                  ticket: Any = None) -> str:
    """Every row of a file through both models: both scores, times, and how often they agree."""
    if not file:
        raise gr.Error("Upload a CSV, TSV or JSONL file first.", print_exception=False)
    try:
        first, second, engine = _second(model, other, viewer_of(browser_id, ticket))
        result = comparing.compare_table(file, first, second, *_columns(sentence1_column, sentence2_column,
                                                                         label_column), engine)
    except (serving.InferenceError, DataError) as err:
        raise error_toast(err) from None
    rows = ["| | model | engine | time | rows/s | accuracy | F1 |", "|---|---|---|---|---|---|---|"]
    for name, pred, eng, rep in (("A", first, "serving", result.first), ("B", second, engine, result.second)):
        m = rep.metrics or {}
        score = (f"{m['accuracy']:.3f} | {_f1(m)}" if m else "– | –")
        rows.append(f"| {name} | {md_escape(pred.ref.title)} | {md_escape(comparing.engine_title(pred, eng, result.rows))} | "
                    f"{rep.seconds:.2f} s | {result.rows / max(rep.seconds, 1e-9):,.0f} | {score} |")
    what = "pairs" if first.pair else "sentences"
    return ("\n".join(rows) + f"\n\n**{result.same_answers:,} of {result.rows:,} {what}** got the same answer "
            f"from both ({result.same_answers / max(result.rows, 1):.1%}).")


# --- files and the model zip --------------------------------------------------------------------
def zip_model(model: str, browser_id: Any = None, ticket: Any = None) -> Any:
    """A zip of the loaded local checkpoint, for download."""
    if settings.on_space():  # whose run it is cannot be told here: the Train tab checks the owner
        raise gr.Error("On this Space a model is downloaded from the Train tab, where only the run's owner can.",
                       print_exception=False)
    try:
        predictor = serving.get_predictor(model, viewer=viewer_of(browser_id, ticket))
        if not serving.has_weights(predictor.loaded_from):
            raise gr.Error("This model came from the Hub; download it there instead.", print_exception=False)
        return gr.File(value=str(hub.zip_checkpoint(predictor.loaded_from, downloads.new_file)), visible=True)
    except (serving.InferenceError, hub.HubError) as err:
        raise error_toast(err) from None


def confusion_frame(matrix: list[list[int]] | None, names: list[str]) -> pd.DataFrame:
    """The n × n confusion matrix as a table: a row per true class, a column per predicted class."""
    if not matrix:
        return pd.DataFrame()
    return pd.DataFrame([[f"true {names[r]}", *matrix[r]] for r in range(len(names))],
                        columns=["", *(f"predicted {x}" for x in names)])


def predict_batch(file: str | None, sentence1_column: str, sentence2_column: str, label_column: str,
                  model: str, browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    """Classify every row of an uploaded CSV/TSV/JSONL (one or two text columns, as the model reads); metrics and
    a confusion matrix when labels are given."""
    if not file:
        raise gr.Error("Upload a CSV, TSV or JSONL file first.", print_exception=False)
    try:
        predictor = serving.get_predictor(model, viewer=viewer_of(browser_id, ticket))
        report = predict_table(file, predictor, *_columns(sentence1_column, sentence2_column, label_column))
    except (serving.InferenceError, DataError) as err:
        raise error_toast(err) from None
    n = len(report.rows)
    what = "pairs" if predictor.pair else "sentences"
    lines = [f"**{n:,} {what}** classified in {report.seconds:.2f} s ({n / max(report.seconds, 1e-9):,.0f} {what}/s) "
             f"by {md_escape(predictor.ref.title)}."]
    if report.metrics:
        lines.append("Against your labels: " + ", ".join(f"{k.replace('_', ' ')} **{v:.3f}**"
                                                         for k, v in report.metrics.items()) + ".")
    else:
        lines.append("No label column was found, so there is nothing to score against.")
    lines += [f"- {md_escape(note)}" for note in report.notes]
    return {"predictions": str(report.csv_path), "summary": "\n".join(lines),
            "preview": preview_frame(report.rows[:PREVIEW_ROWS], report.text_columns),
            "confusion": confusion_frame(report.confusion, report.labels)}


def preview_frame(rows: list[dict], texts: tuple[str, ...] = PAIR_COLUMNS) -> pd.DataFrame:
    """The file preview with the answer first (label, probability, right?) and texts cut to 80 characters (the CSV
    keeps them whole), so the columns that matter fit the pane."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    first = [c for c in frame.columns if c.startswith(("predicted", "probability"))] + \
        [c for c in ("label", "correct") if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    for column in texts:
        if column in frame.columns:
            frame[column] = [t if len(t) <= 80 else t[:79] + "…" for t in frame[column].astype(str)]
    return frame
