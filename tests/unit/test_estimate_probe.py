"""The ETA's speed probe: the best of three short windows, taken when the app is built (before any page's handlers
load the machine), so the first ETA a learner reads is not measured under the app's own start."""
from __future__ import annotations

from web import estimate


def test_the_probe_is_taken_when_the_app_is_built_not_at_the_first_page(tmp_path, monkeypatch):
    import app as app_module
    from trainer_backend import settings

    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    settings.hardware.cache_clear()
    estimate.probe_gflops.cache_clear()
    app_module.build_app()  # built, not launched: no runner loop, no server
    assert estimate.probe_gflops.cache_info().currsize == 1  # measured before serving
    assert estimate.probe_gflops() > 1  # GFLOP/s of this machine: any real CPU does far more than one
