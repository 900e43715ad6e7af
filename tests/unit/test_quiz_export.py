"""Exports: the .apkg opens as a zip with an Anki SQLite of 9 notes; the PDF has one page per card side."""
from __future__ import annotations

import json
import re
import sqlite3
import zipfile

import pytest

from quiz import anki
from quiz.bank import default_bank
from quiz.pdf import latin1, segments, write_pdf
from trainer_backend.textsafe import code_html


@pytest.fixture(scope="module")
def apkg(tmp_path_factory):
    return anki.write_apkg(default_bank(), tmp_path_factory.mktemp("anki") / "cards.apkg")


def test_apkg_is_a_valid_anki_package_with_eleven_notes(apkg, tmp_path):
    with zipfile.ZipFile(apkg) as z:
        assert z.testzip() is None
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", tmp_path)
    con = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        notes = con.execute("select guid, mid, tags, flds from notes").fetchall()
        cards = con.execute("select count(*) from cards").fetchone()[0]
        models, decks = con.execute("select models, decks from col").fetchone()
    finally:
        con.close()
    assert len(notes) == 11 and cards == 11
    assert {mid for _, mid, _, _ in notes} == {anki.MODEL_ID}
    assert str(anki.MODEL_ID) in json.loads(models)
    assert json.loads(decks)[str(anki.DECK_ID)]["name"] == anki.DECK_NAME
    assert all("finetune-studio" in tags.split() for _, _, tags, _ in notes)
    fields = [flds.split("\x1f") for _, _, _, flds in notes]
    assert {f[2] for f in fields} == set(default_bank().card_ids)
    assert any("<code>np.argmax(logits, axis=-1)</code>" in f[1] for f in fields)


def test_apkg_ids_are_stable(apkg, tmp_path):
    again = anki.write_apkg(default_bank(), tmp_path / "again.apkg")
    guids = []
    for path in (apkg, again):
        with zipfile.ZipFile(path) as z:
            z.extract("collection.anki2", tmp_path / path.stem)
        con = sqlite3.connect(tmp_path / path.stem / "collection.anki2")
        guids.append(sorted(r[0] for r in con.execute("select guid from notes")))
        con.close()
    assert guids[0] == guids[1]


def test_html_fields_are_escaped():
    assert code_html("a <b> `x<y`") == "a &lt;b&gt; <code>x&lt;y</code>"


def test_pdf_has_one_page_per_card_side(tmp_path):
    path = write_pdf(default_bank(), tmp_path / "cards.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", data)
    assert len(pages) == 22
    assert re.search(rb"/Count\s+22\b", data)


def test_pdf_text_helpers():
    assert latin1("“quoted” — ok → done ≥ 1 你") == '"quoted" - ok -> done >= 1 ?'
    assert segments("call `trainer.train()` now") == [("call ", False), ("trainer.train()", True), (" now", False)]


def test_exports_carry_the_corrected_card_text(apkg, tmp_path):
    # issue 11: output_dir is optional in transformers 5; the 5.x load report says UNEXPECTED / MISSING
    with zipfile.ZipFile(apkg) as z:
        z.extract("collection.anki2", tmp_path)
    con = sqlite3.connect(tmp_path / "collection.anki2")
    flds = " ".join(r[0] for r in con.execute("select flds from notes"))
    con.close()
    assert "trainer_output" in flds and "UNEXPECTED" in flds and "Only <code>output_dir</code> is required" not in flds
    text = _pdf_text(write_pdf(default_bank(), tmp_path / "cards.pdf").read_bytes())
    assert "trainer_output" in text and "UNEXPECTED" in text


def _pdf_text(data: bytes) -> str:
    """The text shown on the pages: every (...) Tj string of the deflated content streams, joined."""
    import zlib

    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        out += [t.decode("latin-1") for t in re.findall(rb"\((.*?)\) Tj", content)]
    return "".join(out)


def test_export_cache_follows_the_card_text(monkeypatch, tmp_path):
    from pathlib import Path

    from quiz.bank import Card
    from ui import quiz_cards

    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    first = Path(quiz_cards.flashcards_pdf())
    bank = default_bank()
    changed = type(bank)(bank.questions, bank.exercises, (Card("x", "New front", "New back"),) + bank.cards[1:])
    monkeypatch.setattr(quiz_cards, "default_bank", lambda: changed)
    second = Path(quiz_cards.flashcards_pdf())
    assert first.parent != second.parent and "New front" in _pdf_text(second.read_bytes())
