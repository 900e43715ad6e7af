"""The flashcard PDF's line breaking: lines fit the card and break only at spaces, never inside an identifier."""
from __future__ import annotations

import re

from quiz.bank import default_bank
from quiz.pdf import MARGIN, PAGE, _CardPDF, _font, layout, write_pdf


def _pdf() -> _CardPDF:
    pdf = _CardPDF(orientation="P", unit="mm", format=PAGE)
    pdf.add_page()
    return pdf


def test_every_card_side_breaks_only_at_spaces_and_fits_the_card():
    pdf, width = _pdf(), PAGE[0] - 2 * MARGIN
    for card in default_bank().cards:
        for text, size, bold in ((card.front, 15, True), (card.back, 11, False)):
            lines = layout(pdf, text, width, size, bold)
            flat = " ".join("".join(w for w, _ in line) for line in lines)
            assert flat.split() == re.sub(r"`", "", text).replace("\u2019", "'").split() or "?" in flat
            for line in lines:
                used = 0.0
                for word, code in line:
                    _font(pdf, code, size, bold)
                    used += pdf.get_string_width(word)
                assert used <= width + 1e-6


def test_data_collator_with_padding_is_never_split():
    pdf, text = _pdf(), default_bank().cards[1].front
    assert "DataCollatorWithPadding" in text
    for width in range(75, 130, 3):  # whatever the line width, the identifier stays whole on one line
        lines = layout(pdf, text, float(width), 15, bold=True)
        assert any(w == "DataCollatorWithPadding" for line in lines for w, _ in line), width


def test_the_pdf_still_has_one_page_per_card_side(tmp_path):
    data = write_pdf(default_bank(), tmp_path / "cards.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 2 * len(default_bank().cards)
