"""The Train tab: presets, the settings form (generated from TrainConfig), Start/Stop/Resume, live charts, history."""
from __future__ import annotations

from typing import Any

import gradio as gr

from trainer_backend import presets
from trainer_backend.data import FILE_TYPES
from trainer_backend.publish import hub
from ui import charts, train_form, train_mistakes, train_publish, uploads
from ui import train_handlers as h
from ui import train_view as v
from ui.common import AppContext, by_component, ensure_visitor_id, visitor_of, visitor_state
from ui.services import Services, bound


def build(ctx: AppContext | None = None) -> None:
    """Create the Train tab's components and events inside the current Blocks."""
    standalone = ctx is None or ctx.visitor is None
    if ctx is None or ctx.root is None:
        raise ValueError("build(ctx) needs ctx.root: the Blocks this tab is built in")
    svc = ctx.services or Services.standalone()  # built once in app.py; a tab run alone builds its own
    visitor = ctx.visitor if ctx.visitor is not None else visitor_state()
    form = train_form.TrainForm()
    # The run's progress line first, full width: in the first screen on a laptop and on a phone, before and after
    # Start or Resume (issue 23: Start and the progress were below the fold, under the environment text).
    progress = gr.HTML(v.progress_html(svc, None), elem_id="train-progress")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340):
            preset = gr.Dropdown(presets.PRESET_NAMES, value=presets.QUICK_LOOK, label="Preset",
                                 elem_id="train-preset")
            preset_md = gr.Markdown(elem_id="train-preset-text")
            eta_md = gr.Markdown(elem_id="train-eta")
            with gr.Row():  # Start sits right under the preset and its ETA, above everything that can grow
                start_btn = gr.Button("Start", variant="primary", elem_id="train-start", min_width=80)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop", min_width=80)
                resume_btn = gr.Button("Resume", elem_id="train-resume", min_width=80)
                delete_btn = gr.Button("Delete run", elem_id="train-delete", size="sm", min_width=80)
            message = gr.Markdown(elem_id="train-message")
            form.build("source", per_row=1)
            seeds = gr.Textbox("42", label="Seed(s)", info="One run per seed, e.g. 1, 2, 3 (at most 5).",
                               elem_id="train-seeds")
            env_md = gr.Markdown(elem_id="train-env")
            with gr.Accordion("Upload your own pairs (CSV / TSV / JSONL)", open=False):
                upload = gr.File(label="Data file", file_types=list(FILE_TYPES), type="filepath",
                                 elem_id="train-upload")
                form.build("columns")
                check_btn = gr.Button("Check data", size="sm")
            data_msg = gr.Markdown(elem_id="train-data-msg")
            with gr.Accordion("Hyperparameters and switches", open=False):
                form.build("hyper")
                form.build("cadence", per_row=2)
                form.build("switches")
            with gr.Accordion("Settings as a command or a file", open=False):
                with gr.Row():
                    command_btn = gr.Button("Show as command", size="sm", elem_id="train-show-command")
                    save_btn = gr.Button("Save settings (run.json)", size="sm")
                    load_btn = gr.UploadButton("Load settings (run.json)", file_types=[".json"], size="sm")
                command = gr.Code(language="shell", label="The same run from a terminal", visible=False,
                                  elem_id="train-command")
                settings_file = gr.File(label="run.json", interactive=False, visible=False)
                settings_msg = gr.Markdown()
        with gr.Column(scale=3, min_width=480):
            with gr.Row():
                view_run = gr.Dropdown([], label="Show run", scale=3, min_width=280, elem_id="train-view-run",
                                       allow_custom_value=True)
                compare = gr.Dropdown([], multiselect=True, label="Overlay runs (e.g. several seeds)", scale=2)
            loss_plot = gr.Plot(label="Loss", elem_id="train-loss-plot")
            eval_plot = gr.Plot(label="Validation metrics", elem_id="train-eval-plot")
            spread_plot = gr.Plot(label="Spread across runs", visible=False)
            table = gr.Dataframe(headers=charts.TABLE_HEADERS, label="Results per evaluation",
                                 interactive=False, elem_id="train-results")
            confusion = gr.Plot(label="Confusion matrix", visible=False)
            details = gr.Markdown()
            train_mistakes.build(ctx, svc, view_run, compare, visitor, message)  # mistakes table, paired comparison
    with gr.Accordion("Push to the Hub or download", open=False):
        if hub.on_space():
            gr.Markdown("Pushing uses your own Hugging Face account: sign in with the button at the top first.")
        push_md = gr.Markdown()
        with gr.Row():
            repo_box = gr.Textbox(label="Repo id (empty: <you>/<base-model>-finetuned-mrpc)", scale=3)
            private_box = gr.Checkbox(False, label="Private repo", scale=1)
        with gr.Row():
            push_btn = gr.Button("Push to Hub", elem_id="train-push")
            zip_btn = gr.Button("Download model (.zip)", elem_id="train-zip")
        zip_file = gr.File(label="Model zip", interactive=False)
    with gr.Accordion("Run history", open=True):
        history = gr.Dataframe(headers=v.RUN_COLUMNS, interactive=False, elem_id="train-history")
    signature = gr.State("")
    new_run = gr.Textbox(visible=False, elem_id="train-new-run")
    # Polls only while the Train tab is shown (app.py switches it on tab select); standalone it always runs.
    timer = gr.Timer(v.POLL_SECONDS, active=standalone)
    ctx.train_preset = preset
    ctx.train_form = form
    ctx.train_timer = timer
    form_inputs = {*form.components, seeds, visitor}
    view = dict(zip(v.VIEW_OUTPUTS, (progress, loss_plot, eval_plot, spread_plot, table, confusion, details, history,
                                     view_run, signature, timer, message), strict=True))
    view_outputs, refresh = list(view.values()), by_component(bound(v.refresh, svc), view)
    menus = {"menu": view_run, "compare": compare}
    select_on_load = by_component(bound(v.select_run_on_load, svc), menus)

    # Thin adapters: Gradio hands a {component: value} dict; the handlers take field names.
    def preset_chosen(name: str) -> dict[gr.Component, Any]:
        return h.apply_preset(form, name, preset_md, seeds)

    def estimate_shown(data: dict, request: gr.Request, profile: gr.OAuthProfile | None = None) -> str:
        return h.eta_markdown(svc, form.values(data), data[seeds], v.viewer(data[visitor], request, profile))

    def start_clicked(data: dict, request: gr.Request, profile: gr.OAuthProfile | None = None,
                      oauth_token: gr.OAuthToken | None = None) -> dict[gr.Component, Any]:
        who = visitor_of(data[visitor], request, profile, oauth_token)
        said, run_id = h.start_from_form(svc, form, form.values(data), data[seeds], data[preset], who, request)
        return {message: said, new_run: run_id}

    def command_shown(data: dict) -> Any:
        return gr.Code(value=h.command_line(form.values(data), data[seeds]), visible=True)

    def settings_saved(data: dict) -> dict[gr.Component, Any]:
        path, note = h.save_settings(form.values(data), data[seeds])
        return {settings_file: gr.File(value=path, visible=bool(path)), settings_msg: note}

    def settings_loaded(file_path: str | None) -> dict[gr.Component, Any]:
        return h.load_settings(form, file_path, settings_msg)

    root = ctx.root
    first = root.load(ensure_visitor_id, visitor, visitor, api_name=False) if standalone else root.load(
        h.environment_markdown, None, env_md, api_name=False)
    if standalone:
        first = first.then(h.environment_markdown, None, env_md, api_name=False)
    if standalone:
        first = first.then(select_on_load, visitor, list(menus.values()), api_name=False)
    else:  # after the app's load chain has made the browser's visitor id (a first visit has none before it)
        ctx.on_viewer_known(select_on_load, [visitor], list(menus.values()))
    first.then(preset_chosen, preset, [*form.components, preset_md, seeds], api_name=False).then(
        estimate_shown, form_inputs, eta_md, api_name=False)
    preset.change(preset_chosen, preset, [*form.components, preset_md, seeds], api_name=False).then(
        estimate_shown, form_inputs, eta_md, api_name=False)
    for name in ("model_name_or_path", "dataset", "num_train_epochs", "max_steps", "per_device_train_batch_size",
                 "precision", "group_by_length", "frozen_layers", "max_train_samples"):
        form.widgets[name].change(estimate_shown, form_inputs, eta_md, api_name=False, trigger_mode="always_last",
                                  show_progress="hidden")
    seeds.change(estimate_shown, form_inputs, eta_md, api_name=False, trigger_mode="always_last",
                 show_progress="hidden")
    data = form.widgets["dataset"]
    columns = [form.widgets[n] for n in ("sentence1_column", "sentence2_column", "label_column")]
    uploaded = {"data": data, "message": data_msg}
    upload.upload(by_component(bound(uploads.save_upload, svc), uploaded), [upload, visitor], list(uploaded.values()),
                  api_name=False)
    check_btn.click(h.check_data, [data, *columns, visitor], data_msg, api_name="check_data")
    start_btn.click(start_clicked, {*form_inputs, preset}, [message, new_run], api_name=False,
                    concurrency_limit=1).then(
        by_component(bound(v.after_start, svc), menus | {"timer": timer}), [message, new_run, view_run, visitor],
        [view_run, compare, timer], api_name=False)
    gr.api(bound(h.start_training, svc), api_name="start_training", concurrency_limit=1)
    gr.api(bound(v.run_status, svc), api_name="run_status")
    stop_btn.click(bound(h.stop_training, svc), [view_run, visitor], message, api_name="stop_training")
    resume_btn.click(bound(h.resume_training, svc), [view_run, visitor], message, api_name="resume_training")
    delete_btn.click(bound(h.delete_run, svc), [view_run, visitor], message, api_name="delete_run")
    command_btn.click(command_shown, form_inputs, command, api_name=False)
    save_btn.click(settings_saved, form_inputs, [settings_file, settings_msg], api_name=False)
    load_btn.upload(settings_loaded, load_btn, [*form.components, settings_msg], api_name=False)
    view_run.change(bound(train_publish.push_status, svc), [view_run, visitor], push_md, api_name=False,
                    show_progress="hidden")
    push_btn.click(bound(train_publish.push_to_hub, svc), [view_run, repo_box, private_box, visitor], push_md,
                   api_name="push_to_hub")
    zipped = {"file": zip_file, "message": push_md}  # the API answers (file, message), in this order
    zip_btn.click(by_component(bound(train_publish.download_checkpoint, svc), zipped), [view_run, visitor],
                  list(zipped.values()), api_name="download_checkpoint")
    timer.tick(refresh, [view_run, compare, signature, visitor], view_outputs, api_name=False,
               show_progress="hidden")  # queued like every request: its bounds hold for ticks too
    view_run.change(refresh, [view_run, compare, gr.State(""), visitor], view_outputs, api_name=False,
                    show_progress="hidden")
    compare.change(refresh, [view_run, compare, gr.State(""), visitor], view_outputs, api_name=False,
                   show_progress="hidden")


if __name__ == "__main__":
    with gr.Blocks() as demo:
        build(AppContext(root=demo))
    demo.launch()
