"""Spaced repetition for one card with FSRS (the `fsrs` package, Anki's default scheduler), Again/Hard/Good/Easy.

The browser keeps each card's state as a small JSON dict; `CardState.from_dict` also reads the SM-2 dicts that
earlier versions stored (ease/interval) and turns them into FSRS memory states, so no visitor loses progress."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from fsrs import Card, Rating, Scheduler, State

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
GRADES = (AGAIN, HARD, GOOD, EASY)
GRADE_NAMES = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
DAY = 86_400.0  # seconds
MINUTE = 60.0
MAX_INTERVAL = 365  # days: a nine-card deck never needs more
# One 1-minute learning step: Again repeats a new card within the session, Good graduates it to days (as the
# studio's cards always did); a forgotten card relearns over 10 minutes. No fuzz: the same answers give the same
# schedule, so tests and the "next in …" labels on the buttons agree.
SCHEDULER = Scheduler(desired_retention=0.9, learning_steps=(timedelta(minutes=1),),
                      relearning_steps=(timedelta(minutes=10),), maximum_interval=MAX_INTERVAL, enable_fuzzing=False)
LEARNING, REVIEW, RELEARNING = int(State.Learning), int(State.Review), int(State.Relearning)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


@dataclass(frozen=True)
class CardState:
    """Where one card stands: FSRS memory (stability in days, difficulty 1–10, learning state and step), when it
    is due (unix s), and counts for the stats (reviews in a row that left it learned, lapses, last grade)."""

    state: int = LEARNING
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: float = 0.0  # 0 means a new card, due at once
    last_review: float | None = None
    reps: int = 0
    lapses: int = 0
    last_grade: int | None = None

    @property
    def is_new(self) -> bool:
        return self.last_review is None

    @property
    def interval(self) -> float:
        """Days from the last review to the due time (0 for a new card)."""
        return max(0.0, (self.due - self.last_review) / DAY) if self.last_review is not None else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the browser stores)."""
        return asdict(self)

    def card(self, now: float) -> Card:
        return Card(card_id=1, state=State(self.state), step=self.step, stability=self.stability,
                    difficulty=self.difficulty, due=_utc(self.due or now),
                    last_review=_utc(self.last_review) if self.last_review is not None else None)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | Any) -> "CardState":
        """Rebuild from stored JSON (ours or the older SM-2 format); anything missing or out of range is made safe."""
        if not isinstance(raw, Mapping):
            return cls()

        def num(key: str, default: float | None, lo: float, hi: float) -> float | None:
            v = raw.get(key, default)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return default
            return min(max(float(v), lo), hi)

        last = num("last_review", None, 0.0, 1e12) if raw.get("last_review") is not None else None
        grade = raw.get("last_grade") if raw.get("last_grade") in GRADES else None
        reps, lapses = int(num("reps", 0, 0, 10_000)), int(num("lapses", 0, 0, 10_000))
        due = num("due", 0.0, 0.0, 1e12)
        if "ease" in raw and "stability" not in raw:  # progress stored by the SM-2 scheduler
            return _from_sm2(num("ease", 2.5, 1.3, 3.5), num("interval", 0.0, 0.0, MAX_INTERVAL), due, last,
                             reps, lapses, grade)
        state = raw.get("state") if raw.get("state") in (LEARNING, REVIEW, RELEARNING) else LEARNING
        step = raw.get("step") if isinstance(raw.get("step"), int) and 0 <= raw["step"] < 10 else None
        if state != REVIEW and step is None:
            step = 0
        stability = num("stability", None, 0.001, 36_500.0)
        difficulty = num("difficulty", None, 1.0, 10.0)
        if last is None or stability is None or difficulty is None:  # never reviewed, or memory lost: start afresh
            return cls(due=due if last is not None else 0.0, reps=reps, lapses=lapses, last_grade=grade,
                       last_review=last, stability=stability if last is not None else None,
                       difficulty=difficulty if last is not None else None)
        return cls(state, None if state == REVIEW else step, stability, difficulty, due, last, reps, lapses, grade)


def _from_sm2(ease: float, interval: float, due: float, last: float | None, reps: int, lapses: int,
              grade: int | None) -> CardState:
    """An SM-2 card as an FSRS one: a card in review keeps its due date, its interval becomes the stability
    (at 90% retention FSRS schedules about one stability ahead), and ease 1.3–3.5 maps onto difficulty 10–1."""
    if last is None:
        return CardState(due=due)
    difficulty = 1.0 + 9.0 * (3.5 - ease) / (3.5 - 1.3)
    if reps == 0 or interval < 1.0:  # it was still being learned
        return CardState(LEARNING, 0, max(interval, 0.1), difficulty, due, last, reps, lapses, grade)
    return CardState(REVIEW, None, interval, difficulty, due, last, reps, lapses, grade)


def review(state: CardState, grade: int, now: float) -> CardState:
    """The card's state after answering it with `grade` (1 Again, 2 Hard, 3 Good, 4 Easy) at time `now`."""
    if grade not in GRADES:
        raise ValueError(f"grade must be one of {GRADES}, got {grade!r}")
    card, _ = SCHEDULER.review_card(state.card(now), Rating(grade), review_datetime=_utc(now))
    lapsed = grade == AGAIN and state.state == REVIEW
    return replace(state, state=int(card.state), step=card.step, stability=card.stability,
                   difficulty=card.difficulty, due=max(card.due.timestamp(), now), last_review=now,
                   reps=0 if grade == AGAIN else state.reps + int(card.state == State.Review),
                   lapses=state.lapses + int(lapsed),
                   last_grade=grade)


def next_intervals(state: CardState, now: float | None = None) -> dict[int, float]:
    """The interval in days each grade would give now (what the grade buttons show)."""
    import time

    now = time.time() if now is None else now
    return {g: review(state, g, now).interval for g in GRADES}


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
