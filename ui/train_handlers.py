"""Thin handlers for the Train tab: widgets in, backend calls, component updates out."""
from __future__ import annotations

import functools
import hashlib
import html
import re
import time
from pathlib import Path
from typing import Any

import gradio as gr

from trainer_backend import access, charts, estimate, presets, settings
from trainer_backend.access import AccessError, Visitor
from trainer_backend.config import ConfigError, TrainConfig
from trainer_backend.data import DataError, load_data, resolve_dataset
from trainer_backend.jobs import JobRunner, QueueFull
from trainer_backend.modeling import resolve_model
from trainer_backend.runs import Run, RunStore, last_checkpoint
from trainer_backend.textsafe import md_escape
from ui.common import visitor_of

POLL_SECONDS = 1.0       # while the viewed run (or one drawn with it) is queued or training
IDLE_POLL_SECONDS = 5.0  # otherwise: nothing of this page's can change quickly
RUN_COLUMNS = ["Run", "Status", "Model", "Data", "Settings", "Accuracy", "F1", "Samples/s", "Started"]
FREEZE_CHOICES = {"auto (on for CPU)": None, "on": True, "off": False}
_SERVICES: dict[str, JobRunner] = {}


def bind(job_runner: JobRunner) -> None:
    """Hand the handlers the app's job runner (built once in app.py; nothing is built at import)."""
    _SERVICES["runner"] = job_runner


def runner() -> JobRunner:
    """The app's job runner; a standalone tab (python -m ui.train_tab) builds its own on first use."""
    if "runner" not in _SERVICES:
        job_runner = JobRunner(RunStore())
        job_runner.start_background()
        bind(job_runner)
    return _SERVICES["runner"]


def store() -> RunStore:
    return runner().store


def _visitor(browser_id: Any, request: gr.Request | None, profile: gr.OAuthProfile | None = None,
             oauth_token: gr.OAuthToken | None = None) -> Visitor:
    try:
        return visitor_of(browser_id, request, profile, oauth_token)
    except AccessError as err:
        raise gr.Error(str(err)) from None


def _run_folders(visitor: Visitor) -> dict[str, str]:
    """'run:<id>' -> model folder, for this visitor's own finished runs (usable as a base model)."""
    out = {}
    for run in store().list(("completed", "stopped"), limit=200):
        if visitor.owns(run.owner) and Path(run.output_dir, "config.json").is_file():
            out[f"run:{run.id}"] = run.output_dir
    return out


def _checked(model: str, data: str, visitor: Visitor) -> tuple[str, str]:
    """Model and data names this visitor may use, as the training process reads them. Raises AccessError."""
    return (access.check_model(model, visitor, _run_folders(visitor)), access.check_data(data, visitor))


# --- environment and ETA ------------------------------------------------------------------------
def environment_markdown() -> str:
    """Which hardware, network, default model, data and precision will be used, and why."""
    hw = settings.hardware()
    offline = settings.offline_reason()
    _, model_name, model_why = resolve_model("auto", hw)
    data_spec, data_why = resolve_dataset("auto")
    precision = settings.auto_precision(hw)
    net = f"offline — {offline}" if offline else "online — the Hugging Face Hub is reachable"
    return (f"**Hardware:** {hw.describe()} · **Network:** {net}\n\n"
            f"**Default model:** `{model_name}` — {model_why}.\n\n"
            f"**Default data:** `{data_spec}` — {data_why}.\n\n"
            f"**Precision:** {precision} — "
            + {"bf16": "bf16 autocast, supported natively here.", "fp16": "fp16 mixed precision on the GPU.",
               "fp32": "full fp32: this CPU lacks AVX512-BF16/AMX, where bf16 would only slow things down."}[precision])


@functools.lru_cache(maxsize=32)
def _train_size(spec: str, s1: str, s2: str, label: str, token: str | bool | None = None) -> int:
    if spec in estimate.KNOWN_SIZES:
        return estimate.KNOWN_SIZES[spec][0]
    return len(load_data(spec, s1, s2, label, token=token).dataset["train"])


