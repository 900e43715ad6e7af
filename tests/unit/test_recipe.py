"""The default recipe: the new head learns at head_lr_factor x the encoder rate, typed or left empty; the seed
recipe (factor 1) stays plain."""
import pytest

from trainer_backend import presets, recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.notes import CheckpointsPerEpoch, LearningRates, PrecisionChosen
from trainer_backend.training.train import build_training_args, optimizer_with_head_lr
from wording.run_notes import precision_why

CPU_BF16 = settings.Hardware("cpu", "CPU, 2 cores", bf16=True, fp16=False, cores=2)
GPU = settings.Hardware("cuda", "H100", bf16=True, fp16=True, cores=16)


@pytest.mark.parametrize("hw", [CPU_BF16, GPU])
def test_auto_learning_rate_gives_the_head_twenty_times_the_encoder_rate(hw):
    r = recipe.resolve(TrainConfig(), "m", hw)
    assert r.learning_rate == 5e-5 and r.head_learning_rate == pytest.approx(1e-3)
    assert LearningRates(encoder=5e-5, head=r.head_learning_rate, factor=20) in r.notes


def test_the_head_factor_applies_to_a_typed_learning_rate_too():
    r = recipe.resolve(TrainConfig(learning_rate=3e-5), "m", CPU_BF16)
    assert r.learning_rate == 3e-5 and r.head_learning_rate == pytest.approx(6e-4)
    assert recipe.resolve(TrainConfig(learning_rate=3e-5, head_lr_factor=1), "m", CPU_BF16).head_learning_rate is None
    seed = presets.get(presets.SEED_RECIPE, CPU_BF16).config
    r = recipe.resolve(seed, "m", CPU_BF16)
    assert (r.learning_rate, r.head_learning_rate, r.batch_size, r.precision) == (5e-5, None, 8, "fp32")
    assert recipe.applied_learning_rates(seed) == (5e-5, 5e-5)
    assert recipe.applied_learning_rates(TrainConfig()) == pytest.approx((5e-5, 1e-3))


def _arguments_and_groups(cfg, model):
    resolved = recipe.resolve(cfg, "tiny", CPU_BF16)
    args = build_training_args(cfg, resolved, 400, CPU_BF16, quiet=True)
    _, kwargs = optimizer_with_head_lr(model, args, resolved.head_learning_rate)
    groups = [(g["lr"], g["weight_decay"], [id(p) for p in g["params"]]) for g in kwargs["params"]]
    return args.to_dict(), groups


