"""Presets expand to the right runs, the ETA uses measured pace when there is one, charts draw the store's rows."""
import pytest

from trainer_backend import presets, recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.notes import Fp16OnCpu
from trainer_backend.runs import summary
from trainer_backend.runs.store import RunStore
from ui import charts
from web import estimate

CPU = settings.Hardware("cpu", "CPU, 2 cores", bf16=False, fp16=False, cores=2)
CPU_BF16 = settings.Hardware("cpu", "CPU, 2 cores", bf16=True, fp16=False, cores=2)
GPU = settings.Hardware("cuda", "H100", bf16=True, fp16=True, cores=16)
OLD_GPU = settings.Hardware("cuda", "T4", bf16=False, fp16=True, cores=4)


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_every_preset_builds_a_valid_config(name):
    p = presets.get(name, CPU)
    assert isinstance(p.config, TrainConfig) and p.description


def test_seed_recipe_is_the_course_defaults():
    c = presets.get(presets.SEED_RECIPE, CPU).config
    assert (c.learning_rate, c.per_device_train_batch_size, c.precision, c.group_by_length) == (5e-5, 8, "fp32", False)
    assert c.num_train_epochs == 3 and c.eval_strategy == "epoch"


def test_best_for_this_hardware_turns_dropout_off_and_trains_2_epochs_only_on_an_fp32_cpu():
    """Issue 20: on a CPU without native bf16 the default recipe is the fp32 one; elsewhere the plain defaults."""
    fp32 = presets.get(presets.BEST, CPU)
    assert (fp32.config.dropout, fp32.config.num_train_epochs) == (0.0, 2)
    assert "dropout off and 2 epochs" in fp32.description
    for hw in (CPU_BF16, GPU, OLD_GPU):
        best = presets.get(presets.BEST, hw)
        assert best.config == TrainConfig() and best.config.dropout is None and "3 epochs" in best.description


def test_seed_spread_and_precision_presets_expand_to_several_runs():
    spread = presets.get(presets.SEED_SPREAD, CPU)
    runs = presets.expand(spread.config, spread.seeds, spread.precisions)
    assert [c.seed for _, c in runs] == [1, 2, 3] and runs[0][0] == "seed 1"
    ab = presets.get(presets.PRECISION_AB, GPU)
    assert [c.precision for _, c in presets.expand(ab.config, ab.seeds, ab.precisions)] == ["fp32", "bf16"]
    assert presets.get(presets.PRECISION_AB, OLD_GPU).precisions == ["fp32", "fp16"]
    assert "slower here" in presets.get(presets.PRECISION_AB, CPU).description


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(KeyError, match="Quick look"):
        presets.get("Turbo")


@pytest.mark.parametrize("hw, expected", [(CPU, "fp32"), (CPU_BF16, "bf16"), (GPU, "bf16"), (OLD_GPU, "fp16")])
def test_auto_precision_follows_the_hardware(hw, expected):
    assert recipe.resolve(TrainConfig(), "bert-base-uncased", hw).precision == expected


def test_fp16_on_cpu_becomes_bf16_with_a_note():
    r = recipe.resolve(TrainConfig(precision="fp16"), "m", CPU)
    assert r.precision == "bf16" and Fp16OnCpu() in r.notes


def test_recipe_batch_and_learning_rate_per_device():
    cpu, gpu = recipe.resolve(TrainConfig(), "all-MiniLM-L6-v2", CPU), recipe.resolve(TrainConfig(), "bert-base", GPU)
    assert (cpu.batch_size, cpu.learning_rate) == (8, 5e-5)
    assert (gpu.batch_size, gpu.learning_rate) == (32, 5e-5)
    assert recipe.resolve(TrainConfig(learning_rate=3e-5), "x", CPU).learning_rate == 3e-5


def test_logging_gives_about_forty_points():
    cfg = TrainConfig()
    assert recipe.logging_steps(cfg, 1377) == 34 and recipe.logging_steps(cfg, 13) == 1
    assert recipe.total_steps(cfg, 3668, 8) == 1377  # the seed recipe's step count


def test_eta_prefers_measured_history(tmp_path, tiny_model_dir):
    store = RunStore(tmp_path / "r.sqlite")
    cfg = TrainConfig(num_train_epochs=1)
    probe = estimate.estimate(cfg, 1000, str(tiny_model_dir), "tiny", store, CPU)
    assert "speed probe" in probe.how and probe.samples == 1000 and probe.seconds > 0
    run_id = store.create({"per_device_train_batch_size": None})
    store.update(run_id, status="completed", model="tiny", device=CPU.describe(), precision="fp32",
                 samples_per_second=50.0)
    measured = estimate.estimate(cfg, 1000, str(tiny_model_dir), "tiny", store, CPU)
    assert "measured: 50.0 samples/s" in measured.how
    assert measured.seconds == pytest.approx(estimate.STARTUP_SECONDS + 1000 / 50.0)
    # a run with dropout off trained at another pace (no masks to draw): it does not speak for one with dropout on
    no_dropout = store.create({"per_device_train_batch_size": None, "dropout": 0.0})
    store.update(no_dropout, status="completed", model="tiny", device=CPU.describe(), precision="fp32",
                 samples_per_second=80.0)
    assert "measured: 50.0 samples/s over 1 past run" in estimate.estimate(cfg, 1000, str(tiny_model_dir), "tiny",
                                                                           store, CPU).how
    off = estimate.estimate(cfg.replace(dropout=0.0), 1000, str(tiny_model_dir), "tiny", store, CPU)
    assert "measured: 80.0 samples/s over 1 past run" in off.how


