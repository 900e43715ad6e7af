"""Is run B really better than run A? A paired comparison on the validation examples both evaluated.

Two runs scored on the *same* examples are compared example by example, which is far more sensitive than
comparing two accuracies as if they came from different samples:

* **Exact McNemar test.** Only the discordant examples carry information: b = those B gets right and A wrong,
  c = those A gets right and B wrong. If the runs were equally good, each of the b + c disagreements would go
  either way with probability 1/2, so b ~ Binomial(b + c, 1/2), and the two-sided p-value is
  min(1, 2 · P(X ≤ min(b, c))). Computed with `scipy.stats.binomtest` (scipy is already installed here, pulled
  in by scikit-learn for `evaluate`'s metrics; its two-sided test for p = 1/2 is exactly this doubled tail).
  statsmodels' `mcnemar(exact=True)` computes the same binomial test, but it is not installed and would be a
  large dependency for one line; `evaluate`'s `mcnemar` comparison is the chi-squared approximation
  (b − c)² / (b + c), not the exact test (and poor for the few disagreements two seeds often have), and it is a
  module fetched from the Hub, which an offline app does not have.
* **Paired bootstrap interval** for the accuracy difference acc(B) − acc(A): resample the n examples with
  replacement, B times (2,000, seeded), and take the 2.5th and 97.5th percentiles of the difference. The
  difference on a resample depends only on how many of its examples are +1 (B right, A wrong), −1 (the reverse)
  or 0 (they agree), so a resample is drawn as multinomial counts of those three kinds: the same distribution as
  resampling example indices, without an n × B index matrix (numpy only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

RESAMPLES = 2000
SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class Paired:
    """How run B compares with run A on the same n examples."""

    n: int
    acc_a: float
    acc_b: float
    b_only: int        # B right, A wrong
    a_only: int        # A right, B wrong
    p_value: float     # exact McNemar (two-sided)
    low: float         # bootstrap interval of acc_b − acc_a
    high: float

    @property
    def difference(self) -> float:
        return self.acc_b - self.acc_a


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (1.0 when there are none)."""
    from scipy.stats import binomtest

    if b + c == 0:
        return 1.0
    return float(binomtest(int(b), int(b + c), 0.5, alternative="two-sided").pvalue)


def bootstrap_interval(correct_a: Any, correct_b: Any, resamples: int = RESAMPLES, seed: int = SEED,
                       level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of acc(B) − acc(A) over paired bootstrap resamples of the examples."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    n = len(a)
    if n == 0:
        return 0.0, 0.0
    plus, minus = int(np.sum(b & ~a)), int(np.sum(a & ~b))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, [plus / n, minus / n, (n - plus - minus) / n], size=resamples)
    diffs = (counts[:, 0] - counts[:, 1]) / n
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return float(low), float(high)


def compare(correct_a: Any, correct_b: Any, resamples: int = RESAMPLES, seed: int = SEED) -> Paired:
    """The paired comparison of two runs from their per-example correctness (same examples, same order)."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired runs must cover the same examples ({len(a)} vs {len(b)})")
    n = len(a)
    b_only, a_only = int(np.sum(b & ~a)), int(np.sum(a & ~b))
    low, high = bootstrap_interval(a, b, resamples, seed)
    return Paired(n=n, acc_a=float(a.mean()) if n else 0.0, acc_b=float(b.mean()) if n else 0.0, b_only=b_only,
                  a_only=a_only, p_value=mcnemar_exact(b_only, a_only), low=low, high=high)


def _points(x: float) -> str:
    """An accuracy difference in percentage points, signed, with a real minus sign."""
    value = round(x * 100, 1)
    return ("+" if value > 0 else "−" if value < 0 else "±") + f"{abs(value):.1f}"


def _chance(p: float) -> str:
    if p >= 0.995:
        return "in practically every case"
    if p < 0.001:
        return "in fewer than 1 in 1,000 cases"
    return f"in {p * 100:.0f}% of cases" if p >= 0.01 else f"in {p * 100:.1f}% of cases"


def _p(p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else f"{p:.2g}"


def sentence(result: Paired, name_b: str = "B", name_a: str = "A") -> str:
    """The comparison in one plain sentence (names are used as given: escape them for Markdown first)."""
    if result.b_only + result.a_only == 0:
        return (f"{name_b} and {name_a} give the same right/wrong verdict on all {result.n} pairs: no evidence that "
                "either is better (accuracy difference ±0.0 points).")
    return (f"{name_b} is right on {result.b_only} pairs {name_a} gets wrong, and wrong on {result.a_only} that "
            f"{name_a} gets right: a difference this size happens by chance {_chance(result.p_value)} "
            f"(exact McNemar p = {_p(result.p_value)}); accuracy difference {_points(result.difference)} points, "
            f"95% interval {_points(result.low)} to {_points(result.high)} "
            f"(paired bootstrap over the {result.n} pairs, {RESAMPLES:,} resamples).")