def eta_markdown(model: str, data: str, s1: str, s2: str, label: str, epochs: float, max_steps: float,
                 batch: float, grad_acc: float, precision: str, group: bool, max_train: float, seeds: str,
                 browser_id: Any = None, request: gr.Request = None) -> str:
    """The expected duration of the configured run(s), shown before Start."""
    try:
        visitor = visitor_of(browser_id, request)
        model, data = _checked(model, data, visitor)
        cfg = _config(model, data, s1, s2, label, epochs=epochs, max_steps=max_steps, batch=batch,
                      grad_acc=grad_acc, precision=precision, group=group, max_train=max_train)
        path, name, _ = resolve_model(cfg.model_name_or_path)
        if not Path(path).exists():
            access.check_hub_size(path, "model", visitor.hub_token)
        spec, _ = resolve_dataset(cfg.dataset)
        n_train = _train_size(spec, s1, s2, label, visitor.hub_token)
        est = estimate.estimate(cfg, n_train, path, name, store(), token=visitor.hub_token)
        runs = len(_seeds(seeds)) * (2 if precision == "compare" else 1)
        more = f" each, {runs} runs ≈ {estimate.format_duration(est.seconds * runs)} in all" if runs > 1 else ""
        return f"**Estimated duration:** {est.text()}{more}."
    except (ConfigError, DataError, ValueError, OSError) as err:
        return f"Estimate unavailable: {md_escape(_first_line(err))}"


# --- building configs ----------------------------------------------------------------------------
def _none_if_zero(value: float | None) -> float | None:
    return None if value in (None, "", 0) else value


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in str(text).replace(";", ",").split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"Seeds must be whole numbers separated by commas, not {text!r}") from None
    if not seeds or len(seeds) > 5:
        raise ConfigError("Give between 1 and 5 seeds, e.g. 42 or 1, 2, 3")
    return seeds


def _config(model: str, data: str, s1: str, s2: str, label: str, *, epochs: float = 3, max_steps: float = 0,
            lr: float = 0, batch: float = 0, grad_acc: float = 1, scheduler: str = "linear", warmup: float = 0,
            weight_decay: float = 0, eval_strategy: str = "steps", eval_steps: float = 0.1,
            logging_steps: float = 0, precision: str = "auto", group: bool = True, freeze: str = "auto (on for CPU)",
            max_length: float = 128, max_train: float = 0, max_eval: float = 0) -> TrainConfig:
    return TrainConfig(
        model_name_or_path=(model or "auto").strip(), dataset=(data or "auto").strip(),
        sentence1_column=s1 or "sentence1", sentence2_column=s2 or "sentence2", label_column=label or "label",
        num_train_epochs=float(epochs or 3), max_steps=int(max_steps or 0) or -1,
        learning_rate=_none_if_zero(lr), per_device_train_batch_size=int(batch) if batch else None,
        gradient_accumulation_steps=int(grad_acc or 1), lr_scheduler_type=scheduler, warmup_ratio=float(warmup or 0),
        weight_decay=float(weight_decay or 0), eval_strategy=eval_strategy, eval_steps=_none_if_zero(eval_steps),
        logging_steps=int(logging_steps) if logging_steps else None,
        precision="auto" if precision == "compare" else precision, group_by_length=bool(group),
        freeze_embeddings=FREEZE_CHOICES.get(freeze), max_length=int(max_length or 128),
        max_train_samples=int(max_train) if max_train else None, max_eval_samples=int(max_eval) if max_eval else None)


def apply_preset(name: str) -> list[Any]:
    """Fill every widget from a preset; returns values in PRESET_OUTPUTS order."""
    p = presets.get(name)
    c = p.config
    freeze = next(k for k, v in FREEZE_CHOICES.items() if v == c.freeze_embeddings)
    precision = "compare" if len(p.precisions) > 1 else c.precision
    return [f"*{p.description}*", c.num_train_epochs, max(c.max_steps, 0), c.learning_rate or 0,
            c.per_device_train_batch_size or 0, c.gradient_accumulation_steps, c.lr_scheduler_type, c.warmup_ratio,
            c.weight_decay, c.eval_strategy, c.eval_steps or 0, c.logging_steps or 0,
            ", ".join(map(str, p.seeds)), precision, c.group_by_length, freeze, c.max_length,
            c.max_train_samples or 0, c.max_eval_samples or 0]


