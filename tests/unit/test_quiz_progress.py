"""Deck progress (what the browser stores): next card, learned, due, streaks, shuffle, quiz self-grades."""
from __future__ import annotations

import json

import pytest

from quiz.progress import (
    deck_stats,
    load_deck,
    load_marks,
    new_deck,
    next_card,
    record,
    set_mark,
    shuffle,
    summarise_marks,
)
from quiz.scheduler import AGAIN, DAY, EASY, GOOD, HARD, CardState, review

IDS = ["a", "b", "c"]
NOW = 1_750_000_000.0


def test_new_deck_shows_cards_in_order_and_counts_them_due():
    deck = new_deck(IDS)
    assert next_card(deck, NOW) == "a"
    s = deck_stats(deck, NOW)
    assert (s.total, s.due, s.new, s.learned, s.reviews) == (3, 3, 3, 0, 0)
    json.dumps(deck)  # storable in gr.BrowserState


def test_a_session_of_good_grades_learns_every_card_then_waits():
    deck, now = new_deck(IDS), NOW
    for expected in IDS:
        assert next_card(deck, now) == expected
        deck = record(deck, expected, GOOD, now)
        now += 5
    s = deck_stats(deck, now)
    assert (s.due, s.new, s.learned, s.reviews, s.recall_streak, s.day_streak) == (0, 0, 3, 3, 3, 1)
    assert next_card(deck, now) is None
    first_good = review(CardState(), GOOD, NOW).interval * DAY  # FSRS's first interval for Good (about 2 days)
    assert DAY <= first_good <= 5 * DAY and s.next_due_in == pytest.approx(first_good - 15)
    assert next_card(deck, now, ahead=True) == "a"
    assert next_card(deck, NOW + first_good + 1) == "a"


def test_again_brings_the_card_back_in_the_same_session():
    deck = record(new_deck(IDS), "a", AGAIN, NOW)
    assert next_card(deck, NOW) == "b"
    deck = record(record(deck, "b", EASY, NOW), "c", HARD, NOW)
    assert next_card(deck, NOW + 1) == "a"  # due within minutes, nothing else due
    s = deck_stats(deck, NOW + 1)
    assert s.recall_streak == 2 and s.learned == 1  # Hard on a new card is still learning


def test_record_does_not_mutate_its_input():
    deck = new_deck(IDS)
    before = json.dumps(deck, sort_keys=True)
    record(deck, "a", GOOD, NOW)
    assert json.dumps(deck, sort_keys=True) == before
    with pytest.raises(KeyError):
        record(deck, "zzz", GOOD, NOW)


def test_day_streak_counts_consecutive_days():
    deck = record(new_deck(IDS), "a", GOOD, NOW)
    deck = record(deck, "b", GOOD, NOW + DAY)
    assert deck["day_streak"] == 2
    deck = record(deck, "c", GOOD, NOW + 3 * DAY)
    assert deck["day_streak"] == 1 and deck["best_day_streak"] == 2


def test_shuffle_changes_order_reproducibly_and_keeps_state():
    deck = record(new_deck([f"c{i}" for i in range(9)]), "c0", GOOD, NOW)
    one, two = shuffle(deck, 1), shuffle(deck, 1)
    assert one["order"] == two["order"] and sorted(one["order"]) == sorted(deck["order"])
    assert any(shuffle(deck, s)["order"] != deck["order"] for s in range(5))
    assert one["cards"] == deck["cards"]


@pytest.mark.parametrize("raw", [None, "junk", 3, [], {"version": 99}, {"version": 1, "cards": "x"},
                                 {"version": 1, "cards": {"a": {"ease": "high", "due": -5}, "zzz": {}},
                                  "order": ["zzz", "c", "c"], "reviews": -1, "recall_streak": True}])
def test_load_deck_repairs_whatever_the_browser_sends(raw):
    deck = load_deck(raw, IDS)
    assert sorted(deck["cards"]) == IDS and sorted(deck["order"]) == IDS
    assert deck["reviews"] >= 0 and isinstance(deck["recall_streak"], int)
    assert next_card(deck, NOW) in IDS


def test_load_deck_keeps_good_progress_and_adds_new_cards():
    deck = record(new_deck(IDS), "b", GOOD, NOW)
    loaded = load_deck(json.loads(json.dumps(deck)), IDS + ["d"])
    assert loaded["cards"]["b"] == deck["cards"]["b"] and "d" in loaded["cards"]
    assert loaded["order"] == IDS + ["d"]


def test_self_grades_summary():
    marks = set_mark(set_mark({}, "q1", "got"), "q3", "missed")
    marks = set_mark(marks, "q1", "partly")
    s = summarise_marks(marks, ["q1", "q2", "q3"])
    assert (s.got, s.partly, s.missed, s.todo) == ([], ["q1"], ["q3"], ["q2"])
    assert load_marks({"q1": "got", "q9": "got", "q2": "perfect"}, ["q1", "q2"]) == {"q1": "got"}
    assert load_marks("junk", ["q1"]) == {}
    with pytest.raises(ValueError):
        set_mark({}, "q1", "great")
