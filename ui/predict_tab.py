"""The Predict tab: ask a fine-tuned checkpoint about one sentence pair (or one sentence, for a single-sentence
model) or a whole file; the layout and its wiring (the handlers: predict_handlers)."""
from __future__ import annotations

import gradio as gr

from trainer_backend.data import FILE_TYPES
from trainer_backend.tasks import MRPC
from ui.common import AppContext, who_inputs
from ui.predict_answers import facts_markdown, swap_check, task_markdown
from ui.predict_handlers import (
    DEFAULT_CHOICE,
    LAYOUT,
    PLAIN_CHOICE,
    PREVIEW_ROWS,
    STALE_JS,
    _choices,
    _compare_choices,
    compare_batch,
    compare_pair,
    explain,
    follow_loaded,
    follow_model,
    fresh_js,
    load_model,
    on_page_load,
    predict,
    predict_batch,
    preview_frame,
    refresh_models,
    zip_model,
)
from ui.train_view import by_component

__all__ = ["DEFAULT_CHOICE", "PLAIN_CHOICE", "build", "facts_markdown", "on_page_load", "predict", "preview_frame",
           "zip_model"]
MAX_BATCH = 16
# One queue lane for the boxes' layout (the page load's, each model change's and the step after each Load: FIFO, one
# at a time): a page load's layout for the default could otherwise be answered after the model the visitor chose in
# the first seconds, and lay the default's boxes back out. A config read: milliseconds, so one lane for all is cheap.
LAYOUT_LANE = {"concurrency_id": "predict-layout", "concurrency_limit": 1}
MAX_CLASSES_SHOWN = 10  # bars in the answer: every class of a GLUE task, the top ten of a larger head
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
INTRO = ("Ask a fine-tuned checkpoint whether two sentences say the same thing — or, for a model trained on single "
         "sentences or on another task, what class a text belongs to: the boxes below follow the model. A pair model "
         "reads both sentences as one input (`[CLS] first [SEP] second [SEP]`), and its head turns the `[CLS]` "
         "vector into a probability for each class: for MRPC, *paraphrase* and *not paraphrase*. Try the near misses "
         "below: one changed number, word or role is often enough to flip the meaning, and a small model can miss "
         "it. **Explain** colours each word by how much it pushed the answer; **Compare** asks a second model (or "
         "this one without its fast path) the same question.")


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
    # two lines: the page load names the default model, Load shows the facts of the chosen one. Each has its own
    # component, so a page load answered late (a busy server) cannot overwrite the facts a quick Load just showed
    with gr.Column(elem_id="predict-facts"):
        default_line = gr.Markdown(elem_id="predict-default")
        facts = gr.Markdown(elem_id="predict-loaded")
    with gr.Row():
        zip_button = gr.Button("Download this model (zip)", visible=False, size="sm")
        zip_file = gr.File(label="Model zip", visible=False, elem_id="predict-zip")
    task = gr.Markdown(task_markdown(MRPC), elem_id="predict-task")  # what the chosen model reads and answers
    with gr.Tabs():
        with gr.Tab("One pair"):
            with gr.Row():
                sentence1 = gr.Textbox(label="Sentence 1", lines=2, elem_id="predict-s1")
                with gr.Column(elem_id="predict-s2-box") as second_box:  # hidden for a single-sentence model
                    sentence2 = gr.Textbox(label="Sentence 2", lines=2, elem_id="predict-s2")
            with gr.Row():
                predict_button = gr.Button("Predict", variant="primary", elem_id="predict-button")
                explain_button = gr.Button("Explain", elem_id="predict-explain-button")
                compare_button = gr.Button("Compare", elem_id="predict-compare-button")
                swap = gr.Checkbox(value=True, label="Also check with the sentences swapped", elem_id="predict-swap")
            verdict_md = gr.Markdown(elem_id="predict-verdict")  # "the model is unsure", above the answer
            label = gr.Label(num_top_classes=MAX_CLASSES_SHOWN, label="Prediction", elem_id="predict-label")
            details = gr.Markdown(elem_id="predict-details")
            swap_md = gr.Markdown(elem_id="predict-swap-md")
            compare_md = gr.Markdown(elem_id="predict-compare")
            explain_html = gr.HTML(elem_id="predict-explain")
            with gr.Accordion("Explanation and comparison as data", open=False):
                explain_json = gr.JSON(label="Explain: words and scores", elem_id="predict-explain-json")
                compare_json = gr.JSON(label="Compare: both answers", elem_id="predict-compare-json")
            gr.Examples(EXAMPLES, inputs=[sentence1, sentence2], label="Examples (the last five are near misses)")
        with gr.Tab("A file of pairs"):
            gr.Markdown("Upload pairs (or single sentences, for a single-sentence model) as CSV, TSV or JSONL with the "
                        "same column mapping as **Train**. With a label column (class names or numbers) you also "
                        "get accuracy, F1 and a confusion matrix.")
            upload = gr.File(label="Pairs file", file_types=list(FILE_TYPES),
                             type="filepath", elem_id="predict-upload")
            with gr.Row():
                col1 = gr.Textbox(value="sentence1", label="Sentence 1 column", elem_id="predict-col1")
                col2 = gr.Textbox(value="sentence2", label="Sentence 2 column", elem_id="predict-col2")
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

    # every handler answers {name: update}; these are the names' components (by_component maps them)
    parts = {"verdict": verdict_md, "label": label, "details": details, "swap": swap_md, "compare": compare_md,
             "explain_html": explain_html, "explain_json": explain_json, "compare_json": compare_json,
             "second_box": second_box, "swap_box": swap, "task": task, "col1": col1,
             "col2": col2, "facts": facts, "default": default_line, "zip_button": zip_button, "model": model, "other": other,
             "predictions": predictions, "summary": summary, "preview": preview, "confusion": confusion}

    def wired(handler, inputs: list | None, *names: str) -> tuple:
        """(fn, inputs, outputs) for a listener: the handler answering {component: update} for its named outputs."""
        return by_component(handler, parts), inputs, [parts[n] for n in names]

    layout = list(LAYOUT)
    def shown_after(event, script: str) -> None:
        """Run `script` (fresh_js: show the answers again) once `event` has answered; not when it failed, as they
        would be the old pair's."""
        event.success(None, None, None, js=script, api_name=False)

    # a new pair (typed, pasted or an example) hides every answer about the old one, in the page (STALE_JS: no
    # server call that could land after the new answer); each answer below shows its own parts again when it lands
    gr.on([sentence1.change, sentence2.change], None, None, None, js=STALE_JS, api_name=False)
    # batched: Gradio's batch mode zips one list per output, so predict answers positionally
    predicting = gr.on([predict_button.click, sentence1.submit, sentence2.submit], predict,
                       [sentence1, sentence2, model, *who], [label, details], api_name="predict", batch=True,
                       max_batch_size=MAX_BATCH, concurrency_limit=1)
    shown_after(predicting, fresh_js("label", "details"))
    shown_after(predicting.then(*wired(swap_check, [sentence1, sentence2, model, swap, *who], "verdict", "swap"),
                                api_name=False), fresh_js("verdict", "swap"))
    batch_button.click(*wired(predict_batch, [upload, col1, col2, col_label, model, *who], "predictions", "summary",
                              "preview", "confusion"), api_name="predict_batch",
                       concurrency_limit=1)
    explaining = wired(explain, [sentence1, sentence2, model, *who], "explain_html", "explain_json")
    explained = fresh_js("explain_html", "explain_json")
    shown_after(explain_button.click(*explaining, api_name="explain", concurrency_limit=1), explained)
    shown_after(compare_button.click(*wired(compare_pair, [sentence1, sentence2, model, other, *who], "compare",
                                            "compare_json"), api_name="compare", concurrency_limit=1),
                fresh_js("compare", "compare_json"))
    compare_file_button.click(compare_batch, [upload, col1, col2, col_label, model, other, *who], compare_file_md,
                              api_name="compare_batch", concurrency_limit=1)
    # Load's own answer is the facts; the boxes follow in the layout lane, for the model in the box when Load ends
    # (it may have changed while Load ran: the lane then answers in order, never with the loaded model's boxes)
    load_button.click(*wired(load_model, [model, *who], "facts", "zip_button"), api_name=False,
                      concurrency_limit=2).then(*wired(follow_loaded, [model, *who], *layout), api_name=False,
                                                show_progress="hidden", **LAYOUT_LANE)
    # another model chosen (from the menu, typed, or sent by Train's mistakes table): its boxes, from its config (a
    # Hub model's only once it is in this machine's cache: Load brings it, and the step after Load sets the boxes).
    # Not after each answer: updating the boxes fires their change, which clears the answer just given
    model.change(*wired(follow_model, [model, *who], *layout), api_name=False, show_progress="hidden", **LAYOUT_LANE)
    refresh_button.click(*wired(refresh_models, [model, other, *who], "model", "other"), api_name=False)
    if ctx is not None:  # a pair from another tab (Train's mistakes) lands here and is explained
        ctx.predict_pair = {"sentence1": sentence1, "sentence2": sentence2, "model": model,
                            "explain": explaining, "explain_shown": explained}
    if ctx is not None:  # once the viewer is known: their runs in the menus, their default named, its boxes shown
        ctx.on_viewer_known(*wired(on_page_load, who, "model", "other", "default"))
        # its own step beside it: reading the default's config must not delay the default's line
        ctx.on_viewer_known(*wired(follow_model, [model, *who], *layout), **LAYOUT_LANE)
    zip_button.click(zip_model, [model, *who], zip_file, api_name=False)


if __name__ == "__main__":
    with gr.Blocks() as demo:
        build(AppContext(root=demo))
    demo.queue().launch()