def start_training(preset: str, model: str, data: str, s1: str, s2: str, label: str, epochs: float,
                   max_steps: float, lr: float, batch: float, grad_acc: float, scheduler: str, warmup: float,
                   weight_decay: float, eval_strategy: str, eval_steps: float, logging_steps: float, seeds: str,
                   precision: str, group: bool, freeze: str, max_length: float, max_train: float,
                   max_eval: float, browser_id: Any = None, request: gr.Request = None,
                   profile: gr.OAuthProfile | None = None,
                   oauth_token: gr.OAuthToken | None = None) -> tuple[str, str | None]:
    """Validate the settings, queue one run per seed (× precision), and say what happened.

    Returns (message markdown, id of the first new run or None)."""
    visitor = _visitor(browser_id, request, profile, oauth_token)
    try:
        model, data = _checked(model, data, visitor)
        cfg = _config(model, data, s1, s2, label, epochs=epochs, max_steps=max_steps, lr=lr, batch=batch,
                      grad_acc=grad_acc, scheduler=scheduler, warmup=warmup, weight_decay=weight_decay,
                      eval_strategy=eval_strategy, eval_steps=eval_steps, logging_steps=logging_steps,
                      precision=precision, group=group, freeze=freeze, max_length=max_length,
                      max_train=max_train, max_eval=max_eval)
        seed_list = _seeds(seeds)
        # Fail fast, before queueing: the same loader the run will use (also warms the Hub dataset cache).
        load_data(cfg.dataset, cfg.sentence1_column, cfg.sentence2_column, cfg.label_column,
                  token=visitor.hub_token)
        path, _, _ = resolve_model(cfg.model_name_or_path)
        if not Path(path).exists():
            access.check_hub_size(path, "model", visitor.hub_token)
    except ConfigError as err:  # our own words about the settings: kept as Markdown (a list)
        return f"❌ **Not started.** {err}", None
    except (DataError, AccessError) as err:  # may quote a file's names or cells: shown literally
        return f"❌ **Not started.** {md_escape(str(err))}", None
    precisions = ["fp32", presets.mixed_precision(settings.hardware())] if precision == "compare" else [cfg.precision]
    variants = presets.expand(cfg, seed_list, precisions)
    group_id = f"g{int(time.time())}" if len(variants) > 1 else None
    base_label = (preset if preset in presets.PRESET_NAMES else "custom").split(" (")[0]
    lines, first = [], None
    for suffix, variant in variants:
        try:
            run_id, position = runner().submit(variant, label=f"{base_label}{' · ' + suffix if suffix else ''}",
                                               group_id=group_id, owner=visitor.key)
        except QueueFull as err:
            lines.append(f"❌ {err}")
            break
        first = first or run_id
        lines.append(f"▶ `{run_id}` started" if position == 0 else f"⏳ `{run_id}` queued — position {position} "
                     "in line (one training at a time on this device)")
    return "\n\n".join(lines), first


def stop_training(run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                  profile: gr.OAuthProfile | None = None) -> str:
    """Ask the viewed run to save a checkpoint and stop (its owner only)."""
    if not run_id:
        return "No run selected."
    return md_escape(runner().stop(str(run_id), _visitor(browser_id, request, profile).key))


def resume_training(run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                    profile: gr.OAuthProfile | None = None) -> str:
    """Queue an interrupted or stopped run again from its last checkpoint (its owner only)."""
    if not run_id:
        return "No run selected."
    return md_escape(runner().resume(str(run_id), _visitor(browser_id, request, profile).key))


def delete_run(run_id: str | None, browser_id: Any = None, request: gr.Request = None,
               profile: gr.OAuthProfile | None = None) -> str:
    """Delete the viewed run and its files (its owner only; finished runs only)."""
    if not run_id:
        return "No run selected."
    return md_escape(runner().delete(str(run_id), _visitor(browser_id, request, profile).key))


# --- viewing -------------------------------------------------------------------------------------
def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__


def _settings_summary(run: Run) -> str:
    c = run.config
    parts = [f"lr {c.get('learning_rate') or 'auto'}", f"bs {c.get('per_device_train_batch_size') or 'auto'}",
             f"{c.get('max_steps')} steps" if (c.get("max_steps") or -1) > 0 else f"{c.get('num_train_epochs')} ep",
             f"seed {c.get('seed')}", run.precision or c.get("precision", "auto")]
    if c.get("group_by_length"):
        parts.append("grouped")
    return " · ".join(str(p) for p in parts)


