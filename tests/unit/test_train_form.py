"""The Train form is generated from TrainConfig: one widget per field, values <-> config, presets, command, run.json."""
from __future__ import annotations

import json
import shlex
from dataclasses import fields

import gradio as gr
import pytest

from trainer_backend import presets
from trainer_backend.__main__ import parse
from trainer_backend.config import FORM, ConfigError, TrainConfig, config_to_command
from trainer_backend.textsafe import md_escape
from ui import train_form
from ui import train_handlers as h


@pytest.fixture(scope="module")
def form():
    with gr.Blocks():
        f = train_form.TrainForm()
        for section in train_form.FORM_SECTIONS:
            f.build(section)
        message = gr.Markdown()
    return f, message


def test_every_form_field_has_label_help_and_a_widget(form):
    f, _ = form
    shown = {x.name for x in train_form.form_fields()}
    assert shown == set(f.widgets)
    assert {"output_dir", "push_to_hub", "hub_model_id", "hub_private", "seed"}.isdisjoint(shown)
    for field in fields(TrainConfig):
        assert field.metadata.get("help") and FORM[field.name]["label"] and FORM[field.name]["ui"], field.name
        assert set(field.metadata) == {"help"}  # HfArgumentParser hands metadata to argparse: help only
    assert f.widgets["learning_rate"].info == TrainConfig.__dataclass_fields__["learning_rate"].metadata["help"]


def test_default_widgets_give_the_default_config(form):
    f, _ = form
    values = {name: w.value for name, w in f.widgets.items()}
    cfg, compare = train_form.to_config(values)
    assert cfg == TrainConfig() and not compare


def test_empty_widget_values_mean_none_and_compare_means_two_precisions():
    cfg, compare = train_form.to_config({"learning_rate": 0, "per_device_train_batch_size": 0, "max_steps": 0,
                                         "freeze_embeddings": "off", "precision": "compare",
                                         "max_train_samples": 200.0})
    assert cfg.learning_rate is None and cfg.per_device_train_batch_size is None and cfg.max_steps == -1
    assert cfg.freeze_embeddings is False and cfg.precision == "auto" and compare
    assert cfg.max_train_samples == 200 and isinstance(cfg.max_train_samples, int)
    with pytest.raises(ConfigError, match="learning_rate"):
        train_form.to_config({"learning_rate": 5.0})


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_every_preset_fills_the_whole_form_with_a_valid_config(form, name):
    f, _ = form
    description, values, seeds = h.preset_values(name)
    updates = f.updates(values)
    assert set(updates) == set(f.components)  # a preset is a whole TrainConfig: no widget keeps a stale value
    cfg, compare = train_form.to_config({n: updates[w] for n, w in f.widgets.items()})
    expected = presets.get(name).config
    assert cfg.replace(precision=expected.precision) == expected
    assert compare == (len(presets.get(name).precisions) > 1) and description and presets.parse_seeds(seeds)


def test_show_as_command_runs_the_same_config():
    cfg = TrainConfig(model_name_or_path="packaged", dataset="sample", num_train_epochs=1.5, learning_rate=3e-5,
                      group_by_length=False, freeze_embeddings=True, max_train_samples=100, output_dir="outputs/x")
    line = config_to_command(cfg)
    argv = shlex.split(line.replace("\\\n", " "))[3:]
    parsed, _, overrides = parse(argv)
    assert parsed == cfg and overrides == {}


def test_command_line_has_one_line_per_seed_and_precision():
    values = {"dataset": "sample", "precision": "compare"}
    text = h.command_line(values, "1, 2")
    assert text.count("python -m trainer_backend") == 4 and "--seed 2" in text
    assert h.command_line({"learning_rate": 9.0}, "1").startswith("# Not a valid configuration")


def test_settings_save_and_load_round_trip(form, tmp_path):
    f, message = form
    values = {"dataset": "sample", "num_train_epochs": 2, "learning_rate": 4e-5, "precision": "fp32"}
    path, note = h.save_settings(values, "7")
    saved = json.loads(open(path).read())
    assert saved["learning_rate"] == 4e-5 and "output_dir" not in saved and "saved" in note
    updates = h.load_settings(f, path, message)
    assert updates[f.widgets["learning_rate"]] == 4e-5 and updates[f.widgets["num_train_epochs"]] == 2
    assert "loaded" in updates[message]


@pytest.mark.parametrize("content,expected", [('{"no_such": 1}', "Unknown setting(s): no_such"),
                                              ('{"learning_rate": 7}', "learning_rate=7"),
                                              ("[1, 2]", "one JSON object"), ("not json", "not a valid run.json"),
                                              ('{"num_train_epochs": "many"}', "not a valid run.json")])
def test_bad_run_json_is_refused_and_the_form_is_untouched(form, tmp_path, content, expected):
    f, message = form
    bad = tmp_path / "run.json"
    bad.write_text(content)
    updates = h.load_settings(f, str(bad), message)
    assert list(updates) == [message] and md_escape(expected) in updates[message]  # shown escaped, literally


def test_preset_text_says_what_it_means_on_the_data_in_use():
    text = h.preset_on_this_data("Seed recipe")
    # 3 epochs of batch 8: 1,377 steps on MRPC's 3,668 pairs, 150 on the bundled sample's 400
    assert ("3,668 training pairs" in text and "1,377 steps of 8" in text) or \
        ("400 training pairs" in text and "150 steps of 8" in text), text
    assert "3 runs of" in h.preset_on_this_data("Seed spread (3 seeds)")
