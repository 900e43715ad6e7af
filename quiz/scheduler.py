"""Spaced repetition for one card: an SM-2 style rule with Again / Hard / Good / Easy grades."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
GRADES = (AGAIN, HARD, GOOD, EASY)
GRADE_NAMES = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}

DAY = 86_400.0  # seconds
MINUTE = 60.0
AGAIN_DELAY = 1 * MINUTE  # a lapsed card comes back within the same session
HARD_LEARNING = 10 * MINUTE / DAY  # days; Hard on a card still being learned
FIRST_GOOD, SECOND_GOOD, FIRST_EASY = 1.0, 3.0, 4.0  # days
HARD_FACTOR, EASY_BONUS = 1.2, 1.3
START_EASE, MIN_EASE, MAX_EASE = 2.5, 1.3, 3.5
EASE_STEP = {AGAIN: -0.20, HARD: -0.15, GOOD: 0.0, EASY: 0.15}
MAX_INTERVAL = 365.0  # days


@dataclass(frozen=True)
class CardState:
    """Where one card stands: ease factor, current interval (days), successful streak, due time (unix s)."""

    ease: float = START_EASE
    interval: float = 0.0
    reps: int = 0
    lapses: int = 0
    due: float = 0.0  # 0 means a new card, due at once
    last_review: float | None = None
    last_grade: int | None = None

    @property
    def is_new(self) -> bool:
        return self.last_review is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the browser stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | Any) -> "CardState":
        """Rebuild from stored JSON, replacing anything missing or out of range with a safe value."""
        if not isinstance(raw, Mapping):
            return cls()

        def num(key: str, default: float, lo: float, hi: float) -> float:
            v = raw.get(key, default)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return default
            return min(max(float(v), lo), hi)

        last = raw.get("last_review")
        last_review = num("last_review", 0.0, 0.0, 1e12) if last is not None else None
        grade = raw.get("last_grade")
        return cls(ease=num("ease", START_EASE, MIN_EASE, MAX_EASE),
                   interval=num("interval", 0.0, 0.0, MAX_INTERVAL),
                   reps=int(num("reps", 0, 0, 10_000)), lapses=int(num("lapses", 0, 0, 10_000)),
                   due=num("due", 0.0, 0.0, 1e12), last_review=last_review,
                   last_grade=grade if grade in GRADES else None)


def next_intervals(state: CardState) -> dict[int, float]:
    """The interval in days each grade would give; Again is 0 (the card returns within minutes)."""
    prev = max(state.interval, FIRST_GOOD)
    if state.reps == 0:
        hard, good = HARD_LEARNING, FIRST_GOOD
    elif state.reps == 1:
        hard, good = max(FIRST_GOOD, prev * HARD_FACTOR), SECOND_GOOD
    else:
        hard, good = prev * HARD_FACTOR, prev * state.ease
    good = min(good, MAX_INTERVAL)
    hard = min(hard, good)
    easy = min(max(good * EASY_BONUS, FIRST_EASY), MAX_INTERVAL)
    return {AGAIN: 0.0, HARD: hard, GOOD: good, EASY: easy}


def review(state: CardState, grade: int, now: float) -> CardState:
    """The card's state after answering it with `grade` (1 Again, 2 Hard, 3 Good, 4 Easy) at time `now`."""
    if grade not in GRADES:
        raise ValueError(f"grade must be one of {GRADES}, got {grade!r}")
    ease = min(max(state.ease + EASE_STEP[grade], MIN_EASE), MAX_EASE)
    if grade == AGAIN:
        return replace(state, ease=ease, interval=0.0, reps=0, lapses=state.lapses + 1,
                       due=now + AGAIN_DELAY, last_review=now, last_grade=grade)
    interval = next_intervals(state)[grade]
    still_learning = grade == HARD and state.reps == 0
    return replace(state, ease=ease, interval=interval, reps=state.reps + (0 if still_learning else 1),
                   due=now + interval * DAY, last_review=now, last_grade=grade)


def format_interval(days: float) -> str:
    """A short human label for an interval: '1 min', '10 min', '5 h', '3 d', '2.5 mo', '1.0 y'."""
    seconds = days * DAY
    if seconds < 60 * MINUTE:
        return f"{max(1, round(seconds / MINUTE))} min"
    if days < 1:
        return f"{round(seconds / 3600)} h"
    if days < 31:
        return f"{round(days)} d"
    if days < 365:
        return f"{days / 30:.1f} mo"
    return f"{days / 365:.1f} y"