def _shown_model_data(run: Run, visitor: Visitor) -> tuple[str, str]:
    """Model and data as this visitor may see them: other visitors' server paths and upload names are hidden."""
    model = run.model or run.config.get("model_name_or_path", "")
    data = run.data or run.config.get("dataset", "")
    if visitor.space and not visitor.owns(run.owner):
        return access.public_name(model), access.public_name(data)
    return str(model), str(data)


def runs_table(visitor: Visitor = access.LOCAL) -> list[list]:
    """Past and current runs, newest first (yours marked with a star on a Space)."""
    rows = []
    for run in store().list(limit=100):
        fm = run.final_metrics
        model, data = _shown_model_data(run, visitor)
        mine = "★ " if visitor.space and visitor.owns(run.owner) else ""
        rows.append([mine + run.id, run.status, model, data[:40], _settings_summary(run),
                     f"{fm['eval_accuracy']:.4f}" if "eval_accuracy" in fm else "",
                     f"{fm['eval_f1']:.4f}" if "eval_f1" in fm else "",
                     f"{run.samples_per_second:.1f}" if run.samples_per_second else "",
                     time.strftime("%m-%d %H:%M", time.localtime(run.created))])
    return rows


def run_choices(visitor: Visitor = access.LOCAL) -> list[tuple[str, str]]:
    out = []
    for r in store().list(limit=100):
        mine = "★ " if visitor.space and visitor.owns(r.owner) else ""
        out.append((f"{mine}{r.id} · {r.label} · {r.status}", r.id))
    return out


def default_run(visitor: Visitor = access.LOCAL) -> str | None:
    """This visitor's active run if any, else their newest; off a Space the active or newest run."""
    runs = [r for r in store().list(limit=50) if visitor.owns(r.owner)]
    active = [r for r in runs if r.active] or [r for r in runs if r.status == "queued"]
    return (active or runs)[0].id if (active or runs) else None


def progress_html(run: Run | None, visitor: Visitor = access.LOCAL) -> str:
    if run is None:
        return "<div class='run-progress'>No run yet: choose a preset and press <b>Start</b>.</div>"
    pct = 100.0 * run.step / run.max_steps if run.max_steps else (100.0 if run.status == "completed" else 0.0)
    eta = run.eta_seconds()
    owner = visitor.owns(run.owner)
    parts = [f"<b>{html.escape(run.label)}</b> — {html.escape(run.status)}",
             f"step {run.step}/{run.max_steps or '?'}", f"epoch {run.epoch:.2f}"]
    if not owner:
        parts.append("another visitor's run (read-only)")
    if run.started:
        parts.append(f"elapsed {estimate.format_duration((run.finished or time.time()) - run.started)}")
    if eta is not None:
        parts.append(f"ETA {estimate.format_duration(eta)}")
    if run.status == "queued":
        parts.append(f"position {runner().position(run.id)} in line")
    if run.error:
        shown = run.error.splitlines()[0][:300] if owner else "it ended with an error (details go to its owner)"
        parts.append(f"<span class='run-error'>{html.escape(shown)}</span>")
    return (f"<div class='run-progress' data-status='{html.escape(run.status)}'><div class='bar'><div class='fill' "
            f"style='width:{pct:.1f}%'></div></div><div class='caption'>{' · '.join(parts)}</div></div>")


def run_details(run: Run | None, visitor: Visitor = access.LOCAL) -> str:
    """Head-swap report and the choices made for this run, in plain words (paths and logs only for the owner)."""
    if run is None:
        return ""
    from trainer_backend.modeling import HeadSwapReport

    info = run.info
    owner = visitor.owns(run.owner)
    out = []
    if info.get("head_swap"):
        swap = {k: [md_escape(x) for x in v] for k, v in info["head_swap"].items()}
        out.append("#### The head swap\nLoading a pretrained encoder for classification replaced its head:\n\n"
                   + HeadSwapReport(**swap).explain().replace("`", ""))
    if info.get("notes"):
        notes = [md_escape(n if owner else access.public_name(n)) for n in info["notes"]]
        out.append("#### Choices for this run\n" + "\n".join(f"- {n}" for n in notes))
    if owner and info.get("log_tail") and run.status in ("interrupted", "failed"):
        tail = "\n".join(line.replace("`", "'") for line in info["log_tail"])
        out.append("#### Last lines of the training log\n```text\n" + tail + "\n```")
    ckpt = last_checkpoint(run.output_dir) if run.status in ("interrupted", "stopped") else None
    if ckpt and owner:
        out.append(f"💾 Checkpoint kept: `{ckpt.name}` — press **Resume** to continue from it.")
    return "\n\n".join(out)


