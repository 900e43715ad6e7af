"""Shared UI plumbing: the app context that lets one tab open another with a preset."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

TAB_IDS = {"lesson": "lesson", "quiz": "quiz", "train": "train", "predict": "predict"}


@dataclass
class AppContext:
    """Handles the tabs hand each other. Cross-tab links are recorded, then wired once all tabs exist."""

    tabs: gr.Tabs | None = None
    train_preset: gr.Dropdown | None = None
    _train_links: list[tuple[gr.Button, str]] = field(default_factory=list)

    def link_to_train(self, button: gr.Button, preset: str) -> None:
        """Make `button` switch to the Train tab with `preset` selected (wired by `wire`)."""
        self._train_links.append((button, preset))

    def wire(self) -> None:
        """Connect every recorded cross-tab link; call inside the top-level Blocks after all tabs."""
        if self.tabs is None or self.train_preset is None:
            return
        for button, preset in self._train_links:
            button.click(_goto_train_factory(preset), None, [self.tabs, self.train_preset], api_name=False)


def _goto_train_factory(preset: str):
    def goto_train() -> tuple[Any, Any]:
        return gr.Tabs(selected=TAB_IDS["train"]), gr.Dropdown(value=preset)

    goto_train.__name__ = f"goto_train_{abs(hash(preset))}"
    return goto_train
