"""Printable flashcards: a PDF with one card side per page, the front and then its answer."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fpdf import FPDF

from quiz.bank import Bank, Card

PAGE = (148.0, 105.0)  # A6 landscape, in mm: a postcard-sized card
MARGIN = 10.0
_ASCII = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
          "\u2026": "...", "\u2192": "->", "\u2265": ">=", "\u2264": "<=", "\u00a0": " "}


def latin1(text: str) -> str:
    """Text the PDF core fonts can show: typographic marks become ASCII, anything else '?'."""
    text = "".join(_ASCII.get(c, c) for c in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def segments(text: str) -> list[tuple[str, bool]]:
    """Split on `code` spans: [(text, is_code), ...]."""
    parts = re.split(r"`([^`]*)`", text)
    return [(p, bool(i % 2)) for i, p in enumerate(parts) if p]


class _CardPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-9)
        self.set_font("helvetica", size=7)
        self.set_text_color(120, 120, 120)
        self.cell(0, 4, "Fine-tuning studio - BERT on MRPC", align="L")


def _side(pdf: _CardPDF, card: Card, number: int, total: int, answer: bool) -> None:
    pdf.add_page()
    pdf.set_draw_color(99, 102, 241)
    pdf.set_line_width(0.6 if answer else 0.3)
    pdf.rect(4, 4, PAGE[0] - 8, PAGE[1] - 8)
    pdf.set_xy(MARGIN, MARGIN)
    pdf.set_font("helvetica", "B", 8)
    pdf.set_text_color(99, 102, 241)
    pdf.cell(0, 4, f"CARD {number} OF {total} - {'ANSWER' if answer else 'QUESTION'}", align="L")
    if card.tags:
        pdf.set_x(MARGIN)
        pdf.cell(0, 4, latin1(" ".join(f"#{t}" for t in card.tags)), align="R")
    text = card.back if answer else card.front
    size = 11 if answer else 15
    line_h = size * 0.5
    pdf.set_font("helvetica", "" if answer else "B", size)
    lines = pdf.multi_cell(PAGE[0] - 2 * MARGIN, line_h, latin1(text.replace("`", "")), dry_run=True,
                           output="LINES")
    height = len(lines) * line_h
    pdf.set_xy(MARGIN, max(MARGIN + 8, (PAGE[1] - height) / 2))
    pdf.set_left_margin(MARGIN)
    pdf.set_right_margin(MARGIN)
    pdf.set_text_color(31, 41, 55)
    for part, code in segments(text):
        pdf.set_font("courier" if code else "helvetica", "" if (answer or code) else "B", size - (1 if code else 0))
        pdf.write(line_h, latin1(part))


def write_pdf(bank: Bank, path: str | Path) -> Path:
    """Write every card as two pages (question, then answer); returns the path."""
    pdf = _CardPDF(orientation="P", unit="mm", format=PAGE)
    pdf.set_auto_page_break(False)
    pdf.set_title("Fine-tuning studio flashcards")
    pdf.set_author("Fine-tuning studio")
    pdf.set_creation_date(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    total = len(bank.cards)
    for n, card in enumerate(bank.cards, start=1):
        _side(pdf, card, n, total, answer=False)
        _side(pdf, card, n, total, answer=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path
