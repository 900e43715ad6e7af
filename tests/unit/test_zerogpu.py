"""The ZeroGPU backend (runs/zerogpu.py), run here for real on the CPU with the tiny 2-layer BERT.

Off ZeroGPU the pinned `spaces` package's `@spaces.GPU` returns the function itself (checked first), so these runs go
through the backend's whole path (the plan and its duration, the call thread, run_training in this process, the
Reporter, the store, the callbacks' Stop, the not-started ending) and stop short only of ZeroGPU's scheduler and its
forked worker, which exist only on a ZeroGPU Space (README: Space hardware says how an owner checks those).
Every test that starts a run ends it: it waits for the run to end, and the fixture stops and joins any call left."""
from __future__ import annotations

import os
import threading

import pytest
import spaces

from tests.helpers import wait_run
from trainer_backend import recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.runs import zerogpu
from trainer_backend.runs.jobs import REFUSED, JobRunner, Outcome
from trainer_backend.runs.store import ACTIVE, FINISHED, NOT_STARTED, RunStore, last_checkpoint
from trainer_backend.runs.zerogpu import GpuCalls, GpuTimeTooShort
from web import estimate

pytestmark = pytest.mark.slow
ENDED = lambda r: r.status not in ("queued", *ACTIVE)  # noqa: E731 - a predicate for wait_run


def _cfg(model, **kw) -> TrainConfig:
    base = dict(model_name_or_path=str(model), dataset="sample", max_eval_samples=16, eval_strategy="steps",
                eval_steps=5, per_device_train_batch_size=8, learning_rate=5e-4, head_lr_factor=1, seed=7)
    return TrainConfig(**{**base, **kw})


class RecordingGPU:
    """spaces.GPU as the backend receives it, also noting the duration its callable gives for each call."""

    def __init__(self) -> None:
        self.durations: list[int] = []
        self.threads: list[str] = []

    def __call__(self, duration):
        def wrap(fn):
            def noted(*args, **kwargs):
                self.durations.append(duration(*args, **kwargs))
                self.threads.append(threading.current_thread().name)
                return fn(*args, **kwargs)
            return spaces.GPU(duration=duration)(noted)
        return wrap


class QuotaOnce:
    """A stand-in for ZeroGPU's scheduler refusing the first call as `spaces` does (the same gradio.Error, built by
    spaces' own helper, with its title and message); later calls pass."""

    MESSAGE = "You have exceeded your free ZeroGPU quota (81s requested vs. 12s left). Try again in 1:02:03."

    def __init__(self) -> None:
        self.refused = 0

    def __call__(self, duration):
        from spaces.zero.gradio import error

        def wrap(fn):
            def scheduled(*args, **kwargs):
                if self.refused == 0:
                    self.refused += 1
                    raise error("ZeroGPU quota exceeded", self.MESSAGE)
                return fn(*args, **kwargs)
            return scheduled
        return wrap


@pytest.fixture
def runners():
    """Builds runners; at the end stops whatever is still running and joins every call thread."""
    made: list[JobRunner] = []

    def make(path, gpu=None, enter=None) -> JobRunner:
        runner = JobRunner(RunStore(path), gpu_calls=GpuCalls(decorate=gpu or spaces.GPU, enter=enter))
        made.append(runner)
        return runner

    yield make
    for runner in made:
        for run in runner.store.list(ACTIVE):
            runner.stop(run.id)
        for thread in list(runner._threads.values()):
            thread.join(120)
        assert not any(t.is_alive() for t in runner._threads.values())


def test_the_pinned_spaces_decorator_is_the_function_itself_off_zerogpu():
    def task(x):
        return x

    assert spaces.GPU(duration=lambda x: 5)(task) is task
    assert spaces.GPU(task) is task


@pytest.mark.parametrize("value", ["1", "t", "true", "True", "TRUE", "0", "false", "yes", ""])
def test_zerogpu_is_detected_as_spaces_detects_it(value, monkeypatch):
    from spaces.config import boolean

    monkeypatch.setenv("SPACES_ZERO_GPU", value)
    assert settings.on_zero_gpu() is boolean(value)


