"""The Lesson tab: the fine-tuning loop section by section, with live demos and the code the app really runs."""
from __future__ import annotations

from typing import Any

import gradio as gr

from lesson import curves, live, navigation, noise, padding, predictions, sections
from trainer_backend import settings, tasks
from trainer_backend.data import DataError
from trainer_backend.modeling import ModelError
from trainer_backend.runs.store import RunStore
from ui.common import AppContext, by_component, error_toast, viewer_of, who_inputs

PROGRESS_KEY = "finetune-studio-lesson-progress"
# Not a credential: the stored value is only a list of section ids. A fixed key (instead of Gradio's random
# per-process one) keeps a reader's progress readable after the server restarts.
PROGRESS_KEY_SALT = "lesson-progress-v1"
KNOWN_ERRORS = (DataError, ModelError, ValueError, KeyError, OSError)
AUTO_MODEL = ("packaged / auto model with a fresh, untrained head", "auto")
ARTICLE_CHOICE = ("the seed article's run (bert-base, 3 epochs)", curves.ARTICLE)
# Keeps the address bar on the open section (shareable deep link) and brings the section's top into view.
URL_JS = """(section) => {
  const url = new URL(window.location.href);
  if (section && url.searchParams.get('section') !== section) {
    url.searchParams.set('section', section);
    window.history.replaceState(null, '', url);
  }
  const top = document.getElementById('lesson-main');
  if (top && top.getBoundingClientRect().top < 0) top.scrollIntoView({block: 'start'});
}"""
PHONE_PX = 700  # narrower than this, the section list starts folded so the lesson itself is on the first screen
# On a phone the section list starts folded, and picking a section folds it again, so the lesson fills the screen.
FOLD_JS = f"""() => {{
  if (window.innerWidth >= {PHONE_PX}) return;
  const toggle = document.querySelector('#lesson-sections > button, #lesson-sections .label-wrap');
  if (toggle && document.querySelector('#lesson-nav')?.offsetParent) toggle.click();
}}"""
TABLE_CHARS = 60  # longer cells show their first characters; a click on the cell shows all of it


def _fail(err: Exception) -> gr.Error:
    return error_toast(str(err) or err.__class__.__name__)


# ---- navigation -------------------------------------------------------------------------------------------
def _show(section_id: str, progress: Any) -> dict[str, Any]:
    """Every navigation output for opening `section_id`, by name: "nav", "progress", "bar", "prev", "next" and each
    section's column as "section:<id>" (a section is called next too)."""
    progress = navigation.visit(progress, section_id)
    prev_id, next_id = navigation.neighbours(section_id)
    prev_label = f"← {sections.get(prev_id).title}" if prev_id else "←"
    next_label = f"{sections.get(next_id).title} →" if next_id else "The end: well done"
    return {"nav": gr.Radio(choices=navigation.choices(progress), value=section_id), "progress": progress,
            "bar": navigation.progress_html(progress),
            "prev": gr.Button(value=prev_label, interactive=prev_id is not None),
            "next": gr.Button(value=next_label, interactive=next_id is not None),
            **{f"section:{s.id}": gr.Column(visible=s.id == section_id) for s in sections.SECTIONS}}


def open_section(section_id: str, progress: Any) -> dict[str, Any]:
    """Sidebar click."""
    return _show(section_id if section_id in sections.IDS else sections.IDS[0], progress)


def open_previous(section_id: str, progress: Any) -> dict[str, Any]:
    prev_id, _ = navigation.neighbours(section_id)
    return _show(prev_id or section_id, progress)


def open_next(section_id: str, progress: Any) -> dict[str, Any]:
    _, next_id = navigation.neighbours(section_id)
    return _show(next_id or section_id, progress)


def restore(progress: Any, request: gr.Request) -> dict[str, Any]:
    """Page load: a ?section= deep link wins, else where this browser left off."""
    requested = request.query_params.get(navigation.QUERY_KEY) if request is not None else None
    return _show(navigation.start_section(requested, progress), progress)


