"""The Quiz tab's flashcards: the spaced-repetition deck (flip, grade, shuffle, reset), print and the PDF and Anki
downloads. ui/quiz_tab.py lays them out and wires them."""
from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import gradio as gr

from quiz import progress as prog
from quiz import render
from quiz.anki import write_apkg
from quiz.bank import default_bank
from quiz.pdf import write_pdf
from quiz.scheduler import GRADE_NAMES, GRADES, CardState, format_interval, next_intervals
from web import downloads

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def render_view(deck: dict, current: dict, now: float) -> tuple[str, str, list[str], str]:
    """Plain values for the view: card HTML, stats markdown, grade button labels, flip label."""
    bank = default_bank()
    card_id, flipped = current.get("card"), bool(current.get("flipped"))
    stats = prog.deck_stats(deck, now)
    if card_id is None:
        html = render.caught_up_html(stats.next_due_in)
    else:
        html = render.card_html(bank.card(card_id), bank.card_ids.index(card_id) + 1, len(bank.cards), flipped)
    ivl = next_intervals(CardState.from_dict(deck["cards"][card_id])) if card_id else {g: 0.0 for g in GRADES}
    labels = [f"{GRADE_NAMES[g]} ({g}) · {'1 min' if g == 1 else format_interval(ivl[g])}" for g in GRADES]
    return html, render.stats_md(stats), labels, "Flip back (Space)" if flipped else "Flip (Space)"


VIEW = ("current", "card", "stats", "flip", *(f"grade{g}" for g in GRADES))  # what _view names (quiz_tab maps them)


def _view(deck: dict, current: dict, now: float) -> dict[str, Any]:
    """Current card state, card HTML, stats, flip button, four grade buttons (labelled with intervals), by VIEW's
    names."""
    html, stats, labels, flip_label = render_view(deck, current, now)
    has_card, flipped = current.get("card") is not None, bool(current.get("flipped"))
    grades = {f"grade{g}": gr.Button(value=label, interactive=flipped and has_card) for g, label in zip(GRADES, labels)}
    return {"current": {**current, "ready": True}, "card": html, "stats": stats,
            "flip": gr.Button(value=flip_label, interactive=has_card), **grades}


def _deck(raw: Any) -> dict:
    return prog.load_deck(raw, default_bank().card_ids)


def _current(raw: Any, deck: dict) -> dict:
    if isinstance(raw, dict) and raw.get("card") in deck["cards"]:
        return {"card": raw["card"], "flipped": bool(raw.get("flipped"))}
    return {"card": None, "flipped": False}


def _next(deck: dict, now: float, ahead: bool = False) -> dict[str, Any]:
    """The deck (to store, as "deck") and the view of the next card to study."""
    return {"deck": deck, **_view(deck, {"card": prog.next_card(deck, now, ahead=ahead), "flipped": False}, now)}


def fc_restore(deck_raw: Any, current_raw: Any) -> dict[str, Any]:
    """When the browser store loads saved progress, show it, unless this page already moved on (nothing sent)."""
    if isinstance(current_raw, dict) and current_raw.get("ready"):
        return {}
    shown = _next(_deck(deck_raw), time.time())
    del shown["deck"]  # the store just gave it: writing it back would fire this change again
    return shown


def fc_flip(deck_raw: Any, current_raw: Any) -> dict[str, Any]:
    """Turn the card over (or back)."""
    deck = _deck(deck_raw)
    current = _current(current_raw, deck)
    if current["card"] is not None:
        current["flipped"] = not current["flipped"]
    return _view(deck, current, time.time())


def _grade(deck_raw: Any, current_raw: Any, g: int) -> dict[str, Any]:
    deck, now = _deck(deck_raw), time.time()
    current = _current(current_raw, deck)
    if current["card"] is None or not current["flipped"]:
        return _view(deck, current, now)  # grading needs a flipped card: the stored deck is left as it is
    return _next(prog.record(deck, current["card"], g, now), now)


def fc_again(deck_raw: Any, current_raw: Any) -> dict[str, Any]:
    """Grade 1: forgot it; the card comes back in a minute."""
    return _grade(deck_raw, current_raw, 1)


def fc_hard(deck_raw: Any, current_raw: Any) -> dict[str, Any]:
    """Grade 2: recalled with effort."""
    return _grade(deck_raw, current_raw, 2)


def fc_good(deck_raw: Any, current_raw: Any) -> dict[str, Any]:
    """Grade 3: recalled."""
    return _grade(deck_raw, current_raw, 3)


def fc_easy(deck_raw: Any, current_raw: Any) -> dict[str, Any]:
    """Grade 4: recalled at once."""
    return _grade(deck_raw, current_raw, 4)


def fc_shuffle(deck_raw: Any) -> dict[str, Any]:
    """Shuffle which due card comes first."""
    return _next(prog.shuffle(_deck(deck_raw), random.randrange(2**31)), time.time())


def fc_ahead(deck_raw: Any) -> dict[str, Any]:
    """Review the soonest card even if it is not due yet."""
    return _next(_deck(deck_raw), time.time(), ahead=True)


def fc_reset_ask() -> Any:
    """Ask before wiping progress."""
    return gr.Row(visible=True)


def fc_reset_cancel() -> Any:
    """Keep progress."""
    return gr.Row(visible=False)


def fc_reset() -> dict[str, Any]:
    """Start the deck over: every card new, streaks at zero (and the confirmation row closes)."""
    return {**_next(prog.new_deck(default_bank().card_ids), time.time()), "confirm": gr.Row(visible=False)}


# ---------- print and export ----------

def _export(name: str, writer: Any) -> str:
    """An export written once per card text, in the capped downloads folder every file handed out uses."""
    bank = default_bank()
    cards = json.dumps([[c.id, c.front, c.back, c.tags] for c in bank.cards])  # as shown, figures filled
    key = hashlib.sha256(cards.encode("utf-8")).hexdigest()[:12]
    return str(downloads.kept_file(key, name, lambda path: writer(bank, path)))


def anki_deck() -> str:
    """The nine flashcards as an Anki package (.apkg) to download and import."""
    return _export("finetune-studio-flashcards.apkg", write_apkg)


def flashcards_pdf() -> str:
    """The flashcards as a print-ready PDF: one page per card side, question then answer."""
    return _export("finetune-studio-flashcards.pdf", write_pdf)


def print_js() -> str:
    """Client-side code that lays the cards out with the print stylesheet and opens the print dialog."""
    code = asset("print_cards.js").split("\n", 1)[1]  # drop the comment line
    return (code.replace("__PRINT_CSS__", json.dumps(asset("print.css")))
            .replace("__PRINT_SHEET__", json.dumps(render.print_sheet_html(default_bank()))))
