"""Anki export: the flashcards as a .apkg deck (genanki) with stable model, deck and note ids."""
from __future__ import annotations

from pathlib import Path

import genanki

from quiz.bank import Bank, Card
from trainer_backend.textsafe import code_html

MODEL_ID = 1_734_502_611  # fixed forever: Anki matches re-imports by these ids
DECK_ID = 2_059_318_447
DECK_NAME = "Fine-tuning studio::BERT on MRPC"
BASE_TAGS = ("finetune-studio", "bert-mrpc")
TIMESTAMP = 1_735_689_600.0  # fixed, so the same bank gives the same deck

_CSS = """.card { font-family: system-ui, sans-serif; font-size: 20px; line-height: 1.45; color: #1f2937;
  background: #fff; max-width: 38em; margin: 0 auto; padding: 0.5em; text-align: left; }
.front { font-weight: 600; }
code { font-family: ui-monospace, monospace; background: #eef2ff; padding: 0 0.2em; border-radius: 3px; }
hr#answer { border: 0; border-top: 2px solid #6366f1; margin: 1em 0; }
.nightMode .card, .card.nightMode { color: #e5e7eb; background: #111827; }
.nightMode code { background: #312e81; }"""

MODEL = genanki.Model(
    MODEL_ID, "Fine-tuning studio card",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "CardId"}],
    templates=[{"name": "Card 1",
                "qfmt": '<div class="front">{{Front}}</div>',
                "afmt": '{{FrontSide}}<hr id="answer"><div class="back">{{Back}}</div>'}],
    css=_CSS, sort_field_index=2,
)


def note_for(card: Card) -> genanki.Note:
    """One Anki note per card; its guid comes from the card id, so edits update rather than duplicate."""
    tags = list(dict.fromkeys(BASE_TAGS + card.tags))
    return genanki.Note(model=MODEL, fields=[code_html(card.front), code_html(card.back), card.id],
                        tags=tags, guid=genanki.guid_for("finetune-studio", card.id))


def build_deck(bank: Bank) -> genanki.Deck:
    """A genanki deck with every card of the bank."""
    deck = genanki.Deck(DECK_ID, DECK_NAME, description="Flashcards from the fine-tuning studio: "
                        "fine-tuning BERT on GLUE MRPC with the transformers Trainer.")
    for card in bank.cards:
        deck.add_note(note_for(card))
    return deck


def write_apkg(bank: Bank, path: str | Path) -> Path:
    """Write the deck as an .apkg file that Anki can import; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(build_deck(bank)).write_to_file(str(path), timestamp=TIMESTAMP)
    return path