def reset_progress() -> dict[str, Any]:
    return _show(sections.IDS[0], None)


def lesson_section(section_id: str) -> str:
    """One section as markdown: title, prose and the backend code it shows."""
    try:
        return sections.get(section_id).full_markdown()
    except KeyError as err:
        raise _fail(err) from None


# ---- demos (each a named endpoint) ------------------------------------------------------------------------
def lesson_peek(n: float) -> dict[str, Any]:
    try:
        p = live.peek("auto", int(n))
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    return {"text": p.markdown(), "table": p.rows}


def lesson_tokenize(sentence1: str, sentence2: str) -> dict[str, Any]:
    try:
        t = live.tokenize_pair(sentence1, sentence2)
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    return {"text": f"**{t.length} tokens** as the model reads them:\n\n`{t.text}`", "table": t.rows}


def lesson_padding(batch_size: float) -> dict[str, Any]:
    try:
        report = live.padding_demo(int(batch_size))
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    return {"text": padding.summary(report), "chart": padding.figure(report), "table": report.rows()}


def lesson_head_swap(model: str, browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    try:
        swap = predictions.head_swap_demo(predictions.checked_model_spec(model, viewer_of(browser_id, ticket)))
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    intro = (f"Loaded **{swap.model_name}**: {swap.dropped} weight(s) dropped (the load report's UNEXPECTED rows), "
             f"{swap.new} newly initialised (its MISSING rows).\n\n{swap.explanation}")
    return {"text": intro,
            "table": swap.rows or [["(none)", "nothing dropped or added", "—", "the head already fits this task"]]}


def lesson_logits(model: str, n: float, browser_id: Any = None, ticket: Any = None) -> dict[str, Any]:
    try:
        result = predictions.logits_demo(predictions.checked_model_spec(model, viewer_of(browser_id, ticket)), int(n))
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    right = int((result.predictions == result.labels).sum())
    text = (f"Model **{result.model_name}** · logits shape **{tuple(result.logits.shape)}** → argmax shape "
            f"**{tuple(result.predictions.shape)}** · {right} of {len(result.labels)} match the labels.")
    return {"text": text, "table": result.rows(), "arrays": result.to_dict()}


def lesson_metrics(arrays: dict | None) -> dict[str, Any]:
    """compute_metrics on {'logits': (N, 2), 'labels': (N,)}; empty input runs the logits demo first."""
    try:
        if not arrays or not arrays.get("logits"):
            arrays = predictions.logits_demo("auto", 8).to_dict()
        result = predictions.metrics_demo(arrays["logits"], arrays["labels"])
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    return {"text": result.markdown(), "returned": result.returned}


def lesson_curves(source: str) -> dict[str, Any]:
    try:
        data = curves.load(source or curves.ARTICLE)
    except KNOWN_ERRORS as err:
        raise _fail(err) from None
    return {"chart": curves.figure(data), "text": "\n".join(f"- {line}" for line in curves.reading(data)),
            "table": data.rows()}


def _click(trigger: Any, handler: Any, inputs: Any, outputs: dict[str, Any], api_name: str) -> None:
    """Wire a demo: `handler` answers {name: update}; `outputs` maps the names to components, in the order the
    named endpoint answers its API callers."""
    trigger(by_component(handler, outputs), inputs, list(outputs.values()), api_name=api_name)


def refresh_models(browser_id: Any = None, ticket: Any = None) -> gr.Dropdown:
    """The models a demo can load: auto, and finished runs (on a Space the visitor's own only)."""
    return gr.Dropdown(choices=[AUTO_MODEL, *predictions.trained_models(viewer=viewer_of(browser_id, ticket))])


def refresh_runs() -> gr.Dropdown:
    return gr.Dropdown(choices=[ARTICLE_CHOICE, *curves.run_choices()])


def lesson_own_runs(browser_id: Any = None, ticket: Any = None) -> str:
    """The noise paragraph with the reader's own two newest comparable runs (on a Space: their own only)."""
    try:
        own = noise.own_pair(RunStore(), viewer_of(browser_id, ticket))
    except KNOWN_ERRORS:
        own = None
    return noise.markdown(own)


def data_floor() -> str:
    """The majority-class floor of the data the lesson's demos (and a default run) use, stated for the prose."""
    try:
        return live.data_floor("auto").sentence()
    except KNOWN_ERRORS:
        return ""


# ---- layout -----------------------------------------------------------------------------------------------
def _model_picker(label: str, shared: dict) -> gr.Dropdown:
    with gr.Row(equal_height=True):
        picker = gr.Dropdown([AUTO_MODEL, *predictions.trained_models(viewer=viewer_of(None))], value="auto",
                             label=label,
                             allow_custom_value=True, scale=5)
        refresh = gr.Button("↻ runs", size="sm", scale=1, min_width=60)
    refresh.click(refresh_models, shared["who"], picker, api_name=False)
    shared.setdefault("model_pickers", []).append(picker)  # refilled on page load and when a section opens
    return picker


def _demo_peek(shared: dict) -> None:
    n = gr.Slider(3, 20, value=6, step=1, label="Pairs to show")
    go = gr.Button("Load the data", variant="primary")
    info = gr.Markdown()
    table = gr.Dataframe(headers=live.PEEK_HEADERS, max_chars=TABLE_CHARS, elem_classes="lesson-table")
    _click(go.click, lesson_peek, n, {"text": info, "table": table}, "lesson_peek")


def _demo_tokenize(shared: dict) -> None:
    with gr.Row():
        s1 = gr.Textbox("The company posted a loss for the third quarter.", label="sentence1")
        s2 = gr.Textbox("A third-quarter loss was reported by the firm.", label="sentence2")
    go = gr.Button("Tokenize the pair", variant="primary")
    text = gr.Markdown()
    table = gr.Dataframe(headers=["position", "token", "input_id", "token_type_id"], max_height=360)
    _click(go.click, lesson_tokenize, [s1, s2], {"text": text, "table": table}, "lesson_tokenize")


def _demo_padding(shared: dict) -> None:
    size = gr.Slider(1, 128, value=8, step=1, label="Batch size (the seed recipe uses 8)")
    go = gr.Button("Count the padding", variant="primary")
    text = gr.Markdown()
    chart = gr.Plot(label="Padding per batch")
    table = gr.Dataframe(headers=["strategy", "token positions", "of which padding", "padding share",
                                  "compute vs. longest"], elem_classes="lesson-table")
    _click(go.click, lesson_padding, size, {"text": text, "chart": chart, "table": table}, "lesson_padding")


def _demo_head_swap(shared: dict) -> None:
    model = _model_picker("Model to load", shared)
    go = gr.Button("Load and show the report", variant="primary")
    text = gr.Markdown()
    table = gr.Dataframe(headers=predictions.HEAD_SWAP_HEADERS, max_chars=TABLE_CHARS, elem_classes="lesson-table")
    _click(go.click, lesson_head_swap, [model, *shared["who"]], {"text": text, "table": table}, "lesson_head_swap")


def _demo_logits(shared: dict) -> None:
    model = _model_picker("Model", shared)
    n = gr.Slider(1, predictions.MAX_LOGIT_PAIRS, value=8, step=1, label="Validation pairs")
    go = gr.Button("Run the model", variant="primary")
    text = gr.Markdown()
    table = gr.Dataframe(headers=predictions.LOGITS_HEADERS, max_chars=TABLE_CHARS, max_height=420,
                         elem_id="lesson-logits-table", elem_classes="lesson-table")
    with gr.Accordion("The raw arrays (what compute_metrics receives)", open=False):
        arrays = gr.JSON(label="logits and labels")
    _click(go.click, lesson_logits, [model, n, *shared["who"]], {"text": text, "table": table, "arrays": arrays},
           "lesson_logits")
    shared["arrays"] = arrays


def _demo_metrics(shared: dict) -> None:
    gr.Markdown("Uses the logits and labels from *Predict: logits to labels*; if you have not run that demo, "
                "it runs it first with the default model on 8 pairs.")
    go = gr.Button("Call compute_metrics", variant="primary")
    text = gr.Markdown()
    returned = gr.JSON(label="the returned dict")
    _click(go.click, lesson_metrics, shared["arrays"], {"text": text, "returned": returned}, "lesson_metrics")


def _demo_curves(shared: dict) -> None:
    with gr.Row(equal_height=True):
        source = gr.Dropdown([ARTICLE_CHOICE, *curves.run_choices()], value=curves.ARTICLE,
                             label="Curves of", scale=5)
        refresh = gr.Button("↻ runs", size="sm", scale=1, min_width=60)
    article = curves.article()
    chart = gr.Plot(value=curves.figure(article), label="Learning curves")
    text = gr.Markdown("\n".join(f"- {line}" for line in curves.reading(article)))
    table = gr.Dataframe(value=article.rows(), headers=["epoch", "training loss", "validation loss", "accuracy",
                                                         "F1"])
    refresh.click(refresh_runs, None, source, api_name=False)
    shared["curve_source"] = source
    shared["own_runs"] = gr.Markdown(noise.markdown(None), elem_id="lesson-own-runs")
    _click(source.change, lesson_curves, source, {"chart": chart, "text": text, "table": table}, "lesson_curves")


FLOOR_SECTIONS = ("load", "metrics")
DEMOS = {"peek": _demo_peek, "tokenize": _demo_tokenize, "padding": _demo_padding, "head_swap": _demo_head_swap,
         "logits": _demo_logits, "metrics": _demo_metrics, "curves": _demo_curves}


def _section(number: int, section: sections.Section, ctx: AppContext | None, shared: dict) -> None:
    gr.Markdown(f"## {number}. {section.title}", elem_classes="lesson-title")
    gr.Markdown(section.text(), elem_classes="lesson-text")
    if section.id in FLOOR_SECTIONS:  # the prose quotes MRPC's floor; this states the floor of the data in use
        shared.setdefault("floors", []).append(gr.Markdown(elem_classes="lesson-floor"))
    if section.demo:
        with gr.Group(elem_classes="lesson-demo"):
            DEMOS[section.demo](shared)
    with gr.Accordion("The code the app runs (read live from trainer_backend)", open=True):
        gr.Markdown(section.code_markdown(), elem_classes="lesson-code")
    with gr.Row():
        if ctx is not None:
            try_it = gr.Button(f"Try it: open Train with “{section.preset}”", variant="secondary", size="sm")
            ctx.link_to_train(try_it, section.preset)
        gr.Markdown(f"[Link to this section](?{navigation.QUERY_KEY}={section.id})", elem_classes="lesson-link")
    if section.id == "next" and ctx is not None:
        with gr.Row():
            for label, dataset in next_tasks():
                button = gr.Button(label, variant="secondary", size="sm",
                                   elem_id=f"lesson-train-{dataset.replace('/', '-')}")
                ctx.link_data_to_train(button, dataset)


def next_tasks() -> list[tuple[str, str]]:
    """(button text, dataset) of "Next steps": SST-2 and RTE from the Hub; offline, SST-2's bundled stand-in and
    RTE with a word that it needs the Hub (Start then says so plainly)."""
    if settings.is_offline():
        return [("Train this on SST-2's offline stand-in (bundled reviews)", tasks.SENTIMENT_SAMPLE),
                ("Train this on RTE (needs the Hub)", "glue/rte")]
    return [("Train this on SST-2", "glue/sst2"), ("Train this on RTE", "glue/rte")]


def build(ctx: AppContext | None = None) -> None:
    """Create the tab's components inside the current Blocks."""
    progress = gr.BrowserState({"current": None, "visited": []}, storage_key=PROGRESS_KEY, secret=PROGRESS_KEY_SALT)
    # who asks (the key the server kept, the browser's id): model menus list only their own runs on a Space
    shared: dict = {"who": who_inputs(ctx)}
    with gr.Row(elem_id="lesson"):
        with gr.Column(scale=1, min_width=230, elem_id="lesson-sidebar"):
            bar = gr.HTML(navigation.progress_html(None), js_on_load=None)
            with gr.Accordion("Sections", open=True, elem_id="lesson-sections"):
                nav = gr.Radio(navigation.choices(None), value=sections.IDS[0], show_label=False, container=False,
                               elem_id="lesson-nav")
                reset = gr.Button("Start over", size="sm", variant="secondary")
        with gr.Column(scale=4, elem_id="lesson-main"):
            columns = {}
            for number, section in enumerate(sections.SECTIONS, 1):
                with gr.Column(visible=number == 1, elem_id=f"lesson-{section.id}") as column:
                    _section(number, section, ctx, shared)
                columns[f"section:{section.id}"] = column
            with gr.Row():
                prev_btn = gr.Button("←", interactive=False, elem_id="lesson-prev")
                next_btn = gr.Button(f"{sections.SECTIONS[1].title} →", variant="primary", elem_id="lesson-next")
    shown = {"nav": nav, "progress": progress, "bar": bar, "prev": prev_btn, "next": next_btn, **columns}
    outputs = list(shown.values())
    nav.input(by_component(open_section, shown), [nav, progress], outputs, api_name=False, show_progress="hidden")
    nav.input(None, None, None, js=FOLD_JS, api_name=False)
    prev_btn.click(by_component(open_previous, shown), [nav, progress], outputs, api_name=False,
                   show_progress="hidden")
    next_btn.click(by_component(open_next, shown), [nav, progress], outputs, api_name=False, show_progress="hidden")
    reset.click(by_component(reset_progress, shown), None, outputs, api_name=False, show_progress="hidden")
    nav.change(None, nav, None, js=URL_JS, api_name=False)
    gr.api(lesson_section, api_name="lesson_section")
    root = ctx.root if ctx is not None else None  # the app's Blocks, handed over by app.py
    if root is not None:
        root.load(by_component(restore, shown), progress, outputs, api_name=False, show_progress="hidden")
        root.load(None, None, None, js=FOLD_JS, api_name=False)  # in the browser: no wait for the server
        _refill_on_open(ctx, nav, shared)


def _refill_on_open(ctx: AppContext, nav: gr.Radio, shared: dict) -> None:
    """Run menus are filled when the page loads (model menus once the viewer is known) and whenever a section
    opens (runs may have finished since); the floor of the data in use is stated once the page has loaded."""
    root, who = ctx.root, shared["who"]
    for menu in shared.get("model_pickers", []):
        ctx.on_viewer_known(refresh_models, who, [menu])
        nav.change(refresh_models, who, menu, api_name=False, show_progress="hidden")
    if "curve_source" in shared:  # learning curves are public, like the Train tab's run history
        root.load(refresh_runs, None, shared["curve_source"], api_name=False, show_progress="hidden")
        nav.change(refresh_runs, None, shared["curve_source"], api_name=False, show_progress="hidden")
    if "own_runs" in shared:  # the visitor's own runs only: once the viewer is known, and at each section change
        ctx.on_viewer_known(lesson_own_runs, who, [shared["own_runs"]])
        nav.change(lesson_own_runs, who, shared["own_runs"], api_name=False, show_progress="hidden")
        gr.api(lesson_own_runs, api_name="lesson_own_runs")
    for md in shared.get("floors", []):
        root.load(data_floor, None, md, api_name=False, show_progress="hidden")


if __name__ == "__main__":
    with gr.Blocks(title="Lesson · fine-tuning studio") as demo:
        build(None)
    demo.launch()
