"""The whole-loop script runs end to end on the tiny model and the bundled sample."""
from __future__ import annotations

import inspect

from lesson import whole_loop


def test_whole_loop_runs(tiny_model_dir, tmp_path):
    metrics = whole_loop.run(str(tiny_model_dir), "sample", str(tmp_path / "out"), max_steps=2, batch_size=8,
                             max_train=32, max_eval=16)
    assert set(metrics) == {"accuracy", "f1"}
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert (tmp_path / "out").is_dir()


def test_whole_loop_is_about_25_lines():
    body = [line for line in inspect.getsource(whole_loop.run).splitlines()
            if line.strip() and not line.strip().startswith(("from ", "import ", '"""', "#"))]
    assert len(body) <= 30


def test_cli_flags_reach_run(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(whole_loop, "run", lambda *a: seen.setdefault("args", a) and {"accuracy": 1.0, "f1": 1.0})
    assert whole_loop.main(["--model", "m", "--data", "sample", "--max-steps", "3", "--max-train", "10"]) == 0
    assert seen["args"][:2] == ("m", "sample") and seen["args"][4] == 3 and seen["args"][6] == 10
    assert '"accuracy": 1.0' in capsys.readouterr().out
