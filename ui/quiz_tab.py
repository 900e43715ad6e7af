"""The Quiz & Flashcards tab: answer-then-reveal quiz and exercises, spaced-repetition cards, print and Anki."""
from __future__ import annotations

import time
from typing import Any

import gradio as gr

from quiz import progress as prog
from quiz import render, seed_spread
from quiz.bank import default_bank
from quiz.grading import grade
from quiz.scheduler import GRADES
from trainer_backend import presets
from trainer_backend.runs.store import RunStore
from ui.common import AppContext, by_component, error_toast, visitor_of
from ui.quiz_cards import (
    VIEW,
    anki_deck,
    asset,
    fc_again,
    fc_ahead,
    fc_easy,
    fc_flip,
    fc_good,
    fc_hard,
    fc_reset,
    fc_reset_ask,
    fc_reset_cancel,
    fc_restore,
    fc_shuffle,
    flashcards_pdf,
    print_js,
    render_view,
)
from web.access import AccessError

# BrowserState encrypts with this key; a fixed one keeps progress readable across server restarts.
# It is obfuscation only: the stored progress is the visitor's own and not sensitive.
PROGRESS_SECRET = "finetune-studio/quiz-progress/v1"
MARKS_KEY, DECK_KEY = "finetune-studio-quiz-marks", "finetune-studio-flashcards"


def _item_ids() -> list[str]:
    bank = default_bank()
    return [q.id for q in bank.questions + bank.exercises]


# ---------- quiz and exercises ----------

def quiz_feedback(question_id: str, answer: str, dont_know: bool) -> dict[str, str]:
    """Our model answer and a checklist of the key ideas found in the learner's answer."""
    try:
        item = default_bank().item(question_id)
    except KeyError:
        raise error_toast(f"Unknown question {question_id!r}.") from None
    answer = answer or ""
    if not answer.strip() and not dont_know:
        raise gr.Error("Write an attempt first, or tick “I don't know yet”.")
    return {"model_answer": render.model_answer_md(item), "feedback": render.feedback_md(grade(item, answer))}


def reveal_gate(answer: str, dont_know: bool) -> Any:
    """Reveal opens only after an attempt or an explicit “I don't know”."""
    return gr.Button(interactive=bool((answer or "").strip()) or bool(dont_know))


def show_revealed() -> Any:
    """Open the model answer, the feedback and the self-grade buttons."""
    return gr.Column(visible=True)


def choose_question(question_id: str) -> dict[str, Any]:
    """Show a question with a blank answer and the reveal closed."""
    bank = default_bank()
    item = bank.item(question_id)
    number = [q.id for q in bank.questions].index(question_id) + 1
    return {"prompt": render.prompt_md(item, number), "answer": gr.Textbox(value=""),
            "dont_know": gr.Checkbox(value=False), "reveal": gr.Button(interactive=False),
            "revealed": gr.Column(visible=False), "model_answer": "", "feedback": ""}


def next_question(question_id: str, marks_raw: Any) -> str:
    """The next question the learner has not graded yet (or simply the next one)."""
    ids = [q.id for q in default_bank().questions]
    marks = prog.load_marks(marks_raw, _item_ids())
    start = ids.index(question_id) if question_id in ids else -1
    rotated = ids[start + 1:] + ids[:start + 1]
    return next((i for i in rotated if i not in marks), rotated[0])


def _mark(item_id: str, marks_raw: Any, mark: str) -> dict[str, Any]:
    marks = prog.set_mark(prog.load_marks(marks_raw, _item_ids()), item_id, mark)
    return {"marks": marks, "summary": render.marks_md(prog.summarise_marks(marks, _item_ids()), default_bank())}


def mark_got(item_id: str, marks_raw: Any) -> dict[str, Any]:
    """Self-grade: got it."""
    return _mark(item_id, marks_raw, "got")


def mark_partly(item_id: str, marks_raw: Any) -> dict[str, Any]:
    """Self-grade: partly."""
    return _mark(item_id, marks_raw, "partly")


def mark_missed(item_id: str, marks_raw: Any) -> dict[str, Any]:
    """Self-grade: missed."""
    return _mark(item_id, marks_raw, "missed")


MARK_HANDLERS = (("got", mark_got), ("partly", mark_partly), ("missed", mark_missed))


def _seed_spread_handler(store: RunStore | None):
    def exercise_seed_spread(browser_id: Any = None, request: gr.Request = None,
                             profile: gr.OAuthProfile | None = None) -> str:
        """Part B on the visitor's own finished seed-spread runs: the gap in points and pairs, against the noise.
        A signed-in visitor's runs are owned by their Hub name, so the sign-in identifies them here too."""
        try:
            visitor = visitor_of(browser_id, request, profile)
        except AccessError as err:
            raise gr.Error(str(err)) from None
        runs = (store or RunStore()).list(seed_spread.DONE, owner=visitor.runs_owner)
        return seed_spread.report(runs)

    return exercise_seed_spread


# ---------- the checklist of questions ----------

