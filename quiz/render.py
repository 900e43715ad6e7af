"""Plain-text views of quiz state: checklist markdown, card HTML, deck stats, the print sheet."""
from __future__ import annotations

import html

from quiz.bank import Bank, Card, Question
from quiz.grading import COVERED, PARTLY, Feedback
from quiz.progress import SELF_GRADES, DeckStats, MarkSummary
from quiz.scheduler import format_interval
from trainer_backend.textsafe import code_html, md_escape

# Plain symbols (not emoji) so they render in every browser font.
_MARK_ICON = {"got": "✓", "partly": "◐", "missed": "↻"}
_STATUS = {COVERED: ("✓", "stated in your answer"), PARTLY: ("◐", "partly there"), "missed": ("○", "not in your answer yet")}
_PARTLY_WHY = {"unsure": "the checker is not sure: compare with our answer",
               "contradicts": "a sentence of yours seems to say something else: compare with our answer",
               "untrained": "the checker was not trained on this idea yet: compare with our answer"}
# What the checker can and cannot judge, in plain words; the figures are from bench/grading_agreement.py.
HOW_IT_CHECKS = (
    "How this was checked: a small model fine-tuned for the job, the way the Lesson teaches, reads your whole "
    "answer and each of its sentences and judges each key idea; where it is unsure it says so instead of "
    "guessing. A few common wrong beliefs are caught by exact patterns, which can only keep an idea open, never "
    "tick it. It reads English best and may miss a right idea in very unusual words. On 220 learner answers "
    "written after it was frozen it agreed with a teacher on 725 of 780 key-idea judgements (first look), "
    "marked no idea of a right answer as missing and gave credit to 6 of 110 fluent, subtly wrong answers for "
    "at least one idea; it often says \"compare with our answer\" where it is unsure, right one-line answers "
    "included. A guide, not a mark: our answer above is the reference.")


def _md_quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return md_escape(text)


def prompt_md(item: Question, number: int | None = None) -> str:
    """The question as markdown, with its number when it is part of the quiz."""
    head = f"### {number}. {item.topic}" if number else f"### {item.topic}"
    return f"{head}\n\n{item.prompt}"


def model_answer_md(item: Question) -> str:
    """Our model answer as markdown."""
    return f"#### Our answer\n\n{item.model_answer}"


def feedback_md(fb: Feedback) -> str:
    """The checklist of key ideas: covered, partly, not yet; with the learner's closest sentence."""
    lines = ["#### Key ideas, checked against your words" if fb.attempted else "#### Key ideas to look for"]
    for r in fb.results:
        icon, words = _STATUS[r.status]
        if r.status == PARTLY and r.basis in _PARTLY_WHY:
            words = _PARTLY_WHY[r.basis]
        elif r.status == "missed" and r.basis == "misconception":
            words = "your answer says something else: see the note below"
        line = f"- {icon} **{r.label}** — {words}" if fb.attempted else f"- ○ **{r.label}**"
        if r.evidence and fb.attempted:
            line += f"  \n  *you wrote:* “{_md_quote(r.evidence)}”"
        lines.append(line)
    if fb.attempted:
        n, total = len(fb.covered), len(fb.results)
        if n == total:
            lines.append(f"\nYou touched all {total} key ideas. Compare the wording with our answer above.")
        else:
            lines.append(f"\nYou touched {n} of {total} key ideas"
                         f"{' and got close on ' + str(len(fb.partly)) if fb.partly else ''}. "
                         "Read our answer for the rest, then grade yourself honestly below.")
    for note in fb.notes:
        lines.append(f"\n> {note}")
    lines.append(f"\n<sub>{HOW_IT_CHECKS}</sub>")
    return "\n".join(lines)


def marks_md(summary: MarkSummary, bank: Bank) -> str:
    """Where the learner stands after self-grading."""
    topics = {q.id: q.topic for q in bank.questions + bank.exercises}
    counts = (f"✓ {len(summary.got)} got it · ◐ {len(summary.partly)} partly · "
              f"↻ {len(summary.missed)} missed · ○ {len(summary.todo)} to go")
    text = f"**Where you stand** (your own grades, kept in this browser): {counts}"
    again = [topics[i] for i in summary.missed + summary.partly]
    if again:
        text += "  \nWorth another look: " + ", ".join(again) + "."
    elif not summary.todo:
        text += "  \nAll done: the flashcards will keep these ideas fresh."
    return text


def mark_label(mark: str) -> str:
    """Button text for a self-grade, e.g. '✓ Got it'."""
    return f"{_MARK_ICON[mark]} {SELF_GRADES[mark]}"


def card_html(card: Card, position: int, total: int, flipped: bool) -> str:
    """One flashcard; the back is shown only once flipped."""
    tags = " ".join(f"<span class='fc-tag'>#{html.escape(t)}</span>" for t in card.tags)
    back = (f"<div class='fc-divider'></div><div class='fc-back'>{code_html(card.back)}</div>" if flipped else "")
    hint = ("How well did you recall it? Press 1 Again · 2 Hard · 3 Good · 4 Easy" if flipped
            else "Recall the answer, then click the card or press Space to flip")
    return (f"<div class='fc-card{' fc-flipped' if flipped else ''}' data-card='{html.escape(card.id)}' "
            f"data-flipped='{int(flipped)}' role='button' tabindex='0' aria-label='Flashcard: click to flip'>"
            f"<div class='fc-meta'><span>Card {position} of {total}</span>{tags}</div>"
            f"<div class='fc-front'>{code_html(card.front)}</div>{back}"
            f"<div class='fc-hint'>{hint}</div></div>")


def caught_up_html(next_due_in: float | None) -> str:
    """Shown when no card is due."""
    when = f" The next card is due in {format_interval(next_due_in / 86_400)}." if next_due_in else ""
    return ("<div class='fc-card fc-done' data-card='' data-flipped='0'><div class='fc-front'>All caught up!</div>"
            f"<div class='fc-hint'>Nothing is due right now.{when} Come back later, or press "
            "“Practise ahead” to review early.</div></div>")


def stats_md(s: DeckStats) -> str:
    """The counters above the card."""
    return (f"**{s.due}** due now · **{s.learned}** of {s.total} learned · **{s.new}** new · "
            f"streak: **{s.recall_streak}** recalled in a row, **{s.day_streak}** day{'s' if s.day_streak != 1 else ''}"
            f" · {s.reviews} review{'s' if s.reviews != 1 else ''}")


def print_sheet_html(bank: Bank) -> str:
    """Every card as two printable sides (front page, then answer page), for the print stylesheet."""
    total = len(bank.cards)
    pages = []
    for n, card in enumerate(bank.cards, start=1):
        for side, text in (("Question", card.front), ("Answer", card.back)):
            pages.append(f"<section class='fc-print-side fc-print-{side.lower()}'>"
                         f"<div class='fc-print-meta'>Card {n} of {total} · {side}</div>"
                         f"<div class='fc-print-text'>{code_html(text)}</div></section>")
    return "<div class='fc-print-sheet'>" + "".join(pages) + "</div>"
