"""What the Train tab shows about runs: progress line, charts, details, history, menus; redrawn only on change."""
from __future__ import annotations

import hashlib
import html
import time
from typing import Any

import gradio as gr

from trainer_backend import recipe
from trainer_backend.config import ConfigError, TrainConfig
from trainer_backend.modeling import HeadSwapReport
from trainer_backend.runs import summary
from trainer_backend.runs.bounds import TIME_LIMIT
from trainer_backend.runs.store import Run, last_checkpoint
from trainer_backend.tasks import metric_config
from trainer_backend.textsafe import md_escape
from ui import charts
from ui.common import by_component as by_component  # moved to ui.common; v.by_component stays importable
from ui.common import visitor_of
from ui.services import Services
from web import access, estimate
from web.access import AccessError, Visitor
from wording.run_notes import head_swap_markdown, note_text

POLL_SECONDS = 2.0       # while the viewed run (or one drawn with it) is queued or training (each tick is a
#                          queued request and a browser redraw; a step takes 1-2 s on 2 cores, so 1 s mostly redrew)
IDLE_POLL_SECONDS = 30.0  # otherwise: nothing of this page's can change quickly (a run you start here switches the
#                          page to POLL_SECONDS at once); every idle tick is a queued request the server answers, so
#                          50 idle open pages at 5 s cost the app about a core's tenth (bench/load_predict.py)
CHART_SECONDS = 5.0      # while a run trains, its charts are redrawn at most this often (the progress line: every tick)
RUN_COLUMNS = ["Run", "Status", "Model", "Data", "Settings", "Accuracy", "F1", "Samples/s", "Started"]


def _learning_rates(config: dict) -> str:
    """The rates a run trains with, as applied (encoder, and the head's when it differs)."""
    try:
        lr, head = recipe.applied_learning_rates(TrainConfig.from_dict(config))
    except (ConfigError, TypeError):
        return f"lr {config.get('learning_rate') or 'auto'}"
    return f"lr {lr:g}" + (f" · head {head:g}" if head != lr else "")


def _settings_summary(run: Run) -> str:
    c = run.config
    parts = [_learning_rates(c), f"bs {c.get('per_device_train_batch_size') or 'auto'}",
             f"{c.get('max_steps')} steps" if (c.get("max_steps") or -1) > 0 else f"{c.get('num_train_epochs')} ep",
             f"seed {c.get('seed')}", run.precision or c.get("precision", "auto")]
    if c.get("group_by_length"):
        parts.append("grouped")
    if c.get("frozen_layers"):
        parts.append(f"{c['frozen_layers']} layers frozen")
    if c.get("dropout") is not None:
        parts.append(f"dropout {c['dropout']:g}")
    if c.get("easy_pair_ratio"):
        parts.append(f"easy pairs {c['easy_pair_ratio']:g}× real")
    return " · ".join(str(p) for p in parts)


def _shown_model_data(run: Run, visitor: Visitor) -> tuple[str, str]:
    """Model and data as this visitor may see them: other visitors' server paths and upload names are hidden."""
    model = run.model or run.config.get("model_name_or_path", "")
    data = run.data or run.config.get("dataset", "")
    if visitor.space and not visitor.owns(run.owner):
        return access.public_name(model), access.public_name(data)
    return str(model), str(data)


def _second_score(final: dict) -> str:
    """The history's F1 cell: F1, or Matthews correlation (said so) for a run scored as CoLA."""
    if "eval_f1" in final:
        return f"{final['eval_f1']:.4f}"
    if "eval_matthews_correlation" in final:
        return f"{final['eval_matthews_correlation']:.4f} ({charts.MCC})"
    return ""


def runs_table(svc: Services, visitor: Visitor = access.LOCAL) -> list[list]:
    """Past and current runs, newest first; on a Space yours first (starred) and no one else's cancelled runs."""
    rows = []
    for run in svc.store.list_for_menu(visitor.runs_owner, limit=100):
        fm = run.final_metrics
        model, data = _shown_model_data(run, visitor)
        mine = "★ " if visitor.space and visitor.owns(run.owner) else ""
        low = summary.at_floor(run)
        accuracy = f"{fm['eval_accuracy']:.4f}" if "eval_accuracy" in fm else ""
        rows.append([mine + run.id, run.status, model, data[:40], _settings_summary(run),
                     f"{accuracy} ⚠ at the {low[1]:.2f} floor" if low else accuracy,
                     _second_score(fm),
                     f"{run.samples_per_second:.1f}" if run.samples_per_second else "",
                     time.strftime("%m-%d %H:%M", time.localtime(run.born))])
    return rows