def picker_choices(marks: dict[str, str]) -> list[tuple[str, str]]:
    """Question list labels, each with the learner's self-grade mark once they have one."""
    return [(f"{render.mark_label(marks[q.id])[0] + ' ' if q.id in marks else ''}{n}. {q.topic}", q.id)
            for n, q in enumerate(default_bank().questions, 1)]


def show_marks(marks_raw: Any) -> dict[str, Any]:
    """The quiz summary and the marked question list, from self-grades kept in the browser."""
    marks = prog.load_marks(marks_raw, _item_ids())
    summary = render.marks_md(prog.summarise_marks(marks, _item_ids()), default_bank())
    return {"summary": summary, "picker": gr.Radio(choices=picker_choices(marks))}


# ---------- layout ----------

def _answer_block() -> tuple:
    """Answer box, gated Reveal, model answer + checklist, self-grade buttons. Returns the pieces."""
    answer = gr.Textbox(label="Your answer", lines=4, max_lines=12,
                        placeholder="Write it in your own words first. Rough is fine.")
    with gr.Row():
        dont_know = gr.Checkbox(label="I don't know yet: show me", value=False, scale=2)
        reveal = gr.Button("Reveal", variant="primary", interactive=False, scale=1)
    with gr.Column(visible=False) as revealed:
        model_md = gr.Markdown()
        feedback = gr.Markdown()
        gr.Markdown("**How did it go?** Grade yourself:")
        with gr.Row():
            mark_buttons = [(gr.Button(render.mark_label(m), size="sm"), fn) for m, fn in MARK_HANDLERS]
    return answer, dont_know, reveal, revealed, model_md, feedback, mark_buttons


def _wire_answer_block(item_input: Any, parts: tuple, marks_store: Any, summary: Any, api_name: str | bool) -> None:
    """Reveal gating, feedback (named endpoint when `api_name`), self-grades into the browser store."""
    answer, dont_know, reveal, revealed, model_md, feedback, mark_buttons = parts
    gr.on([answer.change, dont_know.change], reveal_gate, [answer, dont_know], reveal, api_name=False,
          show_progress="hidden", queue=False)
    shown = {"model_answer": model_md, "feedback": feedback}  # the endpoint answers (model answer, feedback)
    reveal.click(by_component(quiz_feedback, shown), [item_input, answer, dont_know], list(shown.values()),
                 api_name=api_name).success(show_revealed, None, revealed, api_name=False, show_progress="hidden")
    marked = {"marks": marks_store, "summary": summary}
    for button, fn in mark_buttons:
        button.click(by_component(fn, marked), [item_input, marks_store], list(marked.values()), api_name=False,
                     show_progress="hidden")


def _seed_spread_panel(ctx: AppContext | None) -> None:
    """Part B, live: read the visitor's own seed-spread runs against the noise of the validation split."""
    with gr.Accordion("Your own seed-spread runs, read against the noise", open=False):
        read = gr.Button("Read my seed-spread runs", size="sm", elem_id="quiz-seed-spread")
        out = gr.Markdown(elem_id="quiz-seed-spread-report")
    store, visitor = getattr(getattr(ctx, "services", None), "store", None), getattr(ctx, "visitor", None)
    read.click(_seed_spread_handler(store), visitor, out, api_name="exercise_seed_spread")


