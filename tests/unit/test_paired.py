"""The paired comparison of two runs: exact McNemar and the paired bootstrap, against hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trainer_backend import paired


def _runs(b_only: int, a_only: int, both: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-example correctness of runs A and B with these counts of each kind of example."""
    a = [0] * b_only + [1] * a_only + [1] * both + [0] * neither
    b = [1] * b_only + [0] * a_only + [1] * both + [0] * neither
    return np.array(a, bool), np.array(b, bool)


def _two_sided_exact(b: int, c: int) -> float:
    """By hand: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1."""
    n, k = b + c, min(b, c)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


@pytest.mark.parametrize("b, c", [(14, 9), (9, 14), (5, 0), (0, 7), (10, 10), (1, 0), (30, 12)])
def test_mcnemar_is_the_doubled_binomial_tail(b, c):
    assert paired.mcnemar_exact(b, c) == pytest.approx(_two_sided_exact(b, c), rel=1e-12)


def test_mcnemar_known_values():
    # b=14, c=9: 2 · P(X ≤ 9 | n=23, 1/2) = 2 · 1,698,160 / 8,388,608 (1,698,160 = Σ C(23, i), i ≤ 9)
    assert sum(math.comb(23, i) for i in range(10)) == 1_698_160
    assert paired.mcnemar_exact(14, 9) == pytest.approx(2 * 1_698_160 / 2 ** 23) == pytest.approx(0.40487, abs=1e-5)
    # every disagreement favours one run: 6 of 6 -> 2 · (1/2)^6 = 1/32
    assert paired.mcnemar_exact(6, 0) == pytest.approx(1 / 32)
    assert paired.mcnemar_exact(0, 0) == 1.0  # no disagreement, no evidence


def test_all_disagreements_favour_one_run():
    a, b = _runs(b_only=8, a_only=0, both=30, neither=2)
    result = paired.compare(a, b)
    assert (result.b_only, result.a_only, result.n) == (8, 0, 40)
    assert result.difference == pytest.approx(8 / 40)
    assert result.p_value == pytest.approx(2 / 2 ** 8)
    assert 0 <= result.low <= result.difference <= result.high  # no resample can favour A
    text = paired.sentence(result, "B", "A")
    assert "right on 8 pairs A gets wrong, and wrong on 0" in text and "p = 0.0078" in text and "+20.0 points" in text


def test_bootstrap_of_identical_verdicts_is_a_point():
    a, b = _runs(b_only=0, a_only=0, both=20, neither=5)
    assert paired.bootstrap_interval(a, b) == (0.0, 0.0)
    assert "no evidence" in paired.sentence(paired.compare(a, b))
    a, b = _runs(b_only=12, a_only=0, both=0, neither=0)  # B right everywhere A is wrong: the difference is 1
    assert paired.bootstrap_interval(a, b) == (1.0, 1.0)


def test_bootstrap_matches_the_normal_approximation_and_resampling_indices():
    """Hand check: with p+ = 14/408 and p- = 9/408, the difference's standard error is
    sqrt((p+ + p- - (p+ - p-)^2) / n); the 95% bootstrap interval lies about 1.96 standard errors either side."""
    a, b = _runs(b_only=14, a_only=9, both=300, neither=85)
    n, plus, minus = 408, 14 / 408, 9 / 408
    se = math.sqrt((plus + minus - (plus - minus) ** 2) / n)
    low, high = paired.bootstrap_interval(a, b)
    assert low == pytest.approx(5 / 408 - 1.96 * se, abs=0.004)
    assert high == pytest.approx(5 / 408 + 1.96 * se, abs=0.004)
    # the same interval as the textbook bootstrap (resample example indices), within Monte Carlo noise
    rng = np.random.default_rng(1)
    idx = rng.integers(0, n, size=(4000, n))
    naive = np.percentile(b[idx].mean(axis=1) - a[idx].mean(axis=1), [2.5, 97.5])
    assert (low, high) == pytest.approx(tuple(naive), abs=0.004)
    assert paired.bootstrap_interval(a, b) == (low, high)  # seeded: the same numbers every time


def test_the_sentence_reads_as_the_issue_asks():
    a, b = _runs(b_only=14, a_only=9, both=300, neither=85)
    text = paired.sentence(paired.compare(a, b), "B", "A")
    assert text.startswith("B is right on 14 pairs A gets wrong, and wrong on 9 that A gets right: a difference "
                           "this size happens by chance in 40% of cases (exact McNemar p = 0.40); accuracy "
                           "difference +1.2 points, 95% interval −")
    with pytest.raises(ValueError):
        paired.compare([True, False], [True])
