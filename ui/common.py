"""Shared UI plumbing: the services and handles the tabs share, cross-tab links, and who a request comes from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from trainer_backend import access, settings
from ui.addresses import client_address

VISITOR_KEY = "studio-visitor-id"


def visitor_of(browser_id: Any, request: gr.Request | None, profile: gr.OAuthProfile | None = None,
               oauth_token: gr.OAuthToken | None = None) -> access.Visitor:
    """The visitor behind a request: signed-in name, else the browser's random id, else the session; with the
    client's address (hashed), for quotas a new id does not reset."""
    return access.make_visitor(getattr(profile, "username", None), getattr(oauth_token, "token", None),
                               browser_id if isinstance(browser_id, str) else None,
                               getattr(request, "session_hash", None), client_address(request))


def ensure_visitor_id(current: Any) -> str:
    """On page load: keep the browser's random visitor id, or make one (it never leaves this browser's storage)."""
    if isinstance(current, str) and access.VISITOR_ID.match(current):
        return current
    return access.new_browser_id()


def remember_viewer(browser_id: Any, request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> str | None:
    """On page load, after the visitor id exists: the visitor's key, kept in a server-side gr.State.

    Why a State: the batched /predict serves several visitors in one call and Gradio hands a batched function
    only the first request, so identity travels as an input; a State's value lives in the server's session and
    a client cannot set it (an API client that never loaded the page is nobody: Hub ids and the default only)."""
    try:
        return visitor_of(browser_id, request, profile).key
    except access.AccessError:
        return None


def viewer_of(key: Any, browser_id: Any = None) -> access.Visitor:
    """The visitor a Predict or Lesson handler acts for (no token): the key remember_viewer kept for this page,
    else the browser id an API client sends (as Train's endpoints take it), else nobody on a Space."""
    if (isinstance(key, str) and key) or not settings.on_space():
        return access.visitor_from_key(key)
    try:
        return access.make_visitor(browser_id=browser_id if isinstance(browser_id, str) else None)
    except access.AccessError:
        return access.reader(None)


def visitor_state() -> gr.BrowserState:
    """The anonymous visitor id, kept (encrypted) in the browser's localStorage across reloads and app restarts."""
    return gr.BrowserState("", storage_key=VISITOR_KEY, secret=settings.browser_secret())


def who_inputs(ctx: "AppContext | None") -> list[gr.Component]:
    """[viewer key State, visitor id BrowserState]: what a handler needs to know who asks (see viewer_of); the
    app's shared ones, or this tab's own when it runs alone."""
    viewer = ctx.viewer if ctx is not None and ctx.viewer is not None else gr.State(None)
    visitor = ctx.visitor if ctx is not None and ctx.visitor is not None else visitor_state()
    return [viewer, visitor]

TAB_IDS = {"lesson": "lesson", "quiz": "quiz", "train": "train", "predict": "predict"}


@dataclass
class AppContext:
    """Handles the tabs hand each other. Cross-tab links are recorded, then wired once all tabs exist."""

    root: gr.Blocks | None = None           # the app's Blocks, for page-load events (no private Gradio API)
    tabs: gr.Tabs | None = None
    train_preset: gr.Dropdown | None = None
    runner: Any = None                       # trainer_backend.runs.jobs.JobRunner, built once in app.py
    visitor: gr.BrowserState | None = None   # the anonymous visitor id (see visitor_of)
    viewer: gr.State | None = None           # that visitor's key, server-side (see remember_viewer)
    train_timer: gr.Timer | None = None      # ticks only while the Train tab is shown
    _train_links: list[tuple[gr.Button, str]] = field(default_factory=list)
    _viewer_loads: list[tuple[Any, Any, Any]] = field(default_factory=list)

    def on_viewer_known(self, fn, inputs: list, outputs: list) -> None:
        """Run fn on page load once the viewer is known (menus of a visitor's own runs); chained by
        `load_viewer`, or straight away on the root's load when this tab runs alone (no viewer: the local user)."""
        if self.viewer is None:
            if self.root is not None:
                self.root.load(fn, inputs, outputs, api_name=False, show_progress="hidden")
            return
        self._viewer_loads.append((fn, inputs, outputs))

    def load_viewer(self) -> None:
        """The page-load chain: the browser's visitor id, then the viewer's key, then what waited for it."""
        if self.root is None or self.visitor is None or self.viewer is None:
            return
        event = self.root.load(ensure_visitor_id, self.visitor, self.visitor, api_name=False).then(
            remember_viewer, self.visitor, self.viewer, api_name=False, show_progress="hidden")
        for fn, inputs, outputs in self._viewer_loads:
            event.then(fn, inputs, outputs, api_name=False, show_progress="hidden")

    def link_to_train(self, button: gr.Button, preset: str) -> None:
        """Make `button` switch to the Train tab with `preset` selected (wired by `wire`)."""
        self._train_links.append((button, preset))

    def wire(self) -> None:
        """Connect every recorded cross-tab link; call inside the top-level Blocks after all tabs."""
        if self.tabs is None or self.train_preset is None:
            return
        outputs = [self.tabs, self.train_preset] + ([self.train_timer] if self.train_timer else [])
        for button, preset in self._train_links:
            button.click(_goto_train_factory(preset, bool(self.train_timer)), None, outputs, api_name=False)


def _goto_train_factory(preset: str, with_timer: bool):
    def goto_train() -> tuple[Any, ...]:
        out = (gr.Tabs(selected=TAB_IDS["train"]), gr.Dropdown(value=preset))
        return out + (gr.Timer(active=True),) if with_timer else out

    goto_train.__name__ = f"goto_train_{abs(hash(preset))}"
    return goto_train


def timer_on() -> gr.Timer:
    """The Train tab is shown: poll the run store."""
    return gr.Timer(active=True)


def timer_off() -> gr.Timer:
    """Another tab is shown: no polling at all."""
    return gr.Timer(active=False)
