"""The Predict tab: ask a fine-tuned checkpoint about one sentence pair or a whole file of pairs."""
from __future__ import annotations

import logging
import time
from typing import Any

import gradio as gr
import pandas as pd

from trainer_backend import serving, settings
from trainer_backend.data import FILE_TYPES, DataError
from trainer_backend.publish import hub
from trainer_backend.serving import compare as comparing
from trainer_backend.serving import explain as explaining
from trainer_backend.serving.predict_table import predict_table
from trainer_backend.textsafe import md_escape
from ui.common import AppContext, error_toast, viewer_of, who_inputs
from ui.predict_answers import facts_markdown, swap_check
from web import downloads
from web.access import Visitor

DEFAULT_CHOICE = "(default model)"
PLAIN_CHOICE = "(this model in plain PyTorch fp32, no fast path)"
MAX_BATCH = 16
PREVIEW_ROWS = 20
LOG = logging.getLogger(__name__)
EXAMPLES = [  # written for this app; the last five are near misses that share most of their words
    ["The library stays open until nine on weekdays.", "On weekdays the library closes at nine."],
    ["Heavy snow forced the airport to cancel dozens of flights.",
     "Dozens of flights were called off after a heavy snowfall hit the airport."],
    ["The company's profit rose 12 percent in the third quarter.",
     "The company's profit rose 21 percent in the third quarter."],
    ["The minister said the fuel tax would be raised in April.",
     "The minister said the fuel tax would not be raised in April."],
    ["The bank bought the insurer for two billion dollars.", "The insurer bought the bank for two billion dollars."],
    ["The striker scored twice before half-time.", "The striker was booked twice before half-time."],
    ["Researchers found the drug lowered blood pressure in older patients.",
     "Researchers are still recruiting older patients for the blood pressure trial."],
]
INTRO = ("Ask a fine-tuned checkpoint whether two sentences say the same thing. The model reads both sentences "
         "as one input (`[CLS] first [SEP] second [SEP]`), and its two-way head turns the `[CLS]` vector into "
         "probabilities for *paraphrase* and *not paraphrase*. Try the near misses below: one changed number, "
         "word or role is often enough to flip the meaning, and a small model can miss it. **Explain** colours each "
         "word by how much it pushed the answer; **Compare** asks a second model (or this one without its fast "
         "path) the same question.")


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


def _details(result: serving.PairResult, ms: float, n: int, predictor: serving.Predictor) -> str:
    share = f"in a batch of {n} requests" if n > 1 else "for this request"
    lines = [f"**{result.label}** with {max(result.confidences.values()):.1%} confidence · "
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
    request of a batch), grouped here by model and visitor, so a run resolves only for its owner."""
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


def clear_answers() -> tuple:
    """The sentences changed: no verdict, label, detail, swap check, comparison or explanation of the old pair
    stays."""
    return "", None, "", "", "", "", None, None


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


def load_model(model: str, browser_id: Any = None, ticket: Any = None,
               progress=gr.Progress()) -> tuple[str, Any]:
    """Load (or fetch from the cache) the chosen model, with progress, and show its facts."""
    try:
        predictor = serving.get_predictor(model, progress=lambda f, desc: progress(f, desc=desc),
                                          viewer=viewer_of(browser_id, ticket))
    except serving.InferenceError as err:
        return _warn(str(err)), gr.Button(visible=False)
    return facts_markdown(predictor), gr.Button(visible=serving.has_weights(predictor.loaded_from))


def refresh_models(current: str, other: str = PLAIN_CHOICE, browser_id: Any = None,
                   ticket: Any = None) -> tuple[Any, Any]:
    """Re-read the run store so newly finished or pushed runs appear in both lists."""
    who = viewer_of(browser_id, ticket)
    return (gr.Dropdown(choices=_choices(who), value=current or DEFAULT_CHOICE),
            gr.Dropdown(choices=_compare_choices(who), value=other or PLAIN_CHOICE))


def on_page_load(current: str, other: str = PLAIN_CHOICE, browser_id: Any = None,
                 ticket: Any = None) -> tuple[Any, Any, str]:
    """A (re)loaded page lists the runs finished or pushed since the app started and names the default."""
    return *refresh_models(current, other, browser_id, ticket), default_summary(browser_id, ticket)


def explain(sentence1: str, sentence2: str, model: str | None = None, browser_id: Any = None,
            ticket: Any = None) -> tuple[str, dict]:
    """Integrated Gradients for one pair: both sentences' words coloured (HTML) and the words with scores."""
    try:
        predictor = serving.get_predictor(model, viewer=viewer_of(browser_id, ticket))
        expl = explaining.explain_pair(predictor, sentence1, sentence2)
    except serving.InferenceError as err:
        return f"<p>{_warn(str(err))}</p>", {"error": str(err)}
    except Exception as err:  # noqa: BLE001 - a failed explanation must not break the page
        LOG.exception("explanation failed")
        message = f"The explanation failed unexpectedly ({err.__class__.__name__}); please try again."
        return f"<p>{_warn(message)}</p>", {"error": message}
    return explaining.to_html(expl), expl.to_json()