def test_format_duration():
    assert [estimate.format_duration(s) for s in (5, 75, 3725)] == ["5 s", "1 min 15 s", "1 h 02 min"]


def test_charts_from_store(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    ids = []
    for seed, acc in ((1, 0.8), (2, 0.84)):
        run_id = store.create({"seed": seed}, label=f"seed {seed}")
        for step in range(1, 21):
            store.log_metrics(run_id, step, step / 20, {"loss": 1 / step})
        store.log_metrics(run_id, 10, 0.5, {"eval_loss": 0.5, "eval_accuracy": acc - 0.02, "eval_f1": 0.85})
        store.log_metrics(run_id, 20, 1.0, {"eval_loss": 0.4, "eval_accuracy": acc, "eval_f1": 0.88})
        store.update(run_id, final_metrics={"eval_accuracy": acc, "eval_f1": 0.88})
        ids.append(run_id)
    runs = [store.get(i) for i in ids]
    loss = charts.loss_figure(store, runs, "rev")
    assert len(loss.data) == 4 and len(loss.data[0].x) == 20 and loss.layout.uirevision == "rev"
    spread = charts.spread_figure(store, runs)
    mean_trace = spread.data[1]
    assert list(mean_trace.x) == [10, 20] and mean_trace.y[1] == pytest.approx(0.82)
    table = charts.results_table(store, ids[0])
    assert table == [["0.50", "0.1000", "0.5000", "0.7800", "0.8500"], ["1.00", "0.0500", "0.4000", "0.8000", "0.8800"]]
    mean, std, n = summary.group_summary(runs)["eval_accuracy"]
    assert (round(mean, 4), n) == (0.82, 2) and std == pytest.approx(0.0283, abs=1e-4)
    heat = charts.confusion_figure([[30, 10], [5, 35]])
    assert heat.data[0].z == ((30, 10), (5, 35)) or [list(r) for r in heat.data[0].z] == [[30, 10], [5, 35]]


@pytest.mark.parametrize("preset, measured_wall_s", [(None, 165.0), (presets.SEED_RECIPE, 424.0)])
def test_the_probe_estimate_matches_the_quiet_machine_bench(preset, measured_wall_s, monkeypatch):
    """With the probe and MiniLM's size of that machine, the ETA lands within 10% of the full-MRPC wall times the
    bench measured there (bench/results/train_speed_cpu_full.jsonl: ours 165 s, seed recipe 424 s, 3-seed means)."""
    monkeypatch.setattr(estimate, "probe_gflops", lambda: 209.7)
    monkeypatch.setattr(estimate, "encoder_shape", lambda path, token=None: (10_616_832, 6))
    cfg = presets.get(preset, CPU_BF16).config if preset else TrainConfig()
    eta = estimate.estimate(cfg, 3668, "minilm", "all-MiniLM-L6-v2", None, CPU_BF16)
    assert eta.seconds == pytest.approx(measured_wall_s, rel=0.10)


def test_a_chart_with_one_evaluation_starts_its_step_axis_at_zero(tmp_path):
    """Issue 23.8: one evaluation at step 125 drew an x-axis of 124-126."""
    from tests.browser.seed_runs import write_run
    from trainer_backend.runs.store import RunStore
    from ui import charts

    store = RunStore(tmp_path / "runs.sqlite")
    run = store.get(write_run(store, accuracy_curve=(0.7,), steps=125))
    fig = charts.eval_figure(store, [run])
    low, high = fig.layout.xaxis.range
    assert low == 0 and high >= 125


def test_frozen_layers_shorten_the_probe_estimate(monkeypatch):
    """Forward through all 6 layers, backward through the 2 that learn: (2 + 4·2/6) / 6 of the full cost."""
    monkeypatch.setattr(estimate, "probe_gflops", lambda: 100.0)
    monkeypatch.setattr(estimate, "encoder_shape", lambda path, token=None: (10_616_832, 6))
    full = estimate.estimate(TrainConfig(max_steps=100), 400, "m", "m", None, CPU_BF16)
    top2 = estimate.estimate(TrainConfig(max_steps=100, frozen_layers=4), 400, "m", "m", None, CPU_BF16)
    startup = estimate.STARTUP_SECONDS
    assert (top2.seconds - startup) / (full.seconds - startup) == pytest.approx((2 + 4 * 2 / 6) / 6)


def test_the_train_bench_reads_a_variant_of_ours_as_the_cli_reads_its_flags():
    from bench.train_speed import parse_changes

    assert parse_changes(["warmup_ratio=0.1", "dropout=0", "group_by_length=false"]) == {
        "warmup_ratio": 0.1, "dropout": 0.0, "group_by_length": False}
    for bad in (["warmup_ratio=2"], ["nonsense=1"], ["save_strategy=no"], ["dropout"]):
        with pytest.raises(SystemExit):
            parse_changes(bad)