def run_choices(svc: Services, visitor: Visitor = access.LOCAL) -> list[tuple[str, str]]:
    out = []
    for r in svc.store.list_for_menu(visitor.runs_owner, limit=100):
        mine = "★ " if visitor.space and visitor.owns(r.owner) else ""
        seed = r.config.get("seed")
        out.append((f"{mine}{summary.run_name(r)} · seed {seed} · {r.status}", r.id))
    return out


def default_run(svc: Services, visitor: Visitor = access.LOCAL) -> str | None:
    """The visitor's most relevant run: the one training, else the first in line, else the latest that finished
    (completed, stopped, failed or interrupted: by when it finished); a cancelled run only when there is no other.
    Off a Space: every run counts."""
    runs = svc.store.list(limit=50, owner=visitor.runs_owner)
    active = [r for r in runs if r.active]
    queued = sorted((r for r in runs if r.status == "queued"), key=lambda r: r.created)
    ended = sorted((r for r in runs if r.status not in ("queued", "cancelled") and not r.active),
                   key=lambda r: r.finished or r.created, reverse=True)
    best = active or queued or ended or runs
    return best[0].id if best else None


def phase(run: Run) -> str:
    """What the run is doing now, in words, from its stored state (the Trainer reports max_steps once it starts)."""
    if run.status == "starting":
        return "starting the training process"
    if run.status == "running":
        if run.stop_requested:
            why = " (time limit reached)" if run.stop_reason == TIME_LIMIT else ""
            return f"saving a checkpoint, then stopping{why}" if run.max_steps else f"stopping{why}"
        if not run.max_steps:
            return "loading the model and tokenizing the data"
        if run.step >= run.max_steps:
            return "evaluating and saving the final model"
        return "training"
    return run.status


def progress_html(svc: Services, run: Run | None, visitor: Visitor = access.LOCAL) -> str:
    if run is None:
        return "<div class='run-progress'>No run yet: choose a preset and press <b>Start</b>.</div>"
    pct = 100.0 * run.step / run.max_steps if run.max_steps else (100.0 if run.status == "completed" else 0.0)
    eta = run.eta_seconds()
    owner = visitor.owns(run.owner)
    parts = [f"<b>{html.escape(run.label)}</b> — {html.escape(phase(run))}"]
    if run.max_steps:
        parts += [f"step {run.step}/{run.max_steps}", f"epoch {run.epoch:.2f}"]
    if not owner:
        parts.append("another visitor's run (read-only)")
    elapsed = run.elapsed_seconds()
    if elapsed is not None:
        parts.append(f"elapsed {estimate.format_duration(elapsed)}")
    if eta is not None:
        parts.append(f"ETA {estimate.format_duration(eta)}")
    if run.status == "queued":
        parts.append(f"position {svc.runner.position(run.id)} in line")
    low = summary.at_floor(run)
    if low:
        parts.append(f"<span class='run-floor'>accuracy {low[0]:.3f} is at the majority-class floor of this data "
                     f"({low[1]:.2f}: always answering the commoner label) — it has not learned yet; try more "
                     "epochs, a higher learning rate or unfrozen embeddings</span>")
    elif run.status == "completed" and "eval_accuracy" in run.final_metrics:
        floor = summary.majority_floor(run.final_metrics.get("confusion"))
        if floor:
            parts.append(f"accuracy {run.final_metrics['eval_accuracy']:.3f} vs a floor of {floor[0]:.2f}")
    if run.error:
        shown = run.error.splitlines()[0][:300] if owner else "it ended with an error (details go to its owner)"
        parts.append(f"<span class='run-error'>{html.escape(shown)}</span>")
    return (f"<div class='run-progress' data-status='{html.escape(run.status)}'><div class='bar'><div class='fill' "
            f"style='width:{pct:.1f}%'></div></div><div class='caption'>{' · '.join(parts)}</div></div>")


