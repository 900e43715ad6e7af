"""The Quiz tab's handlers and views without a browser: gating, flashcard flow, restore, exports, rendering."""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest

from quiz import render
from quiz.bank import Card, default_bank
from quiz.grading import COVERED, MISSED, PARTLY, Feedback, IdeaResult
from quiz.progress import deck_stats, new_deck, summarise_marks
from quiz.scheduler import GOOD, CardState, format_interval, next_intervals
from ui import quiz_tab as tab
from ui.quiz_cards import VIEW

GOOD_FIRST = format_interval(next_intervals(CardState())[GOOD])  # what FSRS gives a new card for Good


def test_reveal_is_gated_on_an_attempt_or_i_dont_know():
    assert tab.reveal_gate("", False).interactive is False
    assert tab.reveal_gate("  ", False).interactive is False
    assert tab.reveal_gate("pads per batch", False).interactive is True
    assert tab.reveal_gate("", True).interactive is True
    with pytest.raises(gr.Error, match="attempt first"):
        tab.quiz_feedback("dynamic_padding", " ", False)
    with pytest.raises(gr.Error, match="Unknown question"):
        tab.quiz_feedback("nope", "x", False)


def test_i_dont_know_reveals_the_answer_and_the_ideas_to_look_for():
    shown = tab.quiz_feedback("training_arguments", "", True)
    model, feedback = shown["model_answer"], shown["feedback"]
    assert "`output_dir` falls back to" in model
    assert "Key ideas to look for" in feedback and feedback.count("○") == 4


def test_choose_and_next_question():
    asked = tab.choose_question("logits_to_labels")
    assert asked["prompt"].startswith("### 6. From logits to labels")
    assert asked["answer"].value == "" and asked["revealed"].visible is False and asked["feedback"] == ""
    assert tab.next_question("dynamic_padding", {}) == "head_swap_warning"
    marks = {"head_swap_warning": "got", "training_arguments": "partly"}
    assert tab.next_question("dynamic_padding", marks) == "trainer_inputs"
    assert tab.next_question("compute_metrics", None) == "trainer_results"
    assert tab.next_question("trainer_results", None) == "dynamic_padding"


def test_self_grade_updates_store_and_summary():
    marked = tab.mark_partly("compute_metrics", {"dynamic_padding": "got"})
    marks, summary = marked["marks"], marked["summary"]
    assert marks == {"dynamic_padding": "got", "compute_metrics": "partly"}
    assert "✓ 1 got it · ◐ 1 partly" in summary and "Worth another look: compute_metrics" in summary
    both = tab.show_marks(marks)
    shown, picker = both["summary"], both["picker"]
    assert shown == summary
    labels = dict((v, k) for k, v in picker.choices)
    assert labels["dynamic_padding"] == "✓ 1. Dynamic padding" and labels["loss_not_enough"] == "5. Why loss is not enough"


def test_flashcard_flow_flip_grade_and_restore():
    first = {"card": "what_is_finetuning", "flipped": False, "ready": False}
    flipped = tab.fc_flip(None, first)
    assert set(flipped) == set(VIEW)
    current, html, grades = flipped["current"], flipped["card"], [flipped[f"grade{g}"] for g in (1, 2, 3, 4)]
    assert current["flipped"] and current["ready"] and "fc-back" in html
    assert all(g.interactive for g in grades) and grades[2].value == f"Good (3) · {GOOD_FIRST}"
    graded = tab.fc_good(None, current)
    deck, current = graded["deck"], graded["current"]
    assert deck["cards"]["what_is_finetuning"]["reps"] == 1
    assert current == {"card": "data_collator", "flipped": False, "ready": True}
    assert "**1** of 11 learned" in graded["stats"]
    # grading an unflipped card changes nothing: the stored deck is not sent
    still = tab.fc_again(deck, current)
    assert "deck" not in still and still["current"] == current
    # a page that already shows a card ignores the store's late "change"; a fresh page restores
    assert tab.fc_restore(deck, current) == {}
    restored = tab.fc_restore(json.loads(json.dumps(deck)), {"card": "what_is_finetuning", "ready": False})
    assert "deck" not in restored
    assert restored["current"]["card"] == "data_collator" and "**1** of 11 learned" in restored["stats"]


