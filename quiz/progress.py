"""A visitor's progress as plain JSON: flashcard deck state (due, learned, streak) and quiz self-grades."""
from __future__ import annotations

import copy
import datetime as dt
import random
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from quiz.scheduler import AGAIN, DAY, CardState, review

VERSION = 1
LEARN_AHEAD = 20 * 60.0  # seconds: when nothing is due, cards due this soon are shown anyway
SELF_GRADES = {"got": "Got it", "partly": "Partly", "missed": "Missed"}


# ---------- flashcards ----------

def new_deck(card_ids: Iterable[str]) -> dict[str, Any]:
    """Fresh deck progress: every card new, deck order as given."""
    ids = list(card_ids)
    return {"version": VERSION, "order": ids, "cards": {i: CardState().to_dict() for i in ids},
            "reviews": 0, "recall_streak": 0, "day_streak": 0, "best_day_streak": 0, "last_day": None}


def load_deck(raw: Any, card_ids: Iterable[str]) -> dict[str, Any]:
    """Make stored progress safe to use: drop unknown cards, add new ones, repair bad values."""
    ids = list(card_ids)
    if not isinstance(raw, Mapping) or raw.get("version") != VERSION:
        return new_deck(ids)
    deck = new_deck(ids)
    cards = raw.get("cards") if isinstance(raw.get("cards"), Mapping) else {}
    for i in ids:
        if i in cards:
            deck["cards"][i] = CardState.from_dict(cards[i]).to_dict()
    order = raw.get("order") if isinstance(raw.get("order"), list) else []
    kept = [i for i in dict.fromkeys(order) if i in deck["cards"]]
    deck["order"] = kept + [i for i in ids if i not in kept]
    for key in ("reviews", "recall_streak", "day_streak", "best_day_streak"):
        v = raw.get(key)
        deck[key] = v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**7 else 0
    last_day = raw.get("last_day")
    deck["last_day"] = last_day if isinstance(last_day, str) and len(last_day) == 10 else None
    return deck


def _day(now: float) -> str:
    return dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).date().isoformat()


def record(deck: Mapping[str, Any], card_id: str, grade: int, now: float) -> dict[str, Any]:
    """A new deck after grading `card_id`; the input is left untouched."""
    out = copy.deepcopy(dict(deck))
    if card_id not in out["cards"]:
        raise KeyError(f"unknown card {card_id!r}")
    out["cards"][card_id] = review(CardState.from_dict(out["cards"][card_id]), grade, now).to_dict()
    out["reviews"] += 1
    out["recall_streak"] = 0 if grade == AGAIN else out["recall_streak"] + 1
    today = _day(now)
    if out["last_day"] != today:
        yesterday = _day(now - DAY)
        out["day_streak"] = out["day_streak"] + 1 if out["last_day"] == yesterday else 1
        out["last_day"] = today
    out["best_day_streak"] = max(out["best_day_streak"], out["day_streak"])
    return out


def next_card(deck: Mapping[str, Any], now: float, ahead: bool = False) -> str | None:
    """The card to show next: due cards in deck order; else one due within minutes; else None.

    With `ahead=True`, the soonest card is returned even when nothing is due (practise ahead).
    """
    rank = {cid: n for n, cid in enumerate(deck["order"])}
    states = {cid: CardState.from_dict(s) for cid, s in deck["cards"].items()}
    due_now = [cid for cid, s in states.items() if s.due <= now]
    if due_now:
        return min(due_now, key=lambda cid: (rank.get(cid, 10**6), cid))
    soon = [cid for cid, s in states.items() if s.due <= now + LEARN_AHEAD]
    pool = soon or (list(states) if ahead else [])
    return min(pool, key=lambda cid: (states[cid].due, rank.get(cid, 10**6))) if pool else None


def shuffle(deck: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """A new deck whose order (which due card comes first) is shuffled with `seed`."""
    out = copy.deepcopy(dict(deck))
    order = list(out["order"])
    random.Random(seed).shuffle(order)
    out["order"] = order
    return out


@dataclass(frozen=True)
class DeckStats:
    """Counts shown above the card."""

    total: int
    due: int
    new: int
    learned: int
    reviews: int
    recall_streak: int
    day_streak: int
    next_due_in: float | None  # seconds until the next card is due, when none is due now


def deck_stats(deck: Mapping[str, Any], now: float) -> DeckStats:
    """Due now, new, learned (at least one successful recall in a row), streaks, next due time."""
    states = [CardState.from_dict(s) for s in deck["cards"].values()]
    due = sum(s.due <= now for s in states)
    later = [s.due - now for s in states if s.due > now]
    return DeckStats(total=len(states), due=due, new=sum(s.is_new for s in states),
                     learned=sum(s.reps >= 1 for s in states), reviews=deck["reviews"],
                     recall_streak=deck["recall_streak"], day_streak=deck["day_streak"],
                     next_due_in=min(later) if later and not due else None)


# ---------- quiz self-grades ----------

def load_marks(raw: Any, item_ids: Iterable[str]) -> dict[str, str]:
    """Stored self-grades, keeping only known items and known marks."""
    ids = set(item_ids)
    if not isinstance(raw, Mapping):
        return {}
    return {k: v for k, v in raw.items() if k in ids and v in SELF_GRADES}


def set_mark(marks: Mapping[str, str], item_id: str, mark: str) -> dict[str, str]:
    """A new mapping with `item_id` self-graded as 'got', 'partly' or 'missed'."""
    if mark not in SELF_GRADES:
        raise ValueError(f"self-grade must be one of {sorted(SELF_GRADES)}, got {mark!r}")
    return {**marks, item_id: mark}


@dataclass(frozen=True)
class MarkSummary:
    """Where the learner stands on the quiz."""

    got: list[str]
    partly: list[str]
    missed: list[str]
    todo: list[str]


def summarise_marks(marks: Mapping[str, str], item_ids: Iterable[str]) -> MarkSummary:
    """Group items by self-grade, in bank order; unanswered ones are `todo`."""
    ids = list(item_ids)
    return MarkSummary(got=[i for i in ids if marks.get(i) == "got"],
                       partly=[i for i in ids if marks.get(i) == "partly"],
                       missed=[i for i in ids if marks.get(i) == "missed"],
                       todo=[i for i in ids if i not in marks])
