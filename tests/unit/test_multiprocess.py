"""`accelerate launch … -m trainer_backend` with two processes: both train, only the main one writes.

accelerate 1.15 starts `--cpu --num_processes 2` as ONE process unless an MPI hostfile is given (its simple
launcher); two real CPU processes come from `--multi_gpu --num_processes 2`, which uses torch.distributed.run and, with
no GPU, the gloo backend. Both forms are run here on the tiny 2-layer model."""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import ROOT_DIR
from trainer_backend.runs.store import RunStore


def _accelerate() -> list[str]:
    exe = Path(sys.executable).with_name("accelerate")
    return [str(exe)] if exe.is_file() else [shutil.which("accelerate") or "accelerate"]


def _launch(mode: list[str], model: Path, data: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*_accelerate(), "launch", *mode, "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
         "--dynamo_backend", "no", "-m", "trainer_backend", "--model_name_or_path", str(model),
         "--dataset", str(data), "--output_dir", str(tmp_path / "out"), "--db", str(tmp_path / "runs.sqlite"),
         "--max_steps", "24", "--eval_steps", "12", "--logging_steps", "1", "--learning_rate", "3e-3", "--head_lr_factor", "1",
         "--precision", "fp32", "--max_eval_samples", "40", "--disable_tqdm", "true"],
        cwd=ROOT_DIR, capture_output=True, text=True, timeout=420, env=env)


def _assert_one_run_written_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = json.loads((out / "all_results.json").read_text())
    assert results["eval_samples"] == 40 and results["eval_accuracy"] >= 0.9  # one word carries the label
    assert (out / "studio_run.json").is_file() and (out / "model.safetensors").is_file()
    assert not list(out.glob("checkpoint-*"))  # dropped at completion
    store = RunStore(tmp_path / "runs.sqlite")
    (run,) = store.list()  # one run, not one per process
    assert run.status == "completed" and run.step == 24
    losses = store.metrics(run.id, ["loss"])
    steps = Counter(row["step"] for row in losses)
    assert sorted(steps) == list(range(1, 25)) and set(steps.values()) == {1}  # each log written once
    assert 0.5 < losses[0]["value"] < 0.9  # a 2-way mean loss starts near ln 2: not summed over the processes
    assert losses[-1]["value"] < losses[0]["value"] - 0.2  # and it falls as the run learns
    assert [row["step"] for row in store.metrics(run.id, ["eval_accuracy"])] == [12, 24]
    assert sum(map(sum, run.final_metrics["confusion"])) == 40
    from trainer_backend.runs import predictions  # each validation pair's answer, kept once, in the split's order

    rows = predictions.load(store, run.id)
    assert [p.index for p in rows] == list(range(40))
    matrix = [[0, 0], [0, 0]]
    for p in rows:
        matrix[p.label][p.predicted] += 1
    assert matrix == run.final_metrics["confusion"]


@pytest.mark.slow
def test_two_cpu_processes_train_and_only_the_main_one_writes(tiny_model_dir, learnable_csv, tmp_path):
    proc = _launch(["--multi_gpu"], tiny_model_dir, learnable_csv, tmp_path)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    assert (proc.stdout + proc.stderr).count("[studio] completed") == 2  # both processes trained
    _assert_one_run_written_once(tmp_path)


@pytest.mark.slow
def test_accelerate_launch_cpu_flag_works(tiny_model_dir, learnable_csv, tmp_path):
    proc = _launch(["--cpu"], tiny_model_dir, learnable_csv, tmp_path)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    _assert_one_run_written_once(tmp_path)
