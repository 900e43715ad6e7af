"""Named training presets the Train tab offers and other tabs link to."""
from __future__ import annotations

from dataclasses import dataclass, field

from trainer_backend import settings
from trainer_backend.config import ConfigError, TrainConfig

QUICK_LOOK = "Quick look"
SEED_RECIPE = "Seed recipe"
BEST = "Best for this hardware"
SEED_SPREAD = "Seed spread (3 seeds)"
PRECISION_AB = "Precision on vs off"

PRESET_NAMES = [QUICK_LOOK, SEED_RECIPE, BEST, SEED_SPREAD, PRECISION_AB]
# Quick look: a fixed budget of optimizer steps, not of epochs, so it learns on every default path. 500 steps of 8
# pairs (4,000 pairs seen) are ten passes over the 400-pair sample, or 4,000 MRPC pairs (all 3,668, then a few more).
# Batch 8 gives the encoder twice the updates of 16 for the same compute: a cross-encoder built from MiniLM needs
# ~100 updates before the loss leaves chance, and the old run of 25 (one epoch of 400 at 16) learned nothing.
# Measured: 250 steps gave 0.75 on the sample but 0.706 on MRPC; 500 gave 0.8875 on the sample (88 s) and 0.765 on MRPC.
QUICK_SIZES = {"max_steps": 500, "per_device_train_batch_size": 8, "max_train_samples": 4000,
               "eval_strategy": "steps", "eval_steps": 0.25}
QUICK_DESCRIPTION = ("A short run that visibly learns: 500 steps of 8 pairs (4,000 pairs seen: ten passes over the "
                     "400-pair sample, or about one pass over MRPC), evaluated 4 times.")
# On a CPU without native bf16 (fp32 only) a step costs 2-3x more, so 500 steps took minutes on a 2-core AVX2
# CPU. There Quick look is 250 steps and the encoder takes steps twice as large (1e-4; the head keeps its 1e-3, 10x):
# the encoder has to learn the comparison before the loss can leave chance (a linear probe on the packaged model's
# frozen [CLS], pooled or mean-pooled pair features scores 0.45-0.51 on the sample's validation pairs, so no choice
# of pooling gives the standard head a head start (only a head built on the two sentences' cosine would:
# bench/head_start_probe.py), and freezing lower layers stopped learning altogether within 150 steps; 150 steps left
# one seed of three at chance). On real pairs alone the loss still sat at chance for 60-85% of those 250 steps, and
# neither 2e-4, 5e-5 with the head at 20x, warm-up, dropout off nor batches of 4 moved that below half; as many
# made-up easy pairs as real ones (easy_pairs.py) did: 15-20% on two seeds of the sample (half as many: 27%).
# Measured numbers are in bench/results/quick_look_*.jsonl and the README, not here.
QUICK_FP32_SIZES = {"max_steps": 250, "per_device_train_batch_size": 8, "max_train_samples": 2000,
                    "learning_rate": 1e-4, "head_lr_factor": 10, "eval_strategy": "steps", "eval_steps": 0.25,
                    "easy_pair_ratio": 1.0}
QUICK_FP32_DESCRIPTION = ("A short run that visibly learns, sized for a CPU without native bf16 (fp32 steps cost "
                          "two to three times more there): 250 steps of 8 pairs, half of them made-up easy pairs (a "
                          "sentence beside itself, two unrelated sentences) so the encoder learns to compare the two "
                          "texts early, half real ones (about 1,000: two and a half passes over the 400-pair sample, "
                          "or a quarter of MRPC); the encoder at twice the usual learning rate (1e-4; the new head "
                          "keeps 1e-3) so it learns within the budget; evaluated 4 times, on real pairs only.")


def quick_look(hw: settings.Hardware) -> tuple[TrainConfig, str]:
    """Quick look's config and text for this hardware: 500 steps where bf16 or a GPU makes steps cheap, else the
    fp32 budget above."""
    if hw.is_gpu or hw.bf16:
        return TrainConfig(**QUICK_SIZES), QUICK_DESCRIPTION
    return TrainConfig(**QUICK_FP32_SIZES), QUICK_FP32_DESCRIPTION


BEST_DESCRIPTION = ("Our default for this machine: length-grouped batches sized for its hardware, dynamic padding, "
                    "the new head learning at 20x the encoder's rate, the fastest safe precision (bf16 where the "
                    "hardware has it), 3 epochs with 10 evaluations.")
# On a CPU without native bf16 every step is fp32 and costs two to three times a bf16 one, so the default recipe
# there trains 2 epochs instead of 3 and turns dropout off: a linear schedule over 2 epochs anneals sooner, and without
# dropout each step skips the random masks and learns more (why, in numbers: bench/train_speed.py --no-bf16, whose
# log and table are in the README). Freezing the lower 2 of 6 layers was faster per step but lost several points.
BEST_FP32_SIZES = {"num_train_epochs": 2, "dropout": 0.0}
BEST_FP32_DESCRIPTION = ("Our default for a CPU without native bf16 (fp32 steps cost two to three times more "
                         "there): length-grouped batches of 8, dynamic padding, the new head learning at 20x the "
                         "encoder's rate, fp32, dropout off and 2 epochs with 10 evaluations, so it reaches the "
                         "3-epoch accuracy in fewer, cheaper steps.")