def test_on_zerogpu_the_default_recipe_is_the_gpu_one_and_the_estimate_never_probes_cuda(tiny_model_dir,
                                                                                            monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    settings.hardware.cache_clear()
    try:
        hw = settings.hardware()
        assert (hw.device, hw.bf16) == ("cuda", True) and "H200" in hw.name
        assert recipe.default_batch_size(hw) == 32 and settings.auto_precision(hw) == "bf16"
        assert settings.serving_hardware().device == "cpu"  # Predict: no CUDA in the app process there

        def no_probe():
            raise AssertionError("the app process must not run CUDA on ZeroGPU")

        monkeypatch.setattr(estimate, "probe_gflops", no_probe)
        est = estimate.estimate(TrainConfig(model_name_or_path=str(tiny_model_dir)), 3668, str(tiny_model_dir),
                                "tiny", hw=hw)
        assert "ZeroGPU" in est.how and est.samples == 3 * 3668
    finally:
        settings.hardware.cache_clear()


def test_a_run_trains_in_a_gpu_call_with_live_points_and_completes(tiny_model_dir, tmp_path, runners):
    gpu = RecordingGPU()
    runner = runners(tmp_path / "r.sqlite", gpu)
    run_id, position = runner.submit(_cfg(tiny_model_dir, max_steps=40))
    assert position == 0
    live = wait_run(runner, run_id, lambda r: ENDED(r) or (r.status == "running" and r.step >= 6), pause=0.1)
    assert live.status == "running" or live.status == "completed", live.error
    if live.status == "running":  # the charts' rows arrive while it trains
        assert runner.store.metric_count(run_id) > 0
        assert live.pid is None  # no process of its own: the watchdog must never signal this one
    done = wait_run(runner, run_id, ENDED)
    assert done.status == "completed", done.error
    assert done.step == 40 and done.final_metrics.get("eval_accuracy") is not None
    planned = done.info["gpu_seconds"]
    assert gpu.durations == [planned] and planned <= zerogpu.max_request()
    assert gpu.threads == [f"gpu-call-{run_id}"]  # a thread of this process, started by the job runner


def test_stop_reaches_the_call_at_a_step_keeps_a_checkpoint_and_resume_finishes(tiny_model_dir, tmp_path, runners):
    runner = runners(tmp_path / "r.sqlite")
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=150, eval_steps=1000))
    wait_run(runner, run_id, lambda r: ENDED(r) or (r.status == "running" and r.step >= 3), pause=0.1)
    assert runner.stop(run_id).outcome is Outcome.STOPPING_GPU_CALL  # a call reads Stop at its next step
    stopped = wait_run(runner, run_id, ENDED, tick=True)
    assert stopped.status == "stopped", stopped.error
    assert 3 <= stopped.step < 150
    ckpt = last_checkpoint(stopped.output_dir)
    assert ckpt is not None and int(ckpt.name.split("-")[1]) == stopped.step
    assert runner.resume(run_id).outcome is Outcome.RESUMING
    done = wait_run(runner, run_id, lambda r: r.resume and ENDED(r))
    assert done.status == "completed" and done.step == 150, done.error


def test_a_run_longer_than_one_call_is_refused_before_it_is_queued(tiny_model_dir, tmp_path, runners, monkeypatch):
    monkeypatch.setenv("STUDIO_ZEROGPU_MAX_SECONDS", "25")  # below the headroom alone: nothing fits
    runner = runners(tmp_path / "r.sqlite")
    with pytest.raises(GpuTimeTooShort) as refused:
        runner.submit(_cfg(tiny_model_dir, max_steps=40))
    assert isinstance(refused.value, REFUSED)  # the Train tab shows it as one line, like every refusal
    text = str(refused.value)
    assert text.startswith("This run needs about ") and "ZeroGPU allows 25 s per call: lower the epochs or the " \
                                                         "data." in text
    assert runner.store.list() == []


def test_a_quota_refusal_ends_the_run_as_not_started_in_plain_words_and_loses_nothing(tiny_model_dir, tmp_path,
                                                                                      runners):
    quota = QuotaOnce()
    runner = runners(tmp_path / "r.sqlite", quota)
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=12), owner="anon:a")
    refused = wait_run(runner, run_id, ENDED)
    assert refused.status == NOT_STARTED and NOT_STARTED in FINISHED
    assert refused.error == ("Not started: ZeroGPU gave no GPU (ZeroGPU quota exceeded: You have exceeded your "
                             "free ZeroGPU quota (81s requested vs. 12s left). Try again in 1:02:03). Nothing was "
                             "trained or lost; start it again later. A Hugging Face login gives a larger daily quota.")
    assert len(refused.error) <= 300  # the progress line shows its owner the first 300 characters
    assert runner.store.metric_count(run_id) == 0 and refused.started is None
    assert runner.store.count_open("anon:a") == 0  # it holds no place in the queue or the visitor's quota
    again, _ = runner.submit(_cfg(tiny_model_dir, max_steps=12), owner="anon:a")  # the quota is back
    assert wait_run(runner, again, ENDED).status == "completed"


