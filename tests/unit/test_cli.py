"""Headless CLI smoke tests on a tiny 2-layer BERT and the bundled sample."""
import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT_DIR
from trainer_backend.runs import RunStore


def _cli(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "trainer_backend", *args], cwd=ROOT_DIR, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_cli_trains_and_writes_results_and_metric_rows(tiny_model_dir, tmp_path):
    out, db = tmp_path / "out", tmp_path / "runs.sqlite"
    proc = _cli("--model_name_or_path", str(tiny_model_dir), "--dataset", "sample", "--output_dir", str(out),
                "--max_steps", "24", "--eval_steps", "8", "--learning_rate", "5e-4", "--db", str(db),
                "--adam_beta2", "0.99")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((out / "all_results.json").read_text())
    for key in ("eval_accuracy", "eval_f1", "train_runtime", "train_samples_per_second"):
        assert key in results
    assert 0.0 <= results["eval_accuracy"] <= 1.0
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "not_paraphrase", "1": "paraphrase"}
    card = json.loads((out / "studio_run.json").read_text())
    assert card["head_swap"]["new"] == ["classifier.bias", "classifier.weight"]
    store = RunStore(db)
    (run,) = store.list()
    assert run.status == "completed" and run.step == 24
    assert len(store.metrics(run.id, ["loss"])) >= 20
    assert len(store.metrics(run.id, ["eval_accuracy"])) == 3
    assert run.final_metrics["confusion"] and sum(map(sum, run.final_metrics["confusion"])) == 80


@pytest.mark.slow
def test_cli_json_config(tiny_model_dir, tmp_path):
    cfg = {"model_name_or_path": str(tiny_model_dir), "dataset": "sample", "output_dir": str(tmp_path / "o"),
           "max_steps": 3, "eval_strategy": "no", "max_eval_samples": 8}
    (tmp_path / "run.json").write_text(json.dumps(cfg))
    proc = _cli(str(tmp_path / "run.json"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "o" / "all_results.json").read_text())["eval_samples"] == 8


def test_cli_bad_value_is_a_clear_error(tmp_path):
    proc = _cli("--dataset", "sample", "--learning_rate", "3", "--output_dir", str(tmp_path))
    assert proc.returncode == 2
    assert "learning_rate=3.0 must be above 0" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_missing_model_offline_is_explained(tmp_path):
    proc = _cli("--model_name_or_path", "nobody/no-such-model", "--dataset", "sample", "--output_dir", str(tmp_path))
    assert proc.returncode == 2
    assert "not in the local cache" in proc.stderr and "HF_HUB_OFFLINE" in proc.stderr


def test_cli_bad_data_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    proc = _cli("--dataset", str(bad), "--output_dir", str(tmp_path / "o"))
    assert proc.returncode == 2 and "missing column(s)" in proc.stderr


@pytest.mark.slow
def test_cli_push_offline_keeps_the_model_and_explains(tiny_model_dir, tmp_path):
    proc = _cli("--model_name_or_path", str(tiny_model_dir), "--dataset", "sample", "--output_dir",
                str(tmp_path / "o"), "--max_steps", "2", "--eval_strategy", "no", "--max_eval_samples", "8",
                "--push_to_hub", "true")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "push skipped" in proc.stdout and "HF_HUB_OFFLINE" in proc.stdout
    assert (tmp_path / "o" / "model.safetensors").is_file()
