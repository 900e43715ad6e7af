"""Property tests for the SM-2 style scheduler: never negative, Again resets, Easy >= Good >= Hard."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiz.scheduler import (AGAIN, AGAIN_DELAY, DAY, EASY, GOOD, GRADES, HARD, MAX_EASE, MAX_INTERVAL,
                            MIN_EASE, CardState, format_interval, next_intervals, review)

NOW = 1_750_000_000.0

states = st.builds(
    CardState,
    ease=st.floats(MIN_EASE, MAX_EASE),
    interval=st.floats(0, MAX_INTERVAL),
    reps=st.integers(0, 60),
    lapses=st.integers(0, 30),
    due=st.floats(0, NOW + 400 * DAY),
    last_review=st.one_of(st.none(), st.floats(0, NOW)),
    last_grade=st.one_of(st.none(), st.sampled_from(GRADES)),
)
grade_runs = st.lists(st.sampled_from(GRADES), min_size=1, max_size=40)
gaps = st.floats(0, 30 * DAY)


@settings(max_examples=200, deadline=None)
@given(states, st.sampled_from(GRADES), gaps)
def test_intervals_never_negative_and_due_never_in_the_past(state, grade, gap):
    now = NOW + gap
    after = review(state, grade, now)
    assert after.interval >= 0
    assert after.due >= now
    assert MIN_EASE <= after.ease <= MAX_EASE
    assert after.interval <= MAX_INTERVAL


@settings(max_examples=200, deadline=None)
@given(states, gaps)
def test_again_resets(state, gap):
    now = NOW + gap
    after = review(state, AGAIN, now)
    assert after.reps == 0 and after.interval == 0
    assert after.lapses == state.lapses + 1
    assert after.due == now + AGAIN_DELAY
    assert after.ease <= state.ease


@settings(max_examples=200, deadline=None)
@given(states, gaps)
def test_easy_at_least_good_at_least_hard_at_least_again(state, gap):
    now = NOW + gap
    ivl = {g: review(state, g, now).interval for g in GRADES}
    assert ivl[EASY] >= ivl[GOOD] >= ivl[HARD] >= ivl[AGAIN] == 0
    assert next_intervals(state) == ivl
    due = {g: review(state, g, now).due for g in GRADES}
    assert due[EASY] >= due[GOOD] >= due[HARD] >= due[AGAIN]


@settings(max_examples=100, deadline=None)
@given(grade_runs)
def test_any_sequence_of_reviews_stays_in_range(grades):
    state, now = CardState(), NOW
    for g in grades:
        state = review(state, g, now)
        assert state.interval >= 0 and MIN_EASE <= state.ease <= MAX_EASE
        now = max(now, state.due)  # review when due
    assert state.lapses == grades.count(AGAIN)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12))
def test_repeated_good_grows_intervals(n):
    state, now, previous = CardState(), NOW, -1.0
    for _ in range(n):
        state = review(state, GOOD, now)
        assert state.interval >= previous
        previous, now = state.interval, state.due


def test_first_reviews_follow_the_learning_steps():
    new = CardState()
    assert review(new, HARD, NOW).interval * DAY == pytest.approx(600)
    assert review(new, HARD, NOW).reps == 0  # still learning
    assert review(new, GOOD, NOW).interval == 1
    assert review(new, EASY, NOW).interval == 4
    second = review(review(new, GOOD, NOW), GOOD, NOW + DAY)
    assert second.interval == 3 and second.reps == 2
    third = review(second, GOOD, NOW + 4 * DAY)
    assert third.interval == pytest.approx(3 * 2.5)


def test_bad_grade_is_rejected():
    with pytest.raises(ValueError, match="grade"):
        review(CardState(), 5, NOW)


@given(st.one_of(st.none(), st.text(), st.integers(),
                 st.dictionaries(st.sampled_from(["ease", "interval", "reps", "lapses", "due", "last_review",
                                                  "last_grade"]),
                                 st.one_of(st.none(), st.booleans(), st.text(max_size=3),
                                           st.floats(allow_nan=True, allow_infinity=True), st.integers()))))
def test_from_dict_repairs_anything_the_browser_sends(raw):
    state = CardState.from_dict(raw)
    assert MIN_EASE <= state.ease <= MAX_EASE and 0 <= state.interval <= MAX_INTERVAL
    assert state.reps >= 0 and state.due >= 0
    assert CardState.from_dict(state.to_dict()) == state


@pytest.mark.parametrize("days,label", [(60 / DAY, "1 min"), (600 / DAY, "10 min"), (0.25, "6 h"), (1, "1 d"),
                                        (3, "3 d"), (75, "2.5 mo"), (365, "1.0 y")])
def test_format_interval(days, label):
    assert format_interval(days) == label