def test_typing_the_default_values_trains_exactly_as_leaving_them_blank(tiny_model_dir, tmp_path):
    """The learning-rate trap, removed: typing 5e-5 (and the default factor) gives the same TrainingArguments and
    the same optimizer groups as leaving the fields empty."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=2)
    blank = TrainConfig(output_dir=str(tmp_path))
    typed = TrainConfig(output_dir=str(tmp_path), learning_rate=5e-5, head_lr_factor=20)
    assert _arguments_and_groups(blank, model) == _arguments_and_groups(typed, model)


def test_bf16_note_says_it_was_detected_on_cpu():
    r = recipe.resolve(TrainConfig(), "m", CPU_BF16)
    assert r.precision == "bf16" and PrecisionChosen(precision="bf16", gpu=False) in r.notes
    assert "AVX512-BF16/AMX (detected" in precision_why(recipe.auto_precision_choice(CPU_BF16))


def test_quick_look_is_a_step_budget_that_reaches_the_encoder_often():
    c = presets.get(presets.QUICK_LOOK, CPU_BF16).config
    assert (c.max_steps, c.per_device_train_batch_size, c.max_train_samples) == (500, 8, 4000)
    assert recipe.total_steps(c, 400, 8) == 500 and recipe.total_steps(c, 3668, 8) == 500
    for name in (presets.SEED_SPREAD, presets.PRECISION_AB):
        assert presets.get(name, CPU_BF16).config == c


def test_optimizer_groups_put_only_the_head_at_the_head_rate(tiny_model_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=2)
    cfg = TrainConfig(output_dir=str(tmp_path), weight_decay=0.01)
    resolved = recipe.resolve(cfg, "tiny", CPU_BF16)
    args = build_training_args(cfg, resolved, 400, CPU_BF16, quiet=True)
    cls, kwargs = optimizer_with_head_lr(model, args, resolved.head_learning_rate)
    groups = kwargs["params"]
    names = {id(p): n for n, p in model.named_parameters()}
    head = [g for g in groups if g["lr"] == pytest.approx(1e-3)]
    body = [g for g in groups if g["lr"] == pytest.approx(5e-5)]
    assert len(head) + len(body) == len(groups) and groups[0]["lr"] == pytest.approx(5e-5)
    head_names = {names[id(p)] for g in head for p in g["params"]}
    assert head_names == {n for n in names.values() if "classifier" in n or "pooler" in n}
    assert sum(len(g["params"]) for g in groups) == sum(1 for p in model.parameters() if p.requires_grad)
    assert {g["weight_decay"] for g in groups} == {0.0, 0.01}  # biases and LayerNorms are not decayed
    assert optimizer_with_head_lr(model, args, None) is None  # head factor 1: the Trainer's own AdamW


def test_quick_look_on_a_cpu_without_bf16_is_a_shorter_run_with_larger_encoder_steps():
    """Issue 20: fp32 steps cost 2-3x more, so Quick look is 250 steps there (150 left two seeds of three at chance); the encoder learns at 1e-4 and the
    head keeps its 1e-3. Seed spread and Precision use the same runs, so they stay comparable with Quick look."""
    fp32_cpu = settings.Hardware("cpu", "c", False, False, 2)
    c = presets.get(presets.QUICK_LOOK, fp32_cpu).config
    assert (c.max_steps, c.per_device_train_batch_size, c.learning_rate, c.head_lr_factor) == (250, 8, 1e-4, 10)
    assert recipe.applied_learning_rates(c) == (1e-4, pytest.approx(1e-3))
    assert "without native bf16" in presets.get(presets.QUICK_LOOK, fp32_cpu).description
    for name in (presets.SEED_SPREAD, presets.PRECISION_AB):
        preset = presets.get(name, fp32_cpu)
        assert preset.config == c and "250 steps each" in preset.description
    assert presets.get(presets.QUICK_LOOK, CPU_BF16).config.max_steps == 500  # bf16 CPUs keep the longer run


def test_a_gpu_run_that_evaluates_every_few_steps_saves_its_checkpoint_once_per_epoch(tmp_path):
    """On a GPU a checkpoint at each of 10 evaluations cost 25 of 57 s (README, GPU): there the save goes to the
    epoch's end while the evaluations (the curves) stay; on a CPU each evaluation keeps its checkpoint."""
    cfg = TrainConfig(output_dir=str(tmp_path), precision="fp32")
    on_gpu, on_cpu = recipe.resolve(cfg, "m", GPU), recipe.resolve(cfg, "m", CPU_BF16)
    assert CheckpointsPerEpoch() in on_gpu.notes and CheckpointsPerEpoch() not in on_cpu.notes
    gpu_args = build_training_args(cfg, on_gpu, 400, GPU, quiet=True)
    cpu_args = build_training_args(cfg, on_cpu, 400, CPU_BF16, quiet=True)
    assert (gpu_args.eval_strategy, gpu_args.save_strategy) == ("steps", "epoch")
    assert (cpu_args.eval_strategy, cpu_args.save_strategy) == ("steps", "steps")
    assert cpu_args.save_steps == cpu_args.eval_steps
    for strategy, saves in (("epoch", "epoch"), ("no", "epoch")):
        other = TrainConfig(eval_strategy=strategy)
        assert recipe.save_strategy(other, GPU) == recipe.save_strategy(other, CPU_BF16) == saves
        assert CheckpointsPerEpoch() not in recipe.resolve(other, "m", GPU).notes
    # a flag given on the command line still wins
    forced = build_training_args(cfg, on_gpu, 400, GPU, quiet=True, overrides={"save_strategy": "steps"})
    assert forced.save_strategy == "steps"