def run_details(run: Run | None, visitor: Visitor = access.LOCAL) -> str:
    """Head-swap report and the choices made for this run, in plain words (paths and logs only for the owner)."""
    if run is None:
        return ""

    record, info = run.record, run.info  # what the run produced; info also holds the app's log tail
    owner = visitor.owns(run.owner)
    out = []
    if record.head_swap:
        swap = {k: [md_escape(x) for x in v] for k, v in record.head_swap.items()}
        out.append("#### The head swap\nLoading a pretrained encoder for classification replaced its head:\n\n"
                   + head_swap_markdown(HeadSwapReport(**swap)).replace("`", ""))
    if record.notes:
        said = (note_text(n) for n in record.notes)  # a record from before typed notes holds its sentences
        notes = [md_escape(t if owner else access.public_name(t)) for t in said]
        out.append("#### Choices for this run\n" + "\n".join(f"- {n}" for n in notes))
    if owner and info.get("push_error"):
        out.append(f"#### The push to the Hub failed\n{md_escape(info['push_error'])} (the model is kept here: "
                   "**Push** again once the cause is fixed)")
    if owner and info.get("log_tail") and run.status in ("interrupted", "failed"):
        tail = "\n".join(line.replace("`", "'") for line in info["log_tail"])
        out.append("#### Last lines of the training log\n```text\n" + tail + "\n```")
    ckpt = last_checkpoint(run.output_dir) if run.status in ("interrupted", "stopped") else None
    if ckpt and owner:
        out.append(f"💾 Checkpoint kept: `{ckpt.name}` — press **Resume** to continue from it.")
    return "\n\n".join(out)


def compared_runs(svc: Services, view_id: str | None, compare_ids: list[str] | None) -> list[Run]:
    """The runs drawn together: those picked to compare, else the viewed run and its seed group."""
    s = svc.store
    if compare_ids:
        return [r for r in (s.get(str(i)) for i in list(compare_ids)[:12]) if r]
    run = s.get(str(view_id)) if view_id else None
    if run is None:
        return []
    if run.group_id:
        group = [r for r in s.list(limit=200) if r.group_id == run.group_id]
        return sorted(group, key=lambda r: r.created)
    return [run]


def viewer(browser_id: Any, request: gr.Request | None, profile: gr.OAuthProfile | None = None) -> Visitor:
    """Who is looking: the signed-in name (their runs are owned by it), else the browser's id, else the session."""
    try:
        return visitor_of(browser_id, request, profile)
    except AccessError:
        return access.NOBODY


def status_message(svc: Services, run: Run) -> str:
    """The message under Start, derived from the run's state (never left over from an earlier click)."""
    return {"queued": f"⏳ `{run.id}` is waiting in line (position {svc.runner.position(run.id)}).",
            "starting": f"▶ `{run.id}` is starting: loading the model and the data…",
            "running": (("⏹ Stopping after the current step…" if run.max_steps else "⏹ Stopping…")
                        if run.stop_requested else f"▶ `{run.id}` is training."),
            "completed": f"✅ `{run.id}` finished at step {run.step}.",
            "stopped": f"⏹ `{run.id}` stopped at step {run.step}; " + (
                "**Resume** continues from its checkpoint." if last_checkpoint(run.output_dir) else
                "it saved no checkpoint (stopped before its first one): start it again."),
            "interrupted": f"⚠️ `{run.id}` was interrupted at step {run.step}; **Resume** continues it.",
            "failed": f"❌ `{run.id}` failed (the reason is in the progress line).",
            "cancelled": f"`{run.id}` was cancelled before it started.",
            "not_started": f"⛔ `{run.id}` did not start: ZeroGPU gave it no GPU (why is in the progress line); "
                           "nothing was trained or lost, so Start it again later."}.get(run.status, "")


def _history_and_menu(svc: Services, visitor: Visitor) -> tuple[list[list], list[tuple[str, str]], str]:
    """The history rows and the run menu, and a short fingerprint of both (to send them only when they change)."""
    rows, menu = runs_table(svc, visitor), run_choices(svc, visitor)
    return rows, menu, hashlib.sha1(repr((rows, menu)).encode()).hexdigest()[:12]


# What refresh may update, by name; train_tab maps each name to its component (ui.common.by_component).
# select_run_on_load and after_start answer "menu" (the viewed run) and "compare" (the overlay), and "timer".
VIEW_OUTPUTS = ("progress", "loss", "eval", "spread", "table", "confusion", "details", "history", "menu",
                "signature", "timer", "message")