def best(hw: settings.Hardware) -> tuple[TrainConfig, str]:
    """The "Best for this hardware" config and text: the plain defaults where bf16 or a GPU makes steps cheap, else the fp32 recipe."""
    if hw.is_gpu or hw.bf16:
        return TrainConfig(), BEST_DESCRIPTION
    return TrainConfig(**BEST_FP32_SIZES), BEST_FP32_DESCRIPTION
# Durations and hardware-dependent sizes are never typed here: the Train tab computes them for the machine in use
# (train_handlers.preset_on_this_data and the ETA line), so a preset's text cannot contradict its own estimate.


@dataclass
class Preset:
    """A base config plus the variants to launch (one run per seed × precision)."""

    name: str
    description: str
    config: TrainConfig
    seeds: list[int] = field(default_factory=lambda: [42])
    precisions: list[str] = field(default_factory=lambda: ["auto"])


def mixed_precision(hw: settings.Hardware) -> str:
    """The mixed-precision mode this hardware can run (bf16 where supported, else fp16 on CUDA, else bf16 autocast)."""
    return "fp16" if hw.device == "cuda" and not hw.bf16 else "bf16"


def compared_precisions(hw: settings.Hardware | None = None) -> list[str]:
    """The two precisions a 'compare' run starts side by side: fp32 and this hardware's mixed precision."""
    return ["fp32", mixed_precision(hw or settings.hardware())]


def parse_seeds(text: object, default: int | None = None) -> list[int]:
    """Seeds typed as '42' or '1, 2, 3' (1 to 5 of them); blank gives [default] when there is one."""
    if default is not None and not str(text or "").strip():
        return [default]
    try:
        seeds = [int(s) for s in str(text).replace(";", ",").split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"Seeds must be whole numbers separated by commas, not {str(text)[:40]!r}") from None
    if not seeds or len(seeds) > 5:
        raise ConfigError("Give between 1 and 5 seeds, e.g. 42 or 1, 2, 3")
    return seeds


def get(name: str, hw: settings.Hardware | None = None) -> Preset:
    """The preset called `name` (unknown names are an error that lists the known ones)."""
    hw = hw or settings.hardware()
    quick, quick_text = quick_look(hw)
    if name == QUICK_LOOK:
        return Preset(name, quick_text, quick)
    if name == SEED_RECIPE:
        return Preset(name, "The course's recipe: Trainer defaults (batch 8, learning rate 5e-5, fp32, random "
                            "batches), 3 epochs, evaluated after each epoch.",
                      TrainConfig(learning_rate=5e-5, head_lr_factor=1, per_device_train_batch_size=8, precision="fp32",
                                  group_by_length=False, freeze_embeddings=False, eval_strategy="epoch"))
    if name == BEST:
        config, text = best(hw)
        return Preset(name, text, config)
    if name == SEED_SPREAD:
        base = TrainConfig() if hw.is_gpu else quick
        sizes = "" if hw.is_gpu else f" (Quick look's {quick.max_steps} steps each)"
        return Preset(name, f"The same settings three times with seeds 1, 2 and 3{sizes}: the seed changes the new "
                            "head's random start, the order of the pairs and dropout, so the runs learn along "
                            "different paths and land a little apart (mean ± std is drawn).", base, seeds=[1, 2, 3])
    if name == PRECISION_AB:
        mixed = mixed_precision(hw)
        note = "" if hw.is_gpu or hw.bf16 else (" This CPU has no native bf16, so expect the mixed run to be "
                                                 "slower here: the switch pays off on GPUs and recent CPUs.")
        sizes = "" if hw.is_gpu else f" (Quick look's {quick.max_steps} steps each)"
        return Preset(name, f"Two runs, fp32 and {mixed} mixed precision, otherwise identical{sizes}: compare speed "
                            f"and metrics.{note}", quick, precisions=compared_precisions(hw))
    raise KeyError(f"Unknown preset {name!r}; choose one of: {', '.join(PRESET_NAMES)}")


def expand(config: TrainConfig, seeds: list[int], precisions: list[str]) -> list[tuple[str, TrainConfig]]:
    """One (label suffix, config) per seed × precision combination."""
    out = []
    for seed in seeds or [config.seed]:
        for precision in precisions or [config.precision]:
            parts = ([f"seed {seed}"] if len(seeds) > 1 else []) + ([precision] if len(precisions) > 1 else [])
            out.append((", ".join(parts), config.replace(seed=seed, precision=precision)))
    return out


def runs(config: TrainConfig, seeds: list[int], compare: bool) -> list[tuple[str, TrainConfig]]:
    """Every run one Start queues (the Train tab, its API, "Show as command"): one per seed, times fp32 and mixed
    precision side by side when comparing, else the config's own precision."""
    return expand(config, seeds, compared_precisions() if compare else [config.precision])