def build(ctx: AppContext | None = None) -> None:
    """Create the tab's components inside the current Blocks."""
    bank = default_bank()
    marks_store = gr.BrowserState({}, storage_key=MARKS_KEY, secret=PROGRESS_SECRET)
    deck_store = gr.BrowserState(None, storage_key=DECK_KEY, secret=PROGRESS_SECRET)
    first = {"card": bank.cards[0].id, "flipped": False, "ready": False}
    html0, stats0, labels0, _ = render_view(prog.new_deck(bank.card_ids), first, time.time())
    current = gr.State(first)
    gr.Markdown("Test yourself on the fine-tuning recipe: write an answer, then compare. "
                "Your progress stays in this browser only.")
    summary = gr.Markdown(render.marks_md(prog.summarise_marks({}, _item_ids()), bank), elem_id="quiz-summary")
    with gr.Tabs(elem_id="quiz-subtabs", overflow_behavior="wrap"):  # on a phone: a second row, never a menu
        with gr.Tab("Questions", id="quiz-questions"):
            with gr.Row():
                with gr.Column(scale=1, min_width=220):
                    picker = gr.Radio(picker_choices({}), value=bank.questions[0].id, label="Question",
                                      elem_id="quiz-picker")
                with gr.Column(scale=3):
                    prompt = gr.Markdown(render.prompt_md(bank.questions[0], 1), elem_id="quiz-prompt")
                    parts = _answer_block()
                    next_btn = gr.Button("Next question →", size="sm")
            _wire_answer_block(picker, parts, marks_store, summary, "quiz_feedback")
            answer, dont_know, reveal, revealed, model_md, feedback, _ = parts
            asked = {"prompt": prompt, "answer": answer, "dont_know": dont_know, "reveal": reveal,
                     "revealed": revealed, "model_answer": model_md, "feedback": feedback}
            picker.change(by_component(choose_question, asked), picker, list(asked.values()), api_name=False,
                          show_progress="hidden")
            next_btn.click(next_question, [picker, marks_store], picker, api_name=False, show_progress="hidden")

        with gr.Tab("Exercises", id="quiz-exercises"):
            gr.Markdown("Three questions about real runs. Reason it out, reveal, then watch it happen on the Train tab.")
            for ex in bank.exercises:
                with gr.Group(elem_classes="quiz-exercise"):
                    gr.Markdown(render.prompt_md(ex))
                    item_id = gr.State(ex.id)
                    ex_parts = _answer_block()
                    train_btn = gr.Button(ex.train_button, variant="secondary", interactive=ctx is not None)
                _wire_answer_block(item_id, ex_parts, marks_store, summary, False)
                if ctx is not None:
                    ctx.link_to_train(train_btn, getattr(presets, ex.train_preset))
                if ex.id == "part_b_seed_spread":
                    _seed_spread_panel(ctx)

        with gr.Tab("Flashcards", id="quiz-flashcards"):
            stats = gr.Markdown(stats0, elem_id="fc-stats")
            card = gr.HTML(html0, elem_id="fc-card", css_template=asset("flashcards.css"),
                           js_on_load=asset("flashcards.js"))
            flip = gr.Button("Flip (Space)", variant="primary", elem_id="fc-flip")
            with gr.Row():
                grade_buttons = [gr.Button(label, interactive=False, elem_id=f"fc-grade-{g}", elem_classes=["fc-grade"])
                                 for g, label in zip(GRADES, labels0)]
            with gr.Row():
                shuffle_btn = gr.Button("⇄ Shuffle", size="sm")
                ahead_btn = gr.Button("Practise ahead", size="sm")
                reset_btn = gr.Button("Reset progress", size="sm", variant="stop")
            with gr.Row(visible=False) as confirm_row:
                gr.Markdown("Forget all flashcard progress in this browser?")
                reset_yes = gr.Button("Yes, reset", size="sm", variant="stop", elem_id="fc-reset-yes")
                reset_no = gr.Button("Cancel", size="sm")
            gr.Markdown("<sub>Keys: Space flips · 1 Again · 2 Hard · 3 Good · 4 Easy. A spaced-repetition "
                        "schedule (FSRS, Anki's default) decides when each card comes back.</sub>")

        with gr.Tab("Print & Anki", id="quiz-export"):
            gr.Markdown("Take the nine cards offline: print them (one card per page, the question, then its "
                        "answer on the next page) or import them into Anki. One click downloads the file.")
            with gr.Row():
                # Each export is its own download button: one click gives the file, and neither replaces the other.
                pdf_btn = gr.DownloadButton("Flashcards as PDF", value=flashcards_pdf, variant="primary",
                                            elem_id="fc-print-pdf")
                anki_btn = gr.DownloadButton("Anki deck (.apkg)", value=anki_deck, elem_id="fc-anki")
                print_btn = gr.Button("Open print view", elem_id="fc-print-view")

    view = dict(zip(VIEW, (current, card, stats, flip, *grade_buttons), strict=True))
    stored = {"deck": deck_store, **view}
    hidden = {"api_name": False, "show_progress": "hidden"}
    flip.click(by_component(fc_flip, view), [deck_store, current], list(view.values()), **hidden)
    card.click(by_component(fc_flip, view), [deck_store, current], list(view.values()), **hidden)
    for button, fn in zip(grade_buttons, (fc_again, fc_hard, fc_good, fc_easy)):
        button.click(by_component(fn, stored), [deck_store, current], list(stored.values()), **hidden)
    shuffle_btn.click(by_component(fc_shuffle, stored), deck_store, list(stored.values()), **hidden)
    ahead_btn.click(by_component(fc_ahead, stored), deck_store, list(stored.values()), **hidden)
    reset_btn.click(fc_reset_ask, None, confirm_row, **hidden)
    reset_no.click(fc_reset_cancel, None, confirm_row, **hidden)
    reset = stored | {"confirm": confirm_row}
    reset_yes.click(by_component(fc_reset, reset), None, list(reset.values()), **hidden)
    # BrowserState reads localStorage when it mounts (the first time this tab opens) and then fires change.
    deck_store.change(by_component(fc_restore, view), [deck_store, current], list(view.values()), **hidden)
    summed = {"summary": summary, "picker": picker}
    marks_store.change(by_component(show_marks, summed), marks_store, list(summed.values()), **hidden)
    # The buttons already hold their files (computed at page load); the click events keep the named API endpoints.
    pdf_btn.click(flashcards_pdf, None, pdf_btn, api_name="flashcards_pdf", show_progress="hidden")
    anki_btn.click(anki_deck, None, anki_btn, api_name="anki_deck", show_progress="hidden")
    print_btn.click(None, None, None, js=print_js())


if __name__ == "__main__":
    from ui.theme import CSS, THEME

    with gr.Blocks(title="Quiz & Flashcards") as demo:
        build(None)
    demo.launch(theme=THEME, css=CSS)