def compared_runs(view_id: str | None, compare_ids: list[str] | None) -> list[Run]:
    """The runs drawn together: those picked to compare, else the viewed run and its seed group."""
    s = store()
    if compare_ids:
        return [r for r in (s.get(str(i)) for i in list(compare_ids)[:12]) if r]
    run = s.get(str(view_id)) if view_id else None
    if run is None:
        return []
    if run.group_id:
        group = [r for r in s.list(limit=200) if r.group_id == run.group_id]
        return sorted(group, key=lambda r: r.created)
    return [run]


def _viewer(browser_id: Any, request: gr.Request | None) -> Visitor:
    try:
        return visitor_of(browser_id, request)
    except AccessError:
        return access.Visitor("anon:nobody", space=True)


def refresh(view_id: str | None, compare_ids: list[str] | None, last_signature: str, browser_id: Any = None,
            request: gr.Request = None) -> list[Any]:
    """Redraw what changed. When nothing was written to the store since the last tick: no query, all skipped."""
    s = store()
    visitor = _viewer(browser_id, request)
    base = f"{s.version()}|{view_id}|{compare_ids}|{visitor.key}"
    if last_signature and base == last_signature.split("#")[0]:
        return [gr.skip()] * 11
    run = s.get(str(view_id)) if view_id else None
    runs = compared_runs(view_id, compare_ids)
    drawn = "|".join(f"{r.id}:{r.status}:{s.metric_count(r.id)}" for r in runs)
    signature = f"{base}#{drawn}"
    progress = progress_html(run, visitor)
    history, menu = runs_table(visitor), gr.Dropdown(choices=run_choices(visitor))
    busy = any(r.status in ("queued", "starting", "running") for r in runs)
    timer = gr.Timer(value=POLL_SECONDS if busy else IDLE_POLL_SECONDS)
    if last_signature and drawn == last_signature.split("#")[-1]:
        return [progress] + [gr.skip()] * 6 + [history, menu, signature, timer]
    revision = ",".join(r.id for r in runs)
    matrix = run.final_metrics.get("confusion") if run else None
    return [progress,
            charts.loss_figure(s, runs, revision),
            charts.eval_figure(s, runs, revision),
            gr.Plot(value=charts.spread_figure(s, runs, revision=revision), visible=len(runs) >= 2),
            charts.results_table(s, run.id) if run else [],
            gr.Plot(value=charts.confusion_figure(matrix), visible=bool(matrix)),
            run_details(run, visitor),
            history, menu, signature, timer]


def select_run_on_load(browser_id: Any = None, request: gr.Request = None) -> tuple[Any, Any]:
    """On page (re)load: show this visitor's active run, or their latest one."""
    visitor = _viewer(browser_id, request)
    choices = run_choices(visitor)
    return gr.Dropdown(choices=choices, value=default_run(visitor)), gr.Dropdown(choices=choices, value=[])


def after_start(message: str, run_id: str | None, current: str | None, browser_id: Any = None,
                request: gr.Request = None) -> tuple[Any, Any, Any]:
    choices = run_choices(_viewer(browser_id, request))
    return (gr.Dropdown(choices=choices, value=run_id or current), gr.Dropdown(choices=choices),
            gr.Timer(value=POLL_SECONDS))


def run_status(run_id: str, browser_id: Any = None, request: gr.Request = None) -> dict[str, Any]:
    """API view of one run: status, progress, final metrics and the metric rows' count (errors: owner only)."""
    run = store().get(str(run_id))
    if run is None:
        raise gr.Error("No such run.")
    owner = _viewer(browser_id, request).owns(run.owner)
    return {"id": run.id, "status": run.status, "step": run.step, "max_steps": run.max_steps,
            "label": run.label, "error": run.error if owner else (run.error and "hidden: not your run"),
            "final_metrics": run.final_metrics, "yours": owner,
            "metric_rows": store().metric_count(run.id),
            "loss_points": len(store().metrics(run.id, ["loss"])),
            "eval_points": len(store().metrics(run.id, ["eval_accuracy"])),
            "queued_position": runner().position(run.id)}


def _sha1_file(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]


