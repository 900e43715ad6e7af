"""The FSRS scheduler (fsrs package) behind the flashcards: properties, what a learner sees, and old SM-2 progress."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiz.scheduler import (
    AGAIN,
    DAY,
    EASY,
    GOOD,
    GRADES,
    HARD,
    LEARNING,
    MAX_INTERVAL,
    REVIEW,
    CardState,
    format_interval,
    next_intervals,
    review,
)

NOW = 1_750_000_000.0
grade_runs = st.lists(st.sampled_from(GRADES), min_size=1, max_size=30)
gaps = st.floats(0, 30 * DAY)


def _play(grades, start=NOW):
    state, now = CardState(), start
    for grade in grades:
        state = review(state, grade, now)
        now = max(now, state.due)  # review when due
    return state, now


@settings(max_examples=150, deadline=None)
@given(grade_runs, st.sampled_from(GRADES), gaps)
def test_due_never_in_the_past_and_memory_stays_in_range(grades, grade, gap):
    state, now = _play(grades)
    after = review(state, grade, now + gap)
    assert after.due >= now + gap and 0 <= after.interval <= MAX_INTERVAL + 1
    assert 1 <= after.difficulty <= 10 and after.stability > 0
    assert CardState.from_dict(after.to_dict()) == after  # what the browser stores round-trips


@settings(max_examples=100, deadline=None)
@given(grade_runs)
def test_a_better_grade_never_brings_the_card_back_sooner(grades):
    state, now = _play(grades)
    ivl = next_intervals(state, now)
    assert ivl[AGAIN] <= ivl[HARD] <= ivl[GOOD] <= ivl[EASY]


@settings(max_examples=100, deadline=None)
@given(grade_runs)
def test_lapses_count_forgotten_reviews(grades):
    state, _ = _play(grades)
    assert 0 <= state.lapses <= grades.count(AGAIN) and state.reps <= len(grades)


def test_a_new_card_comes_back_in_a_minute_or_graduates_to_days():
    new = CardState()
    assert new.is_new and new.due == 0
    again = review(new, AGAIN, NOW)
    assert again.state == LEARNING and again.interval * DAY == pytest.approx(60)  # same session
    good = review(new, GOOD, NOW)
    assert good.state == REVIEW and 1 <= good.interval < 10  # one good answer: back in a few days
    assert review(new, EASY, NOW).interval > good.interval
    forgot = review(good, AGAIN, good.due)
    assert forgot.state == 3 and forgot.lapses == 1 and forgot.interval * DAY == pytest.approx(600)


def test_good_answers_space_the_card_out():
    state, now, previous = CardState(), NOW, -1.0
    for _ in range(6):
        state = review(state, GOOD, now)
        assert state.interval >= previous
        previous, now = state.interval, state.due
    assert state.interval > 30


def test_bad_grade_is_refused():
    with pytest.raises(ValueError):
        review(CardState(), 5, NOW)


def test_old_sm2_progress_is_migrated_not_lost():
    old_review = {"ease": 2.6, "interval": 12.0, "reps": 4, "lapses": 1, "due": NOW + 5 * DAY,
                  "last_review": NOW - 7 * DAY, "last_grade": 3}
    card = CardState.from_dict(old_review)
    assert card.state == REVIEW and card.due == NOW + 5 * DAY and card.reps == 4 and card.lapses == 1
    assert card.stability == 12.0 and 1 <= card.difficulty <= 10
    assert review(card, GOOD, card.due).interval > 12  # it keeps growing from where it was
    learning = CardState.from_dict({"ease": 2.5, "interval": 10 / 1440, "reps": 0, "due": NOW,
                                    "last_review": NOW - 600})
    assert learning.state == LEARNING and not learning.is_new
    assert CardState.from_dict({"ease": 2.5, "interval": 0, "reps": 0, "due": 0, "last_review": None}).is_new


@pytest.mark.parametrize("raw", [None, "x", {"due": "soon"}, {"stability": -3, "difficulty": 99, "last_review": 5},
                                 {"state": 9, "step": "a"}, {"ease": "high", "due": -5}])
def test_garbage_becomes_a_safe_card(raw):
    card = CardState.from_dict(raw)
    assert card.due >= 0 and card.reps >= 0
    review(card, GOOD, NOW)  # always reviewable


def test_format_interval():
    assert format_interval(1 / 1440) == "1 min" and format_interval(10 / 1440) == "10 min"
    assert format_interval(0.25) == "6 h" and format_interval(3) == "3 d" and format_interval(400) == "1.1 y"


def test_a_whole_deck_saved_by_the_sm2_version_loads_with_its_schedule():
    from quiz.progress import deck_stats, load_deck, next_card

    saved = {"version": 1, "order": ["a", "b"], "reviews": 7, "recall_streak": 2, "day_streak": 3,
             "cards": {"a": {"ease": 2.5, "interval": 6.0, "reps": 3, "lapses": 0, "due": NOW + 2 * DAY,
                             "last_review": NOW - 4 * DAY, "last_grade": 3},
                       "b": {"ease": 2.3, "interval": 0.0, "reps": 0, "lapses": 0, "due": 0, "last_review": None,
                             "last_grade": None}}}
    deck = load_deck(saved, ["a", "b"])
    assert deck["cards"]["a"]["due"] == NOW + 2 * DAY and deck["cards"]["a"]["state"] == REVIEW
    stats = deck_stats(deck, NOW)
    assert (stats.total, stats.new, stats.learned, stats.reviews) == (2, 1, 1, 7)
    assert next_card(deck, NOW) == "b"  # the new card first; "a" waits for its due date
