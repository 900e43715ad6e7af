"""Shared UI plumbing: the services and handles the tabs share, cross-tab links, and who a request comes from."""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from typing import Any, Callable

import gradio as gr

from trainer_backend import presets, settings
from ui import train_form
from ui.addresses import client_address
from web import access

VISITOR_KEY = "studio-visitor-id"


def by_component(handler: Callable[..., dict[str, Any]], components: dict[str, Any]) -> Callable[..., dict]:
    """`handler`, answering {component: update} (what Gradio takes) where it answers {name: update}: a name left
    out is a component left as it is; an empty answer is gr.skip() (Gradio refuses an empty dict for several
    outputs). Same signature, so Gradio still hands it the request and the profile.

    Handlers answer by name so they are tested without building the page; the tab that wires them maps each name
    to its component once, and the event's outputs are that map's values (no order to keep in step)."""
    @functools.wraps(handler)
    def answer(*args: Any, **kwargs: Any) -> dict:
        return {components[name]: update for name, update in handler(*args, **kwargs).items()} or gr.skip()
    return answer


def plain_text(message: object) -> str:
    """A message as a toast shows it: plain words, without Markdown's bold markers or code backticks (a toast does
    not render Markdown, so they would show as typed)."""
    return str(message).replace("**", "").replace("`", "'").strip("'\"")


def error_toast(message: object) -> gr.Error:
    """A gr.Error whose text may quote a visitor (a model name, a cell): Gradio renders a toast's message as HTML,
    so it is HTML-escaped here, never Markdown-escaped (backslashes would show); Markdown markers are dropped."""
    return gr.Error(html.escape(plain_text(message), quote=False) or "Something went wrong.", print_exception=False)


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