def _second(model: str, other: str, who: Visitor) -> tuple[serving.Predictor, serving.Predictor, str]:
    """The two predictors to compare and the engine the second one uses."""
    other = (other or "").strip() or PLAIN_CHOICE
    first = serving.get_predictor(model, viewer=who)
    if other == PLAIN_CHOICE:
        return first, first, "pytorch-fp32"
    return first, serving.get_predictor(other, viewer=who), "serving"


def compare_pair(sentence1: str, sentence2: str, model: str | None = None,
                 other: str = PLAIN_CHOICE, browser_id: Any = None, ticket: Any = None) -> tuple[str, dict]:
    """The pair through two models side by side: both answers and latencies."""
    try:
        start = time.perf_counter()
        first, second, engine = _second(model, other, viewer_of(browser_id, ticket))
        load_s = time.perf_counter() - start
        sides = comparing.compare_pair(first, second, sentence1, sentence2, engine)
    except serving.InferenceError as err:
        return _warn(str(err)), {"error": str(err)}
    positive = first.labels[1]
    rows = ["| | model | engine | answer | P(" + positive + ") | latency |", "|---|---|---|---|---|---|"]
    for name, side in zip(("A", "B"), sides):
        if side.error:
            rows.append(f"| {name} | {md_escape(side.model)} | {md_escape(side.engine)} | {_warn(side.error)} | | |")
        else:
            rows.append(f"| {name} | {md_escape(side.model)} | {md_escape(side.engine)} | **{side.label}** | "
                        f"{side.confidences.get(positive, 0):.1%} | {side.ms:.1f} ms |")
    a, b = sides
    verdict = ("Both give the **same answer**." if a.label == b.label else "They **disagree**.") \
        if not (a.error or b.error) else ""
    moved = abs(a.confidences.get(positive, 0) - b.confidences.get(positive, 0)) if verdict else 0.0
    notes = [verdict + (f" P({positive}) differs by {moved:.1%}." if verdict else ""),
             "Latency: best of 3 calls for this one pair, loading not counted"
             + (f" (loading took {load_s:.1f} s)." if load_s > 0.5 else ".")]
    return "\n".join(rows) + "\n\n" + " ".join(notes), {"a": a.to_json(), "b": b.to_json()}


def compare_batch(file: str | None, sentence1_column: str, sentence2_column: str, label_column: str,
                  model: str | None = None, other: str = PLAIN_CHOICE, browser_id: Any = None,
                  ticket: Any = None) -> str:
    """Every pair of a file through both models: both scores, times, and how often they agree."""
    if not file:
        raise gr.Error("Upload a CSV, TSV or JSONL file of sentence pairs first.", print_exception=False)
    try:
        first, second, engine = _second(model, other, viewer_of(browser_id, ticket))
        result = comparing.compare_table(file, first, second, (sentence1_column or "").strip() or "sentence1",
                                         (sentence2_column or "").strip() or "sentence2",
                                         (label_column or "").strip(), engine)
    except (serving.InferenceError, DataError) as err:
        raise error_toast(err) from None
    rows = ["| | model | engine | time | pairs/s | accuracy | F1 |", "|---|---|---|---|---|---|---|"]
    for name, pred, eng, rep in (("A", first, "serving", result.first), ("B", second, engine, result.second)):
        m = rep.metrics or {}
        score = (f"{m['accuracy']:.3f} | {m['f1']:.3f}" if m else "– | –")
        rows.append(f"| {name} | {md_escape(pred.ref.title)} | {md_escape(comparing.engine_title(pred, eng, result.rows))} | "
                    f"{rep.seconds:.2f} s | {result.rows / max(rep.seconds, 1e-9):,.0f} | {score} |")
    return ("\n".join(rows) + f"\n\n**{result.same_answers:,} of {result.rows:,} pairs** got the same answer "
            f"from both ({result.same_answers / max(result.rows, 1):.1%}).")


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