def test_reset_and_shuffle_and_ahead():
    deck = new_deck(default_bank().card_ids)
    for cid in default_bank().card_ids:
        deck = tab.fc_good(deck, {"card": cid, "flipped": True})["deck"]
    out = tab.fc_shuffle(deck)
    assert out["current"]["card"] is None and "All caught up" in out["card"]
    ahead = tab.fc_ahead(deck)
    assert ahead["current"]["card"] in default_bank().card_ids
    reset = tab.fc_reset()
    assert deck_stats(reset["deck"], 0).new == 11 and reset["confirm"].visible is False


def test_exports_and_print_js():
    assert Path(tab.anki_deck()).suffix == ".apkg" and Path(tab.anki_deck()).exists()
    assert Path(tab.flashcards_pdf()).suffix == ".pdf"
    js = tab.print_js()
    assert "__PRINT_" not in js and js.lstrip().startswith("() =>") and "@media print" in js
    assert js.count("fc-print-side") >= 18


def test_card_html_escapes_and_shows_back_only_when_flipped():
    card = Card("x", "Is <b>this</b> `code`?", "Yes & no", ("t1",))
    front = render.card_html(card, 2, 9, flipped=False)
    assert "&lt;b&gt;" in front and "<code>code</code>" in front and "Yes" not in front
    assert "Card 2 of 9" in front and "#t1" in front
    assert "Yes &amp; no" in render.card_html(card, 2, 9, flipped=True)


def test_feedback_markdown_is_a_gentle_checklist():
    fb = Feedback("q", True, (IdeaResult("a", "Idea A", COVERED, 0.8, True, "I said *A*"),
                              IdeaResult("b", "Idea B", PARTLY, 0.5, False, "sort of B"),
                              IdeaResult("c", "Idea C", MISSED, 0.1, False)), ("A note.",))
    md = render.feedback_md(fb)
    assert "✓ **Idea A** — stated in your answer" in md and r"I said \*A\*" in md
    assert "◐ **Idea B** — partly there" in md and "○ **Idea C** — not in your answer yet" in md
    assert "You touched 1 of 3 key ideas and got close on 1" in md and "> A note." in md
    assert "%" not in md and "/10" not in md
    assert "reads English best" in md and "may miss a right idea" in md    # says what it cannot judge
    assert "first look" in md and "{" not in md                              # with the measured figure


def test_feedback_says_why_an_idea_is_only_partly_or_missed():
    fb = Feedback("q", True, (IdeaResult("a", "Idea A", PARTLY, 0.4, False, "near", "unsure"),
                              IdeaResult("b", "Idea B", PARTLY, 0.0, True, "topic", "untrained"),
                              IdeaResult("c", "Idea C", MISSED, 0.7, True, None, "misconception")), ("Why C.",))
    md = render.feedback_md(fb)
    assert "the checker is not sure: compare with our answer" in md and "not trained on this idea" in md
    assert "your answer says something else: see the note below" in md and "> Why C." in md


def test_marks_summary_when_everything_is_done():
    ids = ["a", "b"]
    assert "All done" in render.marks_md(summarise_marks({"a": "got", "b": "got"}, ids), default_bank())


def test_the_wired_quiz_events_answer_their_own_outputs():
    from ui.common import AppContext

    with gr.Blocks() as demo:
        tab.build(AppContext())
    calls = {"fc_flip": (None, {"card": "what_is_finetuning", "flipped": False}), "fc_reset": (),
             "fc_shuffle": (None,), "choose_question": ("logits_to_labels",), "show_marks": ({},),
             "mark_got": ("dynamic_padding", {}), "quiz_feedback": ("training_arguments", "", True)}
    for f in demo.fns.values():
        name = getattr(f.fn, "__name__", "")
        if name in calls:
            answer = f.fn(*calls.pop(name))
            assert answer and {c._id for c in answer} <= {o._id for o in f.outputs}, name
    assert calls == {}
