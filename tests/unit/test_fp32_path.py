"""STUDIO_CPU_BF16=off: the whole app takes the fp32-only path a CPU without native bf16 takes (benches' --no-bf16)."""
from __future__ import annotations

import pytest

from trainer_backend import recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.notes import PrecisionChosen
from wording.run_notes import note_text


@pytest.fixture
def fresh_hardware():
    settings.hardware.cache_clear()
    yield
    settings.hardware.cache_clear()


def test_off_hides_native_bf16_everywhere(monkeypatch, fresh_hardware):
    monkeypatch.setenv("STUDIO_FORCE_CPU", "1")
    monkeypatch.setenv("STUDIO_CPU_BF16", "auto")
    detected = bool({"avx512_bf16", "amx_bf16"} & settings.cpu_flags())
    assert settings.cpu_has_fast_bf16() is detected and settings.hardware().bf16 is detected

    monkeypatch.setenv("STUDIO_CPU_BF16", "off")
    settings.hardware.cache_clear()
    hw = settings.hardware()
    assert settings.cpu_has_fast_bf16() is False and hw.bf16 is False
    assert settings.auto_precision(hw) == "fp32"
    resolved = recipe.resolve(TrainConfig(), "m", hw)
    assert resolved.precision == "fp32"
    assert PrecisionChosen(precision="fp32", gpu=False) in resolved.notes
    assert any(note_text(note).startswith("fp32: this CPU has no fast bf16") for note in resolved.notes)
