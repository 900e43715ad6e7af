"""The whole-loop script runs end to end on the tiny model and the bundled sample."""
from __future__ import annotations

import inspect

from lesson import whole_loop


def test_whole_loop_learns(tiny_model_dir, learnable_csv, tmp_path):
    metrics = whole_loop.run(str(tiny_model_dir), str(learnable_csv), str(tmp_path / "out"), max_steps=24,
                             batch_size=8, learning_rate=3e-3)
    assert set(metrics) == {"accuracy", "f1"}
    assert metrics["accuracy"] >= 0.9 and metrics["f1"] >= 0.9  # one word carries the label
    assert (tmp_path / "out").is_dir()


def test_the_section_title_counts_the_lines_it_shows():
    """Issue 23.8: the title said "about 25 lines" above 33."""
    from lesson import sections

    shown = inspect.getsource(whole_loop.run).rstrip().splitlines()
    assert sections.get("whole").title == f"The whole loop in {len(shown)} lines"


def test_whole_loop_stays_short():
    body = [line for line in inspect.getsource(whole_loop.run).splitlines()
            if line.strip() and not line.strip().startswith(("from ", "import ", '"""', "#"))]
    assert len(body) <= 30


def test_cli_flags_reach_run(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(whole_loop, "run", lambda *a: seen.setdefault("args", a) and {"accuracy": 1.0, "f1": 1.0})
    assert whole_loop.main(["--model", "m", "--data", "sample", "--max-steps", "3", "--max-train", "10"]) == 0
    assert seen["args"][:2] == ("m", "sample") and seen["args"][4] == 3 and seen["args"][6] == 10
    assert '"accuracy": 1.0' in capsys.readouterr().out
