"""A preset's text on this machine is computed, never typed: no durations, and the batch it names is the one the
run will use (issue 23.2: Quick look's text promised 'about a minute and a half' under an ETA of 44 min, and Best
for this hardware said batch 16 on a CPU that resolved 8)."""
from __future__ import annotations

import re

import pytest

from trainer_backend import presets, recipe
from trainer_backend.modeling import resolve_model
from ui import train_handlers as h


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_preset_text_names_no_duration_and_the_batch_this_machine_uses(name):
    p = presets.get(name)
    assert not re.search(r"\bminutes?\b|\bseconds?\b|\bhours?\b|\d+ on (CPU|GPU)", p.description), p.description
    on_data = h.preset_on_this_data(name)
    _, model_name, _ = resolve_model(p.config.model_name_or_path)
    batch = recipe.resolve(p.config, model_name).batch_size
    assert f"steps of {batch} pairs" in on_data, on_data
