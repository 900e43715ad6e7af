"""The Train tab's settings form, generated from TrainConfig's fields: default and help from the field, label,
section and bounds from config.FORM.

Adding a setting is one field in trainer_backend/config.py plus its FORM line (the layout hint); the form, presets,
handlers, the API's `settings` dict, the CLI and run.json then all know it by the same name."""
from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields
from typing import Any

import gradio as gr

from trainer_backend import settings
from trainer_backend.config import FORM, PRECISIONS, TrainConfig
from web import access

COMPARE = "compare"  # precision choice: one fp32 and one mixed-precision run side by side
FREEZE = {"auto (on for CPU)": None, "on": True, "off": False}
FORM_SECTIONS = ("source", "columns", "hyper", "cadence", "switches")
_HINTS = typing.get_type_hints(TrainConfig)


def form_fields(section: str | None = None) -> list:
    """TrainConfig fields shown in the form (all, or one section), in declaration order."""
    return [f for f in fields(TrainConfig) if FORM[f.name]["ui"] in FORM_SECTIONS
            and (section is None or FORM[f.name]["ui"] == section)]


def _optional(name: str) -> bool:
    return type(None) in typing.get_args(_HINTS[name])


def _base_type(name: str) -> type:
    args = [a for a in typing.get_args(_HINTS[name]) if a is not type(None)]
    return args[0] if args else _HINTS[name]


def widget_value(name: str, value: Any) -> Any:
    """What the widget shows for a config value (None -> the field's 'empty' widget value)."""
    if name == "freeze_embeddings":
        return next(k for k, v in FREEZE.items() if v == value)
    if value is None:
        return FORM[name].get("empty", "")
    return value


def config_value(name: str, value: Any) -> Any:
    """The config value for what a widget holds (the 'empty' widget value -> None; numbers typed)."""
    meta = FORM[name]
    if name == "freeze_embeddings":
        return FREEZE.get(value, value)
    if _optional(name) and (value is None or value == "" or value == meta.get("empty", object())):
        return None
    kind = _base_type(name)
    if kind is int and value is not None:
        return int(value)
    if kind is float and value is not None:
        return float(value)
    if kind is bool:
        return bool(value)
    return value.strip() if isinstance(value, str) else value


def _model_choices() -> list[str]:
    return ["auto", "packaged", settings.ONLINE_CPU_MODEL, settings.ONLINE_DEFAULT_MODEL]


def _widget(f) -> gr.Component:
    meta, name = FORM[f.name], f.name
    common = dict(label=meta["label"], info=f.metadata.get("help"), value=widget_value(name, f.default),
                  elem_id=f"train-{name.replace('_', '-')}")
    if name == "model_name_or_path":
        label = "Model (a listed one or a Hub id)" if settings.on_space() else "Model (Hub id or local folder)"
        return gr.Dropdown(_model_choices(), allow_custom_value=True, **{**common, "label": label})
    if name == "dataset":
        label = ("Data (a listed source, your upload, or a Hub dataset id)" if settings.on_space()
                 else "Data (glue/mrpc, sample, an MRPC folder or a file)")
        return gr.Dropdown(access.data_choices(), allow_custom_value=True, **{**common, "label": label})
    if name == "precision":
        return gr.Dropdown([*PRECISIONS, ("compare fp32 vs mixed", COMPARE)], **common)
    if name == "freeze_embeddings":
        return gr.Dropdown(list(FREEZE), **common)
    if "choices" in meta:
        return gr.Dropdown(list(meta["choices"]), **common)
    kind = _base_type(name)
    if kind is bool:
        return gr.Checkbox(**common)
    if kind in (int, float):
        if meta.get("slider"):
            return gr.Slider(meta.get("min", 0), meta.get("max", 1), step=0.01, **common)
        return gr.Number(minimum=meta.get("min"), maximum=meta.get("max"), precision=0 if kind is int else None,
                         **common)
    return gr.Textbox(**common)


@dataclass
class TrainForm:
    """The widgets of one Train tab, by field name, plus the extras that are not config fields."""

    widgets: dict[str, gr.Component] = field(default_factory=dict)

    def build(self, section: str, per_row: int = 3) -> None:
        """Create the widgets of one section inside the current layout, a few per row."""
        items = form_fields(section)
        for start in range(0, len(items), per_row):
            with gr.Row():
                for f in items[start:start + per_row]:
                    self.widgets[f.name] = _widget(f)

    @property
    def components(self) -> list[gr.Component]:
        return list(self.widgets.values())

    def values(self, data: dict) -> dict[str, Any]:
        """{field name: widget value} from a Gradio set-input dict {component: value}."""
        return {name: data[w] for name, w in self.widgets.items() if w in data}

    def updates(self, values: dict[str, Any]) -> dict[gr.Component, Any]:
        """{component: new value} for the given {field name: config value}."""
        return {self.widgets[k]: widget_value(k, v) for k, v in values.items() if k in self.widgets}


def to_config(values: dict[str, Any], **fixed: Any) -> tuple[TrainConfig, bool]:
    """A TrainConfig from form values (plus fixed fields); also whether precision 'compare' was chosen.

    Raises ConfigError (from TrainConfig) naming every bad value."""
    compare = values.get("precision") == COMPARE
    data = {k: config_value(k, v) for k, v in values.items() if k in TrainConfig.__dataclass_fields__}
    if compare:
        data["precision"] = "auto"
    if data.get("max_steps") is not None and data["max_steps"] <= 0:
        data["max_steps"] = -1
    return TrainConfig.from_dict({**data, **fixed}), compare
