"""Headless CLI smoke tests on a tiny 2-layer BERT and the bundled sample."""
import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT_DIR
from trainer_backend.runs.store import RunStore


def _cli(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "trainer_backend", *args], cwd=ROOT_DIR, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_cli_trains_and_writes_results_and_metric_rows(tiny_model_dir, learnable_csv, tmp_path):
    out, db = tmp_path / "out", tmp_path / "runs.sqlite"
    proc = _cli("--model_name_or_path", str(tiny_model_dir), "--dataset", str(learnable_csv), "--output_dir", str(out),
                "--max_steps", "24", "--eval_steps", "8", "--learning_rate", "3e-3", "--head_lr_factor", "1", "--db", str(db),
                "--adam_beta2", "0.99")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((out / "all_results.json").read_text())
    for key in ("eval_accuracy", "eval_f1", "train_runtime", "train_samples_per_second"):
        assert key in results
    assert results["eval_accuracy"] >= 0.9  # one word carries the label: a broken head, collator or metric stays at 0.5
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "not_paraphrase", "1": "paraphrase"}
    card = json.loads((out / "studio_run.json").read_text())
    assert card["head_swap"]["new"] == ["classifier.bias", "classifier.weight"]
    assert card["metrics"]["eval_accuracy"] == results["eval_accuracy"] and card["hyperparameters"]["max_steps"] == 24
    assert "model.safetensors" in card["files"] and not any(f.startswith("checkpoint-") for f in card["files"])
    store = RunStore(db)
    (run,) = store.list()
    assert run.status == "completed" and run.step == 24
    assert len(store.metrics(run.id, ["loss"])) >= 20
    assert len(store.metrics(run.id, ["eval_accuracy"])) == 3
    assert sum(map(sum, run.final_metrics["confusion"])) == 40
    assert run.record.metrics["eval_accuracy"] == results["eval_accuracy"] and run.record.n_validation == 40
    losses = [row["value"] for row in store.metrics(run.id, ["loss"])]
    assert losses[-1] < losses[0] - 0.2  # the loss falls


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


def _tab_runs(preset_name: str, data: str = "sample") -> list:
    """What the Train tab queues for a preset: the form filled from the preset, read back, expanded by seed/precision."""
    from trainer_backend import presets
    from ui import train_handlers as h

    if hasattr(h, "preset_values"):  # the form built from TrainConfig's fields (ui/train_form.py)
        from ui import train_form

        _, values, seeds = h.preset_values(preset_name)
        shown = {f.name for f in train_form.form_fields()}
        form = {k: train_form.widget_value(k, v) for k, v in values.items() if k in shown}
        form["dataset"] = data
        cfg, compare = train_form.to_config(form)
    else:  # the older one-widget-per-argument form
        (_, epochs, max_steps, lr, batch, grad_acc, scheduler, warmup, weight_decay, eval_strategy, eval_steps,
         logging_steps, seeds, precision, group, freeze, max_length, max_train, max_eval) = h.apply_preset(preset_name)
        cfg = h._config("auto", data, "sentence1", "sentence2", "label", epochs=epochs, max_steps=max_steps, lr=lr,
                        batch=batch, grad_acc=grad_acc, scheduler=scheduler, warmup=warmup, weight_decay=weight_decay,
                        eval_strategy=eval_strategy, eval_steps=eval_steps, logging_steps=logging_steps,
                        precision=precision, group=group, freeze=freeze, max_length=max_length, max_train=max_train,
                        max_eval=max_eval)
        compare = precision == "compare"
    return presets.runs(cfg, presets.parse_seeds(seeds), compare)  # what the tab queues


@pytest.mark.parametrize("name", ["Quick look", "Seed recipe", "Best for this hardware", "Seed spread (3 seeds)",
                                  "Precision on vs off"])
def test_cli_preset_runs_exactly_what_the_train_tab_runs(name, tmp_path):
    from trainer_backend.__main__ import parse, preset_runs

    argv = ["--preset", name, "--dataset", "sample", "--output_dir", str(tmp_path)]
    cfg, run_args, overrides = parse(argv)
    cli = preset_runs(run_args.preset, cfg, argv)
    tab = _tab_runs(name)
    assert [s for s, _ in cli] == [s for s, _ in tab] and overrides == {}
    for (_, a), (_, b) in zip(cli, tab):
        assert a.replace(output_dir="x") == b.replace(output_dir="x")
    dirs = {c.output_dir for _, c in cli}
    assert len(dirs) == len(cli) and all(d.startswith(str(tmp_path)) for d in dirs)


