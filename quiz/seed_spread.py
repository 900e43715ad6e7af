"""Part B made concrete: the learner's own seed-spread runs, read against the noise of a small validation split."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterable

from lesson import figures

DONE = ("completed", "stopped")


@dataclass(frozen=True)
class SeedRun:
    """One finished run of a group: its seed, validation accuracy and validation size."""

    label: str
    seed: int | None
    accuracy: float
    eval_pairs: int


@dataclass(frozen=True)
class Spread:
    """A group of runs with the same settings and different seeds."""

    group: str
    runs: tuple[SeedRun, ...]

    @property
    def eval_pairs(self) -> int:
        return min(r.eval_pairs for r in self.runs)

    @property
    def mean(self) -> float:
        return statistics.fmean(r.accuracy for r in self.runs)

    @property
    def std_points(self) -> float:
        return 100 * statistics.stdev(r.accuracy for r in self.runs) if len(self.runs) > 1 else 0.0

    @property
    def range_points(self) -> float:
        accs = [r.accuracy for r in self.runs]
        return 100 * (max(accs) - min(accs))

    @property
    def range_pairs(self) -> int:
        """How many validation pairs the gap between the best and the worst run is."""
        return round(self.range_points / figures.pair_points(self.eval_pairs))

    @property
    def standard_error_points(self) -> float:
        """What one run's accuracy can wobble by from the sample of pairs alone, at this group's mean."""
        return figures.standard_error_points(self.mean, self.eval_pairs)


def groups(runs: Iterable, min_runs: int = 2) -> list[Spread]:
    """Finished run groups with at least `min_runs` different seeds and a validation accuracy, newest first.

    `runs` are trainer_backend.runs.Run records (the caller filters them to the visitor's own).
    """
    by_group: dict[str, list] = {}
    for run in runs:
        acc = (run.final_metrics or {}).get("eval_accuracy")
        if run.status in DONE and run.group_id and isinstance(acc, (int, float)) and not math.isnan(acc):
            by_group.setdefault(run.group_id, []).append(run)
    out = []
    for group_id, members in by_group.items():
        seeds = {(r.config or {}).get("seed") for r in members}
        if len(members) < min_runs or len(seeds) < min_runs:
            continue
        rows = tuple(SeedRun(r.label or r.id, (r.config or {}).get("seed"), float(r.final_metrics["eval_accuracy"]),
                             int(r.final_metrics.get("eval_samples") or figures.GLUE_MRPC_SIZES["validation"]))
                     for r in sorted(members, key=lambda r: str((r.config or {}).get("seed"))))
        out.append((max(r.created or 0 for r in members), Spread(group_id, rows)))
    return [s for _, s in sorted(out, key=lambda t: t[0], reverse=True)]


def explain(spread: Spread) -> str:
    """Markdown reading one group the way Part B asks: spread in points and pairs, against the noise."""
    lines = ["| seed | run | validation accuracy |", "|---|---|---|"]
    lines += [f"| {r.seed} | {r.label} | {r.accuracy:.3f} |" for r in spread.runs]
    n = spread.eval_pairs
    pair = figures.pair_points(n)
    verdict = ("well inside" if spread.range_points <= 2 * spread.standard_error_points
               else "wider than")
    lines += ["", f"Your {len(spread.runs)} seeds landed between {min(r.accuracy for r in spread.runs):.3f} and "
              f"{max(r.accuracy for r in spread.runs):.3f}: a gap of **{spread.range_points:.1f} points**, which on "
              f"{n} validation pairs is **{spread.range_pairs} pair{'s' if spread.range_pairs != 1 else ''}** "
              f"(one pair = {pair:.2f} points). Mean {spread.mean:.3f}, standard deviation "
              f"{spread.std_points:.1f} points.",
              "",
              f"The sample of {n} pairs alone makes one run's accuracy wobble by about "
              f"**{spread.standard_error_points:.1f} points** (standard error at {spread.mean:.0%}). Your gap is "
              f"{verdict} twice that"
              + (": nothing went wrong, this is what different seeds do." if verdict == "well inside" else
                 ": the seeds really pulled the runs apart (a run that stayed at the majority answer does this)."
                 " Compare setups on their means over several seeds."),
              ]
    floor = figures.majority_floor()
    stuck = [r for r in spread.runs if abs(r.accuracy - floor.accuracy) < 0.015]
    if stuck and n == figures.GLUE_MRPC_SIZES["validation"]:
        lines.append(f"\nRun(s) {', '.join(str(r.seed) for r in stuck)} sit near {floor.accuracy:.2f}, the score "
                     "of always answering \"paraphrase\": that seed never left the majority answer.")
    return "\n".join(lines)


NO_RUNS = ("No finished seed-spread runs of yours yet. Press the button above to open the Train tab with the "
           "*Seed spread* preset, start it, and come back when the runs are done. Until then, the numbers for "
           "MRPC: one of the {val} validation pairs is {pair} points of accuracy, and the standard error of an "
           "accuracy near {acc} is about {se} points, so 0.857 vs 0.869 is {gap} pairs.")


def report(runs: Iterable) -> str:
    """The Part B panel: the newest group of the learner's runs, or what to do to get one."""
    found = groups(runs)
    if not found:
        v = figures.values()
        gap = round((0.869 - 0.857) * 100 / figures.pair_points())
        return NO_RUNS.format(val=v["val_pairs"], pair=v["pair_points"], acc=v["typical_acc"], se=v["se_points"],
                              gap=gap)
    text = explain(found[0])
    if len(found) > 1:
        text += f"\n\n<sub>Showing your newest of {len(found)} seed groups.</sub>"
    return text
