"""The Train tab's Hub push and model download: the viewed run's owner only, on a Space with their own sign-in."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from trainer_backend.publish import hub
from trainer_backend.runs.store import Run
from trainer_backend.textsafe import md_escape
from ui.services import Services
from ui.train_handlers import _visitor
from web import downloads
from web.access import AccessError, Visitor


def _oauth_value(oauth_token: gr.OAuthToken | None) -> str | None:
    return getattr(oauth_token, "token", None) if oauth_token else None


def _finished_own_run(svc: Services, run_id: str | None, visitor: Visitor) -> Run:
    run = svc.store.get(str(run_id)) if run_id else None
    if run is None or run.status not in ("completed", "stopped") or not Path(run.output_dir, "config.json").exists():
        raise AccessError("Choose a finished run first: only a trained model can be pushed or downloaded.")
    if not visitor.owns(run.owner):
        raise AccessError("This run belongs to another visitor: only its owner can push or download it.")
    return run


def push_status(svc: Services, run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None) -> str:
    """Whether the viewed run can be pushed now, and if not, why (never shows a token)."""
    visitor = _visitor(browser_id, request, profile, oauth_token)
    try:
        run = _finished_own_run(svc, run_id, visitor)
    except AccessError as err:
        return f"ℹ️ {err}"
    ok, why = hub.push_availability(hub.visitor_token(_oauth_value(oauth_token)))
    pushed = f" Already pushed to `{md_escape(run.hub_repo)}`." if run.hub_repo else ""
    return ("✅ " if ok else "ℹ️ ") + why + pushed


def push_to_hub(svc: Services, run_id: str | None, repo_id: str, private: bool, browser_id: Any = None,
                request: gr.Request = None, profile: gr.OAuthProfile | None = None,
                oauth_token: gr.OAuthToken | None = None) -> str:
    """Push the viewed run's model with a generated card (owner only; on a Space with the visitor's own sign-in)."""
    visitor = _visitor(browser_id, request, profile, oauth_token)
    try:
        run = _finished_own_run(svc, run_id, visitor)
    except AccessError as err:
        return f"❌ {err}"
    try:
        repo = hub.push_run(run.output_dir, repo_id=(repo_id or "").strip() or None, private=bool(private),
                            token=hub.visitor_token(_oauth_value(oauth_token)))
    except hub.HubError as err:
        return f"❌ {md_escape(str(err))}"
    svc.store.update(run.id, hub_repo=repo)
    return (f"✅ Pushed to [`{md_escape(repo)}`](https://huggingface.co/{repo}). It is now the default model "
            "in **Predict**.")


def download_checkpoint(svc: Services, run_id: str | None, browser_id: Any = None, request: gr.Request = None,
                        profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """A zip of the viewed run's final model (weights, tokenizer, config, model card); owner only.
    {"file": the zip's path or None, "message": what happened}."""
    visitor = _visitor(browser_id, request, profile)
    try:
        run = _finished_own_run(svc, run_id, visitor)
        return {"file": str(hub.zip_checkpoint(run.output_dir, downloads.new_file)),
                "message": f"📦 Zip of `{run.id}` ready."}
    except (AccessError, hub.HubError) as err:
        return {"file": None, "message": f"❌ {md_escape(str(err))}"}