def remember_viewer(browser_id: Any, request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> str:
    """On page load, after the visitor id exists: a signed ticket naming the visitor, kept in the page's hidden
    viewer box and sent with every Predict and Lesson request ('' when the request names no one).

    Why a ticket in an ordinary (hidden) input and not a gr.State: Gradio runs a batched function with the
    session state of the first request only, so the batched /predict would answer each visitor as whoever's
    request led the batch; an input value travels with its own request (access.issue_ticket)."""
    try:
        return access.issue_ticket(visitor_of(browser_id, request, profile))
    except access.AccessError:
        return ""


def viewer_of(browser_id: Any = None, ticket: Any = None) -> access.Visitor:
    """The visitor a Predict or Lesson handler acts for (no token): the one a valid ticket names (the page's,
    see remember_viewer), else the browser id an API client sends (as Train's endpoints take it), else nobody
    on a Space. Off a Space: the local user."""
    if not settings.on_space():
        return access.LOCAL
    named = access.visitor_from_ticket(ticket)
    if named is not None:
        return named
    try:
        return access.make_visitor(browser_id=browser_id if isinstance(browser_id, str) else None)
    except access.AccessError:
        return access.reader(None)


def visitor_state() -> gr.BrowserState:
    """The anonymous visitor id, kept in the browser's localStorage across reloads and app restarts (Gradio's
    encryption of it only obfuscates: see settings.browser_secret)."""
    return gr.BrowserState("", storage_key=VISITOR_KEY, secret=settings.browser_secret())


def viewer_box() -> gr.Textbox:
    """The page's viewer ticket (see remember_viewer): in the DOM, never shown; API clients leave it empty."""
    return gr.Textbox("", visible="hidden", label="viewer ticket", elem_classes="viewer-ticket")


def who_inputs(ctx: "AppContext | None") -> list[gr.Component]:
    """[visitor id BrowserState, viewer ticket box]: what a handler needs to know who asks (see viewer_of); the
    app's shared ones, or this tab's own when it runs alone. Handlers take them last, as (browser_id, ticket),
    so an API client's last argument stays its browser id as in Train's endpoints."""
    visitor = ctx.visitor if ctx is not None and ctx.visitor is not None else visitor_state()
    viewer = ctx.viewer if ctx is not None and ctx.viewer is not None else viewer_box()
    return [visitor, viewer]

TAB_IDS = {"lesson": "lesson", "quiz": "quiz", "train": "train", "predict": "predict"}


@dataclass
class AppContext:
    """Handles the tabs hand each other. Cross-tab links are recorded, then wired once all tabs exist."""

    root: gr.Blocks | None = None           # the app's Blocks, for page-load events (no private Gradio API)
    tabs: gr.Tabs | None = None
    train_preset: gr.Dropdown | None = None
    train_form: Any = None                   # ui.train_form.TrainForm of the Train tab (link_data_to_train fills it)
    services: Any = None                     # ui.services.Services (the job runner), built once in app.py
    visitor: gr.BrowserState | None = None   # the anonymous visitor id (see visitor_of)
    viewer: gr.Textbox | None = None         # that visitor's signed ticket (see remember_viewer)
    train_timer: gr.Timer | None = None      # ticks only while the Train tab is shown
    predict_pair: dict | None = None         # Predict's sentence boxes, model menu and Explain (link_pair_to_predict)
    _train_links: list[tuple[gr.Button, str]] = field(default_factory=list)
    _data_links: list[tuple[gr.Button, str]] = field(default_factory=list)
    _pair_links: list[tuple[Any, Any, list]] = field(default_factory=list)
    _viewer_loads: list[tuple[Any, Any, Any, dict]] = field(default_factory=list)

    def on_viewer_known(self, fn, inputs: list, outputs: list, **event: Any) -> None:
        """Run fn on page load once the viewer is known (menus of a visitor's own runs); chained by
        `load_viewer`, or straight away on the root's load when this tab runs alone (no viewer: the local user).
        `event`: further listener arguments (e.g. a concurrency_id shared with another event)."""
        if self.viewer is None:
            if self.root is not None:
                self.root.load(fn, inputs, outputs, api_name=False, show_progress="hidden", **event)
            return
        self._viewer_loads.append((fn, inputs, outputs, event))

    def load_viewer(self) -> None:
        """The page-load chain: the browser's visitor id, then the viewer's key, then what waited for it."""
        if self.root is None or self.visitor is None or self.viewer is None:
            return
        event = self.root.load(ensure_visitor_id, self.visitor, self.visitor, api_name=False).then(
            remember_viewer, self.visitor, self.viewer, api_name=False, show_progress="hidden")
        for fn, inputs, outputs, more in self._viewer_loads:
            event.then(fn, inputs, outputs, api_name=False, show_progress="hidden", **more)

    def link_to_train(self, button: gr.Button, preset: str) -> None:
        """Make `button` switch to the Train tab with `preset` selected (wired by `wire`)."""
        self._train_links.append((button, preset))

    def link_data_to_train(self, button: gr.Button, dataset: str) -> None:
        """Make `button` switch to the Train tab with its form filled for `dataset` (a named task): the chosen
        preset's settings, that data, its own columns (wired by `wire`)."""
        self._data_links.append((button, dataset))

    def link_pair_to_predict(self, table: Any, fn, inputs: list) -> None:
        """Make a row of `table`, selected, fill Predict's two sentence boxes and model menu and explain the pair
        there: fn(*inputs, gr.SelectData) returns {"tabs", "sentence1", "sentence2", "model", "timer" (Train's):
        update} and raises to send nothing (wired by `wire`, once Predict exists)."""
        self._pair_links.append((table, fn, inputs))

    def _wire_pairs(self) -> None:
        pair = self.predict_pair
        if self.tabs is None or pair is None or self.train_timer is None:
            return
        outputs = {"tabs": self.tabs, "sentence1": pair["sentence1"], "sentence2": pair["sentence2"],
                   "model": pair["model"], "timer": self.train_timer}
        explain_fn, explain_inputs, explain_outputs = pair["explain"]
        for table, fn, inputs in self._pair_links:
            table.select(by_component(fn, outputs), inputs, list(outputs.values()), api_name=False).success(
                explain_fn, explain_inputs, explain_outputs, api_name=False, concurrency_limit=1).success(
                None, None, None, js=pair["explain_shown"], api_name=False)  # the new pair hid the old answers

    def wire(self) -> None:
        """Connect every recorded cross-tab link; call inside the top-level Blocks after all tabs."""
        self._wire_pairs()
        if self.tabs is None or self.train_preset is None:
            return
        outputs = [self.tabs, self.train_preset] + ([self.train_timer] if self.train_timer else [])
        for button, preset in self._train_links:
            button.click(_goto_train_factory(preset, self.tabs, self.train_preset, self.train_timer), None, outputs,
                         api_name=False)
        if self.train_form is not None:
            timer = [self.train_timer] if self.train_timer else []
            for button, dataset in self._data_links:
                fill = _fill_train_factory(self.train_form, dataset, self.tabs, self.train_timer)
                button.click(fill, self.train_preset, [self.tabs, *self.train_form.components, *timer],
                             api_name=False)


def _goto_train_factory(preset: str, tabs: gr.Tabs, menu: gr.Dropdown, timer: gr.Timer | None):
    def goto_train() -> dict[Any, Any]:
        out = {tabs: gr.Tabs(selected=TAB_IDS["train"]), menu: gr.Dropdown(value=preset)}
        return out | ({timer: gr.Timer(active=True)} if timer is not None else {})

    goto_train.__name__ = f"goto_train_{abs(hash(preset))}"
    return goto_train


def task_values(preset: str, dataset: str) -> dict[str, Any]:
    """{field: config value} of `preset` run on `dataset`: the preset's settings whole (precision 'compare' when it
    compares), the data swapped in, the column fields at their defaults (a named task brings its own columns)."""
    try:
        p = presets.get(preset)
    except KeyError:
        p = presets.get(presets.QUICK_LOOK)
    values = p.config.replace(dataset=dataset, sentence1_column="sentence1", sentence2_column="sentence2",
                              label_column="label").to_dict()
    if len(p.precisions) > 1:
        values["precision"] = train_form.COMPARE
    return values


def _fill_train_factory(form: Any, dataset: str, tabs: gr.Tabs, timer: gr.Timer | None):
    def fill_train(preset: str) -> dict[Any, Any]:
        out = {tabs: gr.Tabs(selected=TAB_IDS["train"]), **form.updates(task_values(preset, dataset))}
        return out | ({timer: gr.Timer(active=True)} if timer is not None else {})

    fill_train.__name__ = f"fill_train_{dataset.replace('/', '_').replace('-', '_')}"
    return fill_train


def timer_on() -> gr.Timer:
    """The Train tab is shown: poll the run store."""
    return gr.Timer(active=True)


def timer_off() -> gr.Timer:
    """Another tab is shown: no polling at all."""
    return gr.Timer(active=False)
