"""The Train tab: settings and presets, Start/Stop/Resume, live charts, results, run history."""
from __future__ import annotations

import gradio as gr
from gradio.context import Context

from trainer_backend import access, charts, hub, presets, settings
from trainer_backend.config import SCHEDULERS, STRATEGIES
from ui import train_handlers as h
from ui.common import AppContext, ensure_visitor_id, visitor_state


def _model_label() -> str:
    return "Model (a listed one or a Hub id)" if settings.on_space() else "Model (Hub id or local folder)"


def _data_label() -> str:
    if settings.on_space():
        return "Data (a listed source, your upload, or a Hub dataset id)"
    return "Data (glue/mrpc, sample, an MRPC folder or a file)"


def build(ctx: AppContext | None = None) -> None:
    """Create the Train tab's components and events inside the current Blocks."""
    standalone = ctx is None or ctx.visitor is None
    ctx = ctx or AppContext()
    if ctx.runner is not None:
        h.bind(ctx.runner)
    visitor = ctx.visitor if ctx.visitor is not None else visitor_state()
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340):
            env_md = gr.Markdown(elem_id="train-env")
            preset = gr.Dropdown(presets.PRESET_NAMES, value=presets.QUICK_LOOK, label="Preset",
                                 elem_id="train-preset")
            preset_md = gr.Markdown()
            model = gr.Dropdown(["auto", "packaged", settings.ONLINE_CPU_MODEL, settings.ONLINE_DEFAULT_MODEL],
                                value="auto", allow_custom_value=True, label=_model_label())
            data = gr.Dropdown(access.data_choices(), value="auto", allow_custom_value=True, label=_data_label())
            with gr.Accordion("Upload your own pairs (CSV / TSV / JSONL)", open=False):
                upload = gr.File(label="Data file", file_types=[".csv", ".tsv", ".jsonl"], type="filepath")
                with gr.Row():
                    s1 = gr.Textbox("sentence1", label="First sentence column")
                    s2 = gr.Textbox("sentence2", label="Second sentence column")
                    label_col = gr.Textbox("label", label="Label column")
                check_btn = gr.Button("Check data", size="sm")
            data_msg = gr.Markdown()
            with gr.Accordion("Hyperparameters and switches", open=False):
                with gr.Row():
                    epochs = gr.Number(3, label="Epochs", minimum=0)
                    max_steps = gr.Number(0, label="Max steps (0 = use epochs)", precision=0, minimum=0)
                with gr.Row():
                    lr = gr.Number(0, label="Learning rate (0 = recipe)", minimum=0)
                    batch = gr.Number(0, label="Batch size (0 = auto)", precision=0, minimum=0)
                    grad_acc = gr.Number(1, label="Gradient accumulation", precision=0, minimum=1)
                with gr.Row():
                    scheduler = gr.Dropdown(list(SCHEDULERS), value="linear", label="LR scheduler")
                    warmup = gr.Slider(0, 0.5, value=0, step=0.01, label="Warmup (fraction of steps)")
                    weight_decay = gr.Number(0, label="Weight decay", minimum=0)
                with gr.Row():
                    eval_strategy = gr.Dropdown(list(STRATEGIES), value="steps", label="Evaluate")
                    eval_steps = gr.Number(0.1, label="Eval every (steps, or fraction < 1)", minimum=0)
                    logging_steps = gr.Number(0, label="Log every N steps (0 = ~40 points)", precision=0, minimum=0)
                with gr.Row():
                    seeds = gr.Textbox("42", label="Seed(s), e.g. 1, 2, 3")
                    precision = gr.Dropdown([("auto", "auto"), ("fp32", "fp32"), ("fp16", "fp16"), ("bf16", "bf16"),
                                             ("compare fp32 vs mixed", "compare")], value="auto", label="Precision")
                with gr.Row():
                    group = gr.Checkbox(True, label="Group batches by length")
                    freeze = gr.Dropdown(list(h.FREEZE_CHOICES), value="auto (on for CPU)",
                                         label="Freeze word embeddings")
                with gr.Row():
                    max_length = gr.Number(128, label="Max tokens per pair", precision=0, minimum=8, maximum=512)
                    max_train = gr.Number(0, label="Max training pairs (0 = all)", precision=0, minimum=0)
                    max_eval = gr.Number(0, label="Max validation pairs (0 = all)", precision=0, minimum=0)
            eta_md = gr.Markdown(elem_id="train-eta")
            with gr.Row():
                start_btn = gr.Button("Start", variant="primary", elem_id="train-start")
                stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop")
                resume_btn = gr.Button("Resume", elem_id="train-resume")
                delete_btn = gr.Button("Delete run", elem_id="train-delete", size="sm")
            message = gr.Markdown(elem_id="train-message")
        with gr.Column(scale=3, min_width=480):
            with gr.Row():
                view_run = gr.Dropdown([], label="Show run", scale=2, elem_id="train-view-run", allow_custom_value=True)
                compare = gr.Dropdown([], multiselect=True, label="Overlay runs (e.g. several seeds)", scale=3)
            progress = gr.HTML(h.progress_html(None), elem_id="train-progress")
            loss_plot = gr.Plot(label="Loss", elem_id="train-loss-plot")
            eval_plot = gr.Plot(label="Validation metrics", elem_id="train-eval-plot")
            spread_plot = gr.Plot(label="Spread across runs", visible=False)
            table = gr.Dataframe(headers=charts.TABLE_HEADERS, label="Results per evaluation",
                                 interactive=False, elem_id="train-results")
            confusion = gr.Plot(label="Confusion matrix", visible=False)
            details = gr.Markdown()
    with gr.Accordion("Push to the Hub or download", open=False):
        if hub.on_space():
            gr.LoginButton()
        push_md = gr.Markdown()
        with gr.Row():
            repo_box = gr.Textbox(label="Repo id (empty: <you>/<base-model>-finetuned-mrpc)", scale=3)
            private_box = gr.Checkbox(False, label="Private repo", scale=1)
        with gr.Row():
            push_btn = gr.Button("Push to Hub", elem_id="train-push")
            zip_btn = gr.Button("Download model (.zip)", elem_id="train-zip")
        zip_file = gr.File(label="Model zip", interactive=False)
    with gr.Accordion("Run history", open=True):
        history = gr.Dataframe(headers=h.RUN_COLUMNS, interactive=False, elem_id="train-history")
    signature = gr.State("")
    # Polls only while the Train tab is shown (app.py switches it on tab select); standalone it always runs.
    timer = gr.Timer(h.POLL_SECONDS, active=standalone)
    ctx.train_preset = preset
    ctx.train_timer = timer
    setting_inputs = [model, data, s1, s2, label_col, epochs, max_steps, lr, batch, grad_acc, scheduler, warmup,
                      weight_decay, eval_strategy, eval_steps, logging_steps, seeds, precision, group, freeze,
                      max_length, max_train, max_eval]
    preset_outputs = [preset_md, epochs, max_steps, lr, batch, grad_acc, scheduler, warmup, weight_decay,
                      eval_strategy, eval_steps, logging_steps, seeds, precision, group, freeze, max_length,
                      max_train, max_eval]
    eta_inputs = [model, data, s1, s2, label_col, epochs, max_steps, batch, grad_acc, precision, group, max_train,
                  seeds, visitor]
    view_outputs = [progress, loss_plot, eval_plot, spread_plot, table, confusion, details, history, view_run,
                    signature, timer]

    root = Context.root_block
    first = root.load(ensure_visitor_id, visitor, visitor, api_name=False) if standalone else root.load(
        h.environment_markdown, None, env_md, api_name=False)
    if standalone:
        first = first.then(h.environment_markdown, None, env_md, api_name=False)
    first.then(h.select_run_on_load, visitor, [view_run, compare], api_name=False).then(
        h.apply_preset, preset, preset_outputs, api_name=False).then(h.eta_markdown, eta_inputs, eta_md, api_name=False)
    preset.change(h.apply_preset, preset, preset_outputs, api_name=False).then(
        h.eta_markdown, eta_inputs, eta_md, api_name=False)
    for widget in (model, data, epochs, max_steps, batch, precision, group, max_train, seeds):
        widget.change(h.eta_markdown, eta_inputs, eta_md, api_name=False, trigger_mode="always_last",
                      show_progress="hidden")
    upload.upload(h.save_upload, [upload, visitor], [data, data_msg], api_name=False)
    check_btn.click(h.check_data, [data, s1, s2, label_col, visitor], data_msg, api_name="check_data")
    new_run = gr.Textbox(visible=False, elem_id="train-new-run")
    start_btn.click(h.start_training, [preset, *setting_inputs, visitor], [message, new_run],
                    api_name="start_training", concurrency_limit=1).then(
        h.after_start, [message, new_run, view_run, visitor], [view_run, compare, timer], api_name=False)
    stop_btn.click(h.stop_training, [view_run, visitor], message, api_name="stop_training")
    resume_btn.click(h.resume_training, [view_run, visitor], message, api_name="resume_training")
    delete_btn.click(h.delete_run, [view_run, visitor], message, api_name="delete_run")
    status_box = gr.Textbox(visible=False)
    status_json = gr.JSON(visible=False)
    status_box.submit(h.run_status, [status_box, visitor], status_json, api_name="run_status")
    view_run.change(h.push_status, [view_run, visitor], push_md, api_name=False, show_progress="hidden")
    push_btn.click(h.push_to_hub, [view_run, repo_box, private_box, visitor], push_md, api_name="push_to_hub")
    zip_btn.click(h.download_checkpoint, [view_run, visitor], [zip_file, push_md], api_name="download_checkpoint")
    timer.tick(h.refresh, [view_run, compare, signature, visitor], view_outputs, api_name=False,
               show_progress="hidden", queue=False)
    view_run.change(h.refresh, [view_run, compare, gr.State(""), visitor], view_outputs, api_name=False,
                    show_progress="hidden")
    compare.change(h.refresh, [view_run, compare, gr.State(""), visitor], view_outputs, api_name=False,
                   show_progress="hidden")


if __name__ == "__main__":
    with gr.Blocks() as demo:
        build(AppContext())
    demo.launch()
