"""`accelerate launch --cpu --num_processes 2 -m trainer_backend`: two processes train, only the main one writes."""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import ROOT_DIR
from trainer_backend.runs import RunStore


def _accelerate() -> list[str]:
    exe = Path(sys.executable).with_name("accelerate")
    return [str(exe)] if exe.is_file() else [shutil.which("accelerate") or "accelerate"]


@pytest.mark.slow
def test_two_cpu_processes_write_one_run(tiny_model_dir, tmp_path):
    out, db = tmp_path / "out", tmp_path / "runs.sqlite"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    proc = subprocess.run(
        [*_accelerate(), "launch", "--cpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
         "--dynamo_backend", "no", "-m", "trainer_backend", "--model_name_or_path", str(tiny_model_dir),
         "--dataset", "sample", "--output_dir", str(out), "--db", str(db), "--max_steps", "12", "--eval_steps", "6",
         "--logging_steps", "1", "--learning_rate", "5e-4", "--precision", "fp32", "--max_eval_samples", "40"],
        cwd=ROOT_DIR, capture_output=True, text=True, timeout=420, env=env)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    assert proc.stdout.count("[studio] completed") + proc.stderr.count("[studio] completed") == 2  # both trained

    results = json.loads((out / "all_results.json").read_text())
    assert results["eval_samples"] == 40 and 0.0 <= results["eval_accuracy"] <= 1.0
    assert (out / "studio_run.json").is_file() and (out / "model.safetensors").is_file()

    store = RunStore(db)
    (run,) = store.list()  # one run, not one per process
    assert run.status == "completed" and run.step == 12
    losses = store.metrics(run.id, ["loss"])
    steps = Counter(row["step"] for row in losses)
    assert sorted(steps) == list(range(1, 13)) and set(steps.values()) == {1}  # each log written once
    assert [row["step"] for row in store.metrics(run.id, ["eval_accuracy"])] == [6, 12]
    assert sum(map(sum, run.final_metrics["confusion"])) == 40