def save_upload(file_path: str | None, browser_id: Any = None, request: gr.Request = None,
                profile: gr.OAuthProfile | None = None) -> tuple[Any, str]:
    """Keep an uploaded data file in this visitor's own upload folder; returns (data name 'upload:<file>', message).

    Gradio has already refused files above the upload limit (max_file_size) before this runs. Each visitor keeps
    at most `uploads_per_visitor` files (oldest dropped); the server path is never shown."""
    if not file_path:
        return gr.skip(), ""
    visitor = _visitor(browser_id, request, profile)
    src = Path(file_path)
    lim = settings.limits()
    if src.stat().st_size > lim.upload_bytes:
        return gr.skip(), f"❌ The file is larger than this app's {lim.upload_bytes / 1e6:.0f} MB upload limit."
    if src.suffix.lower() not in {".csv", ".tsv", ".jsonl"}:
        return gr.skip(), "❌ Upload a .csv, .tsv or .jsonl file."
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", src.stem)[:40].strip("-") or "data"
    name = f"{stem}-{_sha1_file(src)}{src.suffix.lower()}"
    folder = visitor.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    if not dest.exists():
        dest.write_bytes(src.read_bytes())
    dest.touch()
    kept = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[lim.uploads_per_visitor:]:
        old.unlink(missing_ok=True)
    return (access.UPLOAD_PREFIX + name,
            f"Uploaded **{md_escape(src.name)}**. Map its columns below if they are not sentence1/sentence2/label.")


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


# --- Hub push and download -----------------------------------------------------------------------
def _oauth_value(oauth_token: gr.OAuthToken | None) -> str | None:
    return getattr(oauth_token, "token", None) if oauth_token else None


def _finished_own_run(run_id: str | None, visitor: Visitor) -> Run:
    run = store().get(str(run_id)) if run_id else None
    if run is None or run.status not in ("completed", "stopped") or not Path(run.output_dir, "config.json").exists():
        raise AccessError("Choose a finished run first: only a trained model can be pushed or downloaded.")
    if not visitor.owns(run.owner):
        raise AccessError("This run belongs to another visitor: only its owner can push or download it.")
    return run


def push_status(run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None) -> str:
    """Whether the viewed run can be pushed now, and if not, why (never shows a token)."""
    from trainer_backend import hub

    visitor = _visitor(browser_id, request, profile, oauth_token)
    try:
        run = _finished_own_run(run_id, visitor)
    except AccessError as err:
        return f"ℹ️ {err}"
    ok, why = hub.push_availability(hub.visitor_token(_oauth_value(oauth_token)))
    pushed = f" Already pushed to `{md_escape(run.hub_repo)}`." if run.hub_repo else ""
    return ("✅ " if ok else "ℹ️ ") + why + pushed


def push_to_hub(run_id: str | None, repo_id: str, private: bool, browser_id: Any = None,
                request: gr.Request = None, profile: gr.OAuthProfile | None = None,
                oauth_token: gr.OAuthToken | None = None) -> str:
    """Push the viewed run's model with a generated card (owner only; on a Space with the visitor's own sign-in)."""
    from trainer_backend import hub

    visitor = _visitor(browser_id, request, profile, oauth_token)
    try:
        run = _finished_own_run(run_id, visitor)
    except AccessError as err:
        return f"❌ {err}"
    try:
        repo = hub.push_run(run.output_dir, repo_id=(repo_id or "").strip() or None, private=bool(private),
                            token=hub.visitor_token(_oauth_value(oauth_token)))
    except hub.HubError as err:
        return f"❌ {md_escape(str(err))}"
    store().update(run.id, hub_repo=repo)
    return (f"✅ Pushed to [`{md_escape(repo)}`](https://huggingface.co/{repo}). It is now the default model "
            "in **Predict**.")


def download_checkpoint(run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                        profile: gr.OAuthProfile | None = None) -> tuple[Any, str]:
    """A zip of the viewed run's final model (weights, tokenizer, config, model card); owner only."""
    from trainer_backend import hub

    visitor = _visitor(browser_id, request, profile)
    try:
        run = _finished_own_run(run_id, visitor)
        return str(hub.zip_checkpoint(run.output_dir)), f"📦 Zip of `{run.id}` ready."
    except (AccessError, hub.HubError) as err:
        return None, f"❌ {md_escape(str(err))}"