def test_a_call_that_ends_mid_run_is_interrupted_and_resumable(tiny_model_dir, tmp_path, runners):
    """ZeroGPU ends a call past its duration ('GPU task aborted'): the run keeps its checkpoint."""
    from spaces.zero.gradio import error

    def aborting(duration):
        def wrap(fn):
            def call(config_path, run_id, db, resume, limit, seconds):
                fn(config_path, run_id, db, resume, limit, seconds)
                store = RunStore(db)  # as if the worker died after its checkpoint, before the end
                store.update(run_id, status="running")
                raise error("ZeroGPU worker error", "GPU task aborted")
            return call
        return wrap

    runner = runners(tmp_path / "r.sqlite", aborting)
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=10, eval_steps=5))
    run = wait_run(runner, run_id, ENDED)
    assert run.status == "interrupted" and "GPU task aborted" in run.error and "Resume" in run.error


def _charts(store: RunStore, run_id: str):
    from ui import charts

    run = store.get(run_id)
    figures = (charts.loss_figure(store, [run]), charts.eval_figure(store, [run]))
    return [(t.name.split(" · ")[-1], list(t.x), [round(v, 3) for v in t.y]) for f in figures for t in f.data]


def test_the_store_rows_and_charts_match_the_child_process_backend(tiny_model_dir, tmp_path, runners):
    cfg = _cfg(tiny_model_dir, max_steps=20, eval_steps=5, logging_steps=5)
    in_call = runners(tmp_path / "call.sqlite")
    child = JobRunner(RunStore(tmp_path / "child.sqlite"))
    a, _ = in_call.submit(cfg, label="same")
    done_a = wait_run(in_call, a, ENDED)
    b, _ = child.submit(cfg, label="same")
    done_b = wait_run(child, b, ENDED)
    assert done_a.status == done_b.status == "completed", (done_a.error, done_b.error)
    for field in ("label", "status", "step", "max_steps", "model", "data", "precision", "device", "error"):
        assert getattr(done_a, field) == getattr(done_b, field), field
    assert set(done_a.info) - {"gpu_seconds"} == set(done_b.info) - {"log_tail"}
    assert done_a.record.model_dump(exclude={"files", "metrics", "loss_curve", "created"}) == \
        done_b.record.model_dump(exclude={"files", "metrics", "loss_curve", "created"})
    rows_a = [(m["step"], m["name"]) for m in in_call.store.metrics(a)]
    rows_b = [(m["step"], m["name"]) for m in child.store.metrics(b)]
    assert rows_a == rows_b and rows_a
    chart_a, chart_b = _charts(in_call.store, a), _charts(child.store, b)
    assert [(n, x) for n, x, _ in chart_a] == [(n, x) for n, x, _ in chart_b]
    for (_, _, ya), (_, _, yb) in zip(chart_a, chart_b):
        assert ya == pytest.approx(yb, abs=0.02)  # same seed, same numbers (thread counts may differ slightly)
    assert os.path.isfile(os.path.join(done_a.output_dir, "studio_run.json"))


def test_the_call_is_made_in_the_request_of_the_visitor_who_pressed_start(tiny_model_dir, tmp_path, runners):
    """ZeroGPU charges the quota of the request it finds in Gradio's context (spaces.utils.gradio_request_var):
    app.py's `in_request` puts the Start click's request there, in the call's own thread."""
    from gradio.context import LocalContext
    from spaces.utils import gradio_request_var
    from spaces.zero.gradio import error

    import app

    assert gradio_request_var() is LocalContext.request
    seen = []

    def gpu(duration):
        def wrap(fn):
            def call(*args, **kwargs):
                seen.append(LocalContext.request.get(None))
                raise error("ZeroGPU quota exceeded", "You have exceeded your ZeroGPU runs limit.")
            return call
        return wrap

    runner = runners(tmp_path / "r.sqlite", gpu, enter=app.in_request)
    visitor_request = object()
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=4), caller=visitor_request)
    assert wait_run(runner, run_id, ENDED).status == NOT_STARTED
    assert seen == [visitor_request]
    assert app.job_runner().gpu_calls is None  # off ZeroGPU the app keeps its child processes


def test_the_time_limit_stops_a_call_at_a_step_with_a_checkpoint(tiny_model_dir, tmp_path, runners, monkeypatch):
    """The app's per-run limit holds on this backend too (the watchdog's tick runs; nothing is signalled)."""
    monkeypatch.setenv("STUDIO_RUN_SECONDS", "4")
    # the request is sized from this machine's speed probe, which a loaded machine measures low enough to refuse
    # 5,000 steps as longer than one call; the refusal is another test's subject
    monkeypatch.setenv("STUDIO_ZEROGPU_MAX_SECONDS", "100000")
    runner = runners(tmp_path / "r.sqlite")
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=5000, eval_steps=1000))
    run = wait_run(runner, run_id, ENDED, tick=True)
    assert run.status == "stopped" and "time limit" in run.error, run.error
    assert 0 < run.step < 5000 and last_checkpoint(run.output_dir) is not None
    assert run.pid is None