def test_cli_flags_override_the_preset(tmp_path):
    from trainer_backend.__main__ import parse, preset_runs

    argv = ["--preset", "Seed spread (3 seeds)", "--dataset", "sample", "--output_dir", str(tmp_path),
            "--seed", "7", "--max_steps", "5", "--learning_rate", "1e-4"]
    cfg, run_args, _ = parse(argv)
    ((suffix, only),) = preset_runs(run_args.preset, cfg, argv)
    assert (only.seed, only.max_steps, only.learning_rate, only.output_dir) == (7, 5, 1e-4, str(tmp_path))
    assert only.per_device_train_batch_size == 8 and only.max_train_samples == 4000  # the rest is the preset's


def test_cli_unknown_preset_is_a_clear_error(tmp_path):
    proc = _cli("--preset", "Turbo", "--dataset", "sample", "--output_dir", str(tmp_path))
    assert proc.returncode == 2 and "Quick look" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_preset_trains_with_the_preset_settings(tiny_model_dir, tmp_path):
    out, db = tmp_path / "out", tmp_path / "runs.sqlite"
    proc = _cli("--preset", "Quick look", "--model_name_or_path", str(tiny_model_dir), "--dataset", "sample",
                "--output_dir", str(out), "--max_steps", "6", "--db", str(db))
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = json.loads((out / "studio_run.json").read_text())
    assert card["hyperparameters"]["batch_size"] == 8 and card["hyperparameters"]["max_steps"] == 6
    (run,) = RunStore(db).list()
    assert run.label == "Quick look" and run.status == "completed"


@pytest.mark.slow
def test_best_preset_on_an_fp32_cpu_trains_without_dropout_and_says_why(tiny_model_dir, tmp_path):
    """Issue 20: the fp32 recipe's dropout 0 reaches the model, its record and its saved config, with its note."""
    import os

    out = tmp_path / "out"
    proc = _cli("--preset", "Best for this hardware", "--model_name_or_path", str(tiny_model_dir), "--dataset",
                "sample", "--output_dir", str(out), "--max_steps", "4", "--eval_strategy", "no",
                env={**os.environ, "STUDIO_CPU_BF16": "off", "STUDIO_FORCE_CPU": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "dropout off while training (the checkpoint's own: 0.1)" in proc.stdout
    card = json.loads((out / "studio_run.json").read_text())
    assert card["hyperparameters"]["dropout"] == 0.0 and card["hyperparameters"]["epochs"] == 2
    assert {"kind": "dropout", "p": 0.0, "was": 0.1} in card["notes"]
    assert json.loads((out / "config.json").read_text())["hidden_dropout_prob"] == 0.0


@pytest.mark.slow
def test_cli_single_sentences_of_three_classes_from_a_csv(tiny_model_dir, tmp_path):
    from tests.helpers import write_learnable_classes

    path = write_learnable_classes(tmp_path / "three.csv", ("red", "green", "blue"))
    out = tmp_path / "out"
    proc = _cli("--model_name_or_path", str(tiny_model_dir), "--dataset", str(path), "--text_column", "text",
                "--label_column", "category", "--output_dir", str(out), "--max_steps", "30", "--eval_steps", "10",
                "--learning_rate", "3e-3", "--head_lr_factor", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((out / "all_results.json").read_text())
    assert results["eval_accuracy"] >= 0.9  # a third is the floor of three balanced classes
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "blue", "1": "green", "2": "red"} and config["studio_text_columns"] == ["text"]
    assert len(json.loads((out / "studio_run.json").read_text())["confusion"]) == 3


def test_cli_glue_task_offline_names_the_bundled_stand_in(tmp_path):
    proc = _cli("--dataset", "glue/sst2", "--output_dir", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "HF_HUB_OFFLINE" in proc.stderr and "sample-sentiment" in proc.stderr