def refresh(svc: Services, view_id: str | None, compare_ids: list[str] | None, last_signature: str,
            browser_id: Any = None, request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """Redraw what changed, as {VIEW_OUTPUTS name: update}; a name left out is not sent. When nothing was written
    to the store since the last tick: no query, nothing sent.

    The signature is base#drawn#history#time: the store's version with what is viewed, what the charts show
    (run, status, metric rows), the history's fingerprint, and when the charts were last drawn. The progress line
    follows every step; the history and menu are sent only when they change; while a run trains the charts are
    redrawn at most every CHART_SECONDS (each redraw costs the browser a whole figure), at once on a status change."""
    s = svc.store
    visitor = viewer(browser_id, request, profile)
    base = f"{s.version()}|{view_id}|{compare_ids}|{visitor.key}"
    parts = (last_signature or "").split("#") + ["", "", ""]
    if last_signature and base == parts[0]:
        return {}
    run = s.get(str(view_id)) if view_id else None
    runs = compared_runs(svc, view_id, compare_ids)
    drawn = "|".join(f"{r.id}:{r.status}:{s.metric_count(r.id)}" for r in runs)
    old, old_history, drawn_at = parts[1], parts[2], float(parts[3] or 0)
    progress = progress_html(svc, run, visitor)
    rows, menu_choices, history_key = _history_and_menu(svc, visitor)
    busy = any(r.status in ("queued", "starting", "running") for r in runs)
    out: dict[str, Any] = {"progress": progress, "timer": gr.Timer(value=POLL_SECONDS if busy else IDLE_POLL_SECONDS)}
    if history_key != old_history:
        out.update(history=rows, menu=gr.Dropdown(choices=menu_choices))
    changed = run is not None and bool(last_signature) and f"{run.id}:{run.status}:" not in old
    if changed or (run is not None and run.stop_requested and run.active):
        out["message"] = status_message(svc, run)
    statuses = [d.rsplit(":", 1)[0] for d in drawn.split("|")] == [d.rsplit(":", 1)[0] for d in old.split("|")]
    now = time.time()
    if last_signature and (drawn == old or (statuses and busy and now - drawn_at < CHART_SECONDS)):
        out["signature"] = f"{base}#{old}#{history_key}#{drawn_at}"  # the charts still show `old`: drawn later
        return out
    revision = ",".join(r.id for r in runs)
    matrix = run.final_metrics.get("confusion") if run else None
    return out | {
        "signature": f"{base}#{drawn}#{history_key}#{now}",
        "loss": charts.loss_figure(s, runs, revision),
        "eval": charts.eval_figure(s, runs, revision),
        "spread": gr.Plot(value=charts.spread_figure(s, runs, revision=revision), visible=len(runs) >= 2),
        "table": gr.Dataframe(
            value=charts.results_table(s, run.id, summary.majority_floor(run.final_metrics.get("confusion"))) if run
            else [], headers=charts.table_headers(metric_config(run.record.task_spec) if run else "mrpc")),
        "confusion": gr.Plot(value=charts.confusion_figure(matrix, labels=run.record.task_spec.label_names if run
                                                           else None), visible=bool(matrix)),
        "details": run_details(run, visitor)}


def select_run_on_load(svc: Services, browser_id: Any = None, request: gr.Request = None,
                       profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """On page (re)load: show this visitor's active run, or their latest one ({"menu", "compare": update})."""
    visitor = viewer(browser_id, request, profile)
    choices = run_choices(svc, visitor)
    return {"menu": gr.Dropdown(choices=choices, value=default_run(svc, visitor)),
            "compare": gr.Dropdown(choices=choices, value=[])}


def after_start(svc: Services, message: str, run_id: str | None, current: str | None, browser_id: Any = None,
                request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """After Start: the menus list the new run and show it, and the page polls at the busy pace."""
    choices = run_choices(svc, viewer(browser_id, request, profile))
    return {"menu": gr.Dropdown(choices=choices, value=run_id or current), "compare": gr.Dropdown(choices=choices),
            "timer": gr.Timer(value=POLL_SECONDS)}


def run_status(svc: Services, run_id: str, browser_id: str | None = None, request: gr.Request = None,
               profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """API view of one run: status, progress, final metrics and the metric rows' count (errors: owner only)."""
    run = svc.store.get(str(run_id))
    if run is None:
        raise gr.Error("No such run.")
    owner = viewer(browser_id, request, profile).owns(run.owner)
    return {"id": run.id, "status": run.status, "step": run.step, "max_steps": run.max_steps,
            "label": run.label, "error": run.error if owner else (run.error and "hidden: not your run"),
            "final_metrics": run.final_metrics, "yours": owner,
            "metric_rows": svc.store.metric_count(run.id),
            "loss_points": len(svc.store.metrics(run.id, ["loss"])),
            "eval_points": len(svc.store.metrics(run.id, ["eval_accuracy"])),
            "queued_position": svc.runner.position(run.id)}
