"""Thin handlers for the Train tab: widgets in, backend calls, component updates out."""
from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import gradio as gr

from trainer_backend import presets, recipe, settings
from trainer_backend.config import ConfigError, TrainConfig, config_to_command
from trainer_backend.data import DataError, load_data, resolve_dataset
from trainer_backend.hub_check import check_hub_repo
from trainer_backend.modeling import resolve_model
from trainer_backend.runs import zerogpu
from trainer_backend.runs.bounds import RunTooLarge, bounded
from trainer_backend.runs.jobs import REFUSED
from trainer_backend.textsafe import md_escape, md_escape_lines
from ui import train_form
from ui.common import error_toast, visitor_of
from ui.messages import control_message
from ui.services import Services
from web import access, downloads, estimate
from web.access import AccessError, Visitor
from wording.run_notes import precision_why


def _visitor(browser_id: Any, request: gr.Request | None, profile: gr.OAuthProfile | None = None,
             oauth_token: gr.OAuthToken | None = None) -> Visitor:
    try:
        return visitor_of(browser_id, request, profile, oauth_token)
    except AccessError as err:
        raise error_toast(err) from None


def _run_folders(svc: Services, visitor: Visitor) -> dict[str, str]:
    """'run:<id>' -> model folder, for this visitor's own finished runs (usable as a base model)."""
    out = {}
    for run in svc.store.list(("completed", "stopped"), limit=200, owner=visitor.runs_owner):
        if Path(run.output_dir, "config.json").is_file():
            out[f"run:{run.id}"] = run.output_dir
    return out


def _checked(svc: Services, model: str, data: str, visitor: Visitor) -> tuple[str, str]:
    """Model and data names this visitor may use, as the training process reads them. Raises AccessError."""
    return (access.check_model(model, visitor, _run_folders(svc, visitor)), access.check_data(data, visitor))


# --- environment and ETA ------------------------------------------------------------------------
def storage_line() -> str:
    """On a Space: whether runs survive a restart (persistent storage) or not, and what keeps a model then."""
    if not settings.on_space():
        return ""
    if settings.persistent_dir() is not None:
        return ("**Storage:** runs, uploads, checkpoints and the model caches are kept on this Space's persistent "
                "storage, so they survive a restart.\n\n")
    return ("**Storage:** this Space has no persistent storage, so runs and uploads are lost when it restarts: "
            "**Push to Hub** is how to keep a model.\n\n")


def environment_markdown() -> str:
    """Which hardware, network, default model, data and precision will be used, and why."""
    hw = settings.hardware()
    offline = settings.offline_reason()
    _, model_name, model_why = resolve_model("auto", hw)
    data_spec, data_why = resolve_dataset("auto")
    if settings.on_space():  # visitors see which source, never where it lies on the server
        data_spec = access.public_name(f"local MRPC folder {data_spec}" if Path(data_spec).is_absolute()
                                       else data_spec)
    chosen = recipe.auto_precision_choice(hw)
    precision, why = chosen.precision, precision_why(chosen)
    net = f"offline — {offline}" if offline else "online — the Hugging Face Hub is reachable"
    return storage_line() + (f"**Hardware:** {hw.describe()} · **Network:** {net}\n\n"
            f"**Default model:** `{model_name}` — {model_why}.\n\n"
            f"**Default data:** `{data_spec}` — {data_why}.\n\n"
            f"**Precision:** {precision} — {why}.")


@functools.lru_cache(maxsize=32)
def _train_size(spec: str, s1: str, s2: str, label: str, token: str | bool | None = None) -> int:
    if spec in estimate.KNOWN_SIZES:
        return estimate.KNOWN_SIZES[spec][0]
    return len(load_data(spec, s1, s2, label, token=token).dataset["train"])


def eta_markdown(svc: Services, values: dict[str, Any], seeds: Any, visitor: Visitor) -> str:
    """The expected duration of the configured run(s), shown before Start."""
    try:
        cfg, compare = train_form.to_config(values)
        model, data = _checked(svc, cfg.model_name_or_path, cfg.dataset, visitor)
        cfg = cfg.replace(model_name_or_path=model, dataset=data)
        path, name, _ = resolve_model(cfg.model_name_or_path)
        if not Path(path).exists():
            check_hub_repo(path, "model", visitor.hub_token)
        spec, _ = resolve_dataset(cfg.dataset)
        n_train = _train_size(spec, cfg.sentence1_column, cfg.sentence2_column, cfg.label_column, visitor.hub_token)
        est = estimate.estimate(cfg, n_train, path, name, svc.store, token=visitor.hub_token)
        runs = len(presets.runs(cfg, presets.parse_seeds(seeds), compare))
        more = f" each, {runs} runs ≈ {estimate.format_duration(est.seconds * runs)} in all" if runs > 1 else ""
        return f"**Estimated duration:** {est.text()}{more}.{_gpu_call_line(est.seconds)}"
    except (ConfigError, DataError, ValueError, OSError) as err:
        return f"Estimate unavailable: {md_escape(_first_line(err))}"