def predict_batch(file: str | None, sentence1_column: str, sentence2_column: str, label_column: str,
                  model: str, browser_id: Any = None,
                  ticket: Any = None) -> tuple[str, str, pd.DataFrame, pd.DataFrame]:
    """Classify every pair in an uploaded CSV/TSV/JSONL; metrics and a confusion matrix when labels are given."""
    if not file:
        raise gr.Error("Upload a CSV, TSV or JSONL file of sentence pairs first.", print_exception=False)
    try:
        predictor = serving.get_predictor(model, viewer=viewer_of(browser_id, ticket))
        report = predict_table(file, predictor, (sentence1_column or "").strip() or "sentence1",
                                         (sentence2_column or "").strip() or "sentence2",
                                         (label_column or "").strip())
    except (serving.InferenceError, DataError) as err:
        raise error_toast(err) from None
    n = len(report.rows)
    lines = [f"**{n:,} pairs** classified in {report.seconds:.2f} s ({n / max(report.seconds, 1e-9):,.0f} pairs/s) "
             f"by {md_escape(predictor.ref.title)}."]
    if report.metrics:
        lines.append("Against your labels: " + ", ".join(f"{k} **{v:.3f}**" for k, v in report.metrics.items()) + ".")
    else:
        lines.append("No label column was found, so there is nothing to score against.")
    lines += [f"- {md_escape(note)}" for note in report.notes]
    confusion = pd.DataFrame()
    if report.confusion:
        names = report.labels
        confusion = pd.DataFrame([[f"true {names[r]}", *report.confusion[r]] for r in range(2)],
                                 columns=["", *(f"predicted {x}" for x in names)])
    return str(report.csv_path), "\n".join(lines), preview_frame(report.rows[:PREVIEW_ROWS]), confusion


def preview_frame(rows: list[dict]) -> pd.DataFrame:
    """The file preview with the answer first (label, probability, right?) and sentences cut to 80 characters
    (the CSV keeps them whole), so the columns that matter fit the pane."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    first = [c for c in frame.columns if c.startswith(("predicted", "probability"))] + \
        [c for c in ("label", "correct") if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    for column in ("sentence1", "sentence2"):
        if column in frame.columns:
            frame[column] = [t if len(t) <= 80 else t[:79] + "…" for t in frame[column].astype(str)]
    return frame


def build(ctx: AppContext | None = None) -> None:
    """Create the tab's components inside the current Blocks."""
    gr.Markdown(INTRO)
    # who asks: the key the server kept at page load, and the browser's id (what API clients send, as in Train)
    who = who_inputs(ctx)
    with gr.Row():
        model = gr.Dropdown(choices=_choices(), value=DEFAULT_CHOICE, allow_custom_value=True, scale=4,
                            elem_id="predict-model",
                            label="Model", info="A finished run, a pushed repo, or type any Hub model id.")
        with gr.Column(scale=1, min_width=160):
            load_button = gr.Button("Load", size="sm", elem_id="predict-load")
            refresh_button = gr.Button("↻ Refresh list", size="sm")
        other = gr.Dropdown(choices=_compare_choices(), value=PLAIN_CHOICE, allow_custom_value=True, scale=3,
                            label="Compare with (optional)", elem_id="predict-other",
                            info="Compare runs the pair or file through both: this model without its fast path, or a second model.")
    facts = gr.Markdown(elem_id="predict-facts")
    with gr.Row():
        zip_button = gr.Button("Download this model (zip)", visible=False, size="sm")
        zip_file = gr.File(label="Model zip", visible=False, elem_id="predict-zip")
    with gr.Tabs():
        with gr.Tab("One pair"):
            with gr.Row():
                sentence1 = gr.Textbox(label="Sentence 1", lines=2, elem_id="predict-s1")
                sentence2 = gr.Textbox(label="Sentence 2", lines=2, elem_id="predict-s2")
            with gr.Row():
                predict_button = gr.Button("Predict", variant="primary", elem_id="predict-button")
                explain_button = gr.Button("Explain", elem_id="predict-explain-button")
                compare_button = gr.Button("Compare", elem_id="predict-compare-button")
                swap = gr.Checkbox(value=True, label="Also check with the sentences swapped")
            verdict_md = gr.Markdown(elem_id="predict-verdict")  # "the model is unsure", above the answer
            label = gr.Label(num_top_classes=2, label="Prediction", elem_id="predict-label")
            details = gr.Markdown(elem_id="predict-details")
            swap_md = gr.Markdown()
            compare_md = gr.Markdown(elem_id="predict-compare")
            explain_html = gr.HTML(elem_id="predict-explain")
            with gr.Accordion("Explanation and comparison as data", open=False):
                explain_json = gr.JSON(label="Explain: words and scores")
                compare_json = gr.JSON(label="Compare: both answers")
            gr.Examples(EXAMPLES, inputs=[sentence1, sentence2], label="Examples (the last five are near misses)")
        with gr.Tab("A file of pairs"):
            gr.Markdown("Upload pairs as CSV, TSV or JSONL with the same column mapping as **Train**. With a "
                        "label column you also get accuracy, F1 and a confusion matrix.")
            upload = gr.File(label="Pairs file", file_types=list(FILE_TYPES),
                             type="filepath", elem_id="predict-upload")
            with gr.Row():
                col1 = gr.Textbox(value="sentence1", label="Sentence 1 column")
                col2 = gr.Textbox(value="sentence2", label="Sentence 2 column")
                col_label = gr.Textbox(value="label", label="Label column (optional)")
            with gr.Row():
                batch_button = gr.Button("Predict the file", variant="primary")
                compare_file_button = gr.Button("Compare the file", elem_id="predict-compare-file")
            summary = gr.Markdown()
            compare_file_md = gr.Markdown(elem_id="predict-compare-file-summary")
            predictions = gr.File(label="Predictions (CSV)")
            confusion = gr.Dataframe(label="Confusion matrix", interactive=False)
            preview = gr.Dataframe(label=f"First {PREVIEW_ROWS} predictions", interactive=False, wrap=True,
                                   elem_id="predict-preview")

    # a new pair (typed, pasted or an example) clears every answer about the old one. Outside the queue: queued
    # behind other requests, the clear for pair A could land after A's own answer and wipe it (it returns constants)
    answers = [verdict_md, label, details, swap_md, compare_md, explain_html, explain_json, compare_json]
    gr.on([sentence1.change, sentence2.change], clear_answers, None, answers, api_name=False,
          show_progress="hidden", queue=False)
    gr.on([predict_button.click, sentence1.submit, sentence2.submit], predict, [sentence1, sentence2, model, *who],
          [label, details], api_name="predict", batch=True, max_batch_size=MAX_BATCH, concurrency_limit=1,
          ).then(swap_check, [sentence1, sentence2, model, swap, *who], [verdict_md, swap_md], api_name=False)
    batch_button.click(predict_batch, [upload, col1, col2, col_label, model, *who],
                       [predictions, summary, preview, confusion], api_name="predict_batch", concurrency_limit=1)
    explain_button.click(explain, [sentence1, sentence2, model, *who], [explain_html, explain_json], api_name="explain",
                         concurrency_limit=1)
    compare_button.click(compare_pair, [sentence1, sentence2, model, other, *who], [compare_md, compare_json],
                         api_name="compare", concurrency_limit=1)
    compare_file_button.click(compare_batch, [upload, col1, col2, col_label, model, other, *who], compare_file_md,
                              api_name="compare_batch", concurrency_limit=1)
    load_button.click(load_model, [model, *who], [facts, zip_button], api_name=False, concurrency_limit=2)
    refresh_button.click(refresh_models, [model, other, *who], [model, other], api_name=False)
    if ctx is not None:  # a pair from another tab (Train's mistakes) lands here and is explained
        ctx.predict_pair = {"sentence1": sentence1, "sentence2": sentence2, "model": model,
                            "explain": (explain, [sentence1, sentence2, model, *who], [explain_html, explain_json])}
    if ctx is not None:  # once the viewer is known: their runs in the menus, their default named
        ctx.on_viewer_known(on_page_load, [model, other, *who], [model, other, facts])
    zip_button.click(zip_model, [model, *who], zip_file, api_name=False)


if __name__ == "__main__":
    with gr.Blocks() as demo:
        build(AppContext(root=demo))
    demo.queue().launch()