def _gpu_call_line(seconds: float) -> str:
    """On ZeroGPU: the GPU call a run will ask for, and whether one call can hold it."""
    if not settings.on_zero_gpu():
        return ""
    asked, allowed = zerogpu.gpu_seconds(seconds), zerogpu.max_request()
    if asked > allowed:
        return (f" It would need about {asked} s of GPU; ZeroGPU allows {allowed} s per call, so Start will refuse "
                "it: lower the epochs or the data.")
    return f" Each run asks ZeroGPU for {asked} s of GPU (at most {allowed} s per call), from your daily GPU quota."


# --- building configs ----------------------------------------------------------------------------
def preset_values(name: str) -> tuple[str, dict[str, Any], str]:
    """(description, {field: config value}, seeds text) of a preset: a TrainConfig the form shows whole."""
    p = presets.get(name)
    values = p.config.to_dict()
    if len(p.precisions) > 1:
        values["precision"] = train_form.COMPARE
    return p.description, values, ", ".join(map(str, p.seeds))


def preset_on_this_data(name: str) -> str:
    """What the preset means on the default data and hardware in use: pairs, batches, steps (computed)."""
    try:
        p = presets.get(name)
        spec, _ = resolve_dataset(p.config.dataset)
        n_train = _train_size(spec, p.config.sentence1_column, p.config.sentence2_column, p.config.label_column,
                              settings.hub_read_token(None))
        n_used = estimate.training_rows(p.config, n_train)
        _, model_name, _ = resolve_model(p.config.model_name_or_path)
        batch = recipe.resolve(p.config, model_name).batch_size
        steps = recipe.total_steps(p.config, n_used, batch)
        where = access.public_name(spec) if settings.on_space() else spec
        runs = len(presets.expand(p.config, p.seeds, p.precisions))
        per = f"{runs} runs of " if runs > 1 else ""
        return (f"On the data in use ({where}: {n_train:,} training pairs) this is {per}{steps:,} steps of "
                f"{batch} pairs on {settings.hardware().describe()}.")
    except (ConfigError, DataError, AccessError, ValueError, OSError):
        return ""


def apply_preset(form: train_form.TrainForm, name: str, description: gr.Markdown,
                 seeds: gr.Textbox) -> dict[gr.Component, Any]:
    """Every form widget set from the preset (including the ones it leaves at their defaults)."""
    text, values, seed_text = preset_values(name)
    on_data = preset_on_this_data(name)
    shown = f"*{md_escape(text)}*" + (f"\n\n{md_escape(on_data)}" if on_data else "")
    return {**form.updates(values), description: shown, seeds: seed_text}


def _queue(svc: Services, cfg: TrainConfig, compare: bool, seeds: Any, preset: Any, visitor: Visitor,
           request: gr.Request | None = None) -> tuple[str, str | None]:
    """Check names and data, then queue one run per seed (× precision) for this visitor; says what happened."""
    try:
        model, data = _checked(svc, cfg.model_name_or_path, cfg.dataset, visitor)
        cfg = bounded(cfg.replace(model_name_or_path=model, dataset=data))  # refused before the data is read
        seed_list = presets.parse_seeds(seeds, cfg.seed)
        # Fail fast, before queueing: the same loader the run will use (also warms the Hub dataset cache).
        load_data(cfg.dataset, cfg.sentence1_column, cfg.sentence2_column, cfg.label_column,
                  token=visitor.hub_token)
        path, _, _ = resolve_model(cfg.model_name_or_path)
        if not Path(path).exists():
            check_hub_repo(path, "model", visitor.hub_token)
    except ConfigError as err:  # our words, but they quote the values a visitor typed: shown literally, line by line
        return f"❌ **Not started.** {md_escape_lines(str(err))}", None
    except (DataError, AccessError, RunTooLarge) as err:  # may quote a file's names or cells: shown literally
        return f"❌ **Not started.** {md_escape_lines(str(err))}", None
    variants = presets.runs(cfg, seed_list, compare)
    group_id = f"g{int(time.time())}" if len(variants) > 1 else None
    base_label = (preset if preset in presets.PRESET_NAMES else "custom").split(" (")[0]
    lines, first = [], None
    for suffix, variant in variants:
        try:
            run_id, position = svc.runner.submit(variant, label=f"{base_label}{' · ' + suffix if suffix else ''}",
                                               group_id=group_id, owner=visitor.key, client=visitor.address,
                                               caller=request)
        except REFUSED as err:
            lines.append(f"❌ {err}")
            break
        first = first or run_id
        lines.append(f"▶ `{run_id}` started" if position == 0 else f"⏳ `{run_id}` queued — position {position} "
                     "in line (one training at a time on this device)")
    return "\n\n".join(lines), first


def start_from_form(svc: Services, form: train_form.TrainForm, values: dict[str, Any], seeds: Any, preset: Any,
                    visitor: Visitor, request: gr.Request | None = None) -> tuple[str, str | None]:
    """The Start button: form values -> TrainConfig -> queued runs (`request`: the visitor's, for ZeroGPU)."""
    try:
        cfg, compare = train_form.to_config(values)
    except ConfigError as err:
        return f"❌ **Not started.** {err}", None
    return _queue(svc, cfg, compare, seeds, preset, visitor, request)


def start_training(svc: Services, settings: dict, seeds: str = "", preset: str = "", browser_id: str | None = None,
                   request: gr.Request = None, profile: gr.OAuthProfile | None = None,
                   oauth_token: gr.OAuthToken | None = None) -> tuple[str, str | None]:
    """API: queue runs from {TrainConfig field: value} — the names of the CLI and run.json (unknown names refused).

    `precision` may be "compare" (fp32 and mixed side by side); `seeds` like "1, 2, 3" launches one run per seed.
    Returns (message, id of the first new run or None)."""
    visitor = _visitor(browser_id, request, profile, oauth_token)
    values = dict(settings or {})
    compare = values.get("precision") == train_form.COMPARE
    if compare:
        values["precision"] = "auto"
    values.pop("output_dir", None)  # the app decides where runs live
    try:
        cfg = TrainConfig.from_dict(values)
    except (ConfigError, TypeError) as err:
        return f"❌ **Not started.** {md_escape_lines(str(err))}", None
    return _queue(svc, cfg, compare, seeds, preset, visitor, request)


def command_line(form_values: dict[str, Any], seeds: Any) -> str:
    """The `python -m trainer_backend …` command that runs what the form shows (one line per seed)."""
    try:
        cfg, compare = train_form.to_config(form_values)
        variants = presets.runs(cfg, presets.parse_seeds(seeds, cfg.seed), compare)
    except ConfigError as err:
        return f"# Not a valid configuration yet:\n# {str(err).replace(chr(10), chr(10) + '# ')}"
    return "\n".join(config_to_command(run.replace(output_dir=f"outputs/seed{run.seed}-{run.precision}"))
                     for _, run in variants)


def save_settings(form_values: dict[str, Any], seeds: Any) -> tuple[Any, str]:
    """The form as run.json (the file `python -m trainer_backend run.json` reads)."""
    try:
        cfg, _ = train_form.to_config(form_values)
    except ConfigError as err:
        return None, f"❌ {err}"
    path = downloads.new_file("run.json")
    data = cfg.to_dict()
    data.pop("output_dir", None)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return str(path), "💾 Settings saved as `run.json`."


def load_settings(form: train_form.TrainForm, file_path: str | None,
                  message: gr.Markdown) -> dict[gr.Component, Any]:
    """Fill the form from a run.json (unknown names or bad values are refused, the form is left as it was)."""
    if not file_path:
        return {message: ""}
    try:
        raw = Path(file_path).read_bytes()
        if len(raw) > 100_000:
            raise ConfigError("run.json is larger than 100 kB; it holds a few dozen settings at most.")
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ConfigError("run.json must hold one JSON object of settings.")
        data.pop("output_dir", None)
        cfg = TrainConfig.from_dict(data)
    except (ConfigError, TypeError, ValueError, UnicodeDecodeError) as err:
        text = str(err) if isinstance(err, ConfigError) else f"not a valid run.json: {err}"
        return {message: f"❌ {md_escape_lines(text)}"}
    return {**form.updates(cfg.to_dict()), message: "✅ Settings loaded from run.json."}


def stop_training(svc: Services, run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                  profile: gr.OAuthProfile | None = None) -> str:
    """Ask the viewed run to save a checkpoint and stop (its owner only)."""
    if not run_id:
        return "No run selected."
    return md_escape(control_message(svc.runner.stop(str(run_id), _visitor(browser_id, request, profile).key)))


def resume_training(svc: Services, run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                    profile: gr.OAuthProfile | None = None) -> str:
    """Queue an interrupted or stopped run again from its last checkpoint (its owner only)."""
    if not run_id:
        return "No run selected."
    visitor = _visitor(browser_id, request, profile)
    return md_escape(control_message(svc.runner.resume(str(run_id), visitor.key, visitor.address, caller=request)))


def delete_run(svc: Services, run_id: str | None, browser_id: Any = None, request: gr.Request = None,
               profile: gr.OAuthProfile | None = None) -> str:
    """Delete the viewed run and its files (its owner only; finished runs only)."""
    if not run_id:
        return "No run selected."
    return md_escape(control_message(svc.runner.delete(str(run_id), _visitor(browser_id, request, profile).key)))


# --- viewing -------------------------------------------------------------------------------------
def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__


def check_data(data: str, s1: str, s2: str, label: str, browser_id: Any = None, request: gr.Request = None,
               profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None) -> str:
    """Load the chosen data now and report its size or the problem (only listed names, own uploads, Hub ids)."""
    visitor = _visitor(browser_id, request, profile, oauth_token)
    try:
        spec = access.check_data(data or "auto", visitor)
        loaded = load_data(spec, s1, s2, label, token=visitor.hub_token)
    except (AccessError, DataError) as err:
        return f"❌ {md_escape(str(err))}"
    summary = access.public_name(loaded.summary()) if visitor.space else loaded.summary()
    return f"✅ {md_escape(summary)} — {md_escape(loaded.reason)}"
