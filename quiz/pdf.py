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
    lines = layout(pdf, text, PAGE[0] - 2 * MARGIN, size, bold=not answer)
    y = max(MARGIN + 8, (PAGE[1] - len(lines) * line_h) / 2)
    pdf.set_text_color(31, 41, 55)
    for line in lines:
        pdf.set_xy(MARGIN, y)
        for word, code in line:
            _font(pdf, code, size, bold=not answer)
            pdf.cell(pdf.get_string_width(word), line_h, word)
        y += line_h


def _font(pdf: FPDF, code: bool, size: int, bold: bool) -> None:
    pdf.set_font("courier" if code else "helvetica", "B" if bold and not code else "", size - (1 if code else 0))


def words(text: str) -> list[tuple[str, bool]]:
    """The text as (word, is_code) pieces, typographic marks made printable; spaces are where lines may break."""
    out: list[tuple[str, bool]] = []
    for part, code in segments(text):
        for i, word in enumerate(latin1(part).replace("\n", " ").split(" ")):
            if i and out:
                out.append((" ", False))
            if word:
                out.append((word, code))
    return out


def layout(pdf: FPDF, text: str, width: float, size: int, bold: bool = False) -> list[list[tuple[str, bool]]]:
    """Lines of (piece, is_code) that fit `width`; a line breaks only at a space, never inside a word such as
    DataCollatorWithPadding or between "(" and the code after it (only a word wider than the card is ever cut)."""
    def measure(piece: tuple[str, bool]) -> float:
        _font(pdf, piece[1], size, bold)
        return pdf.get_string_width(piece[0])

    groups: list[list[tuple[str, bool]]] = [[]]  # runs of pieces with no space between them
    for piece in words(text):
        if piece[0] == " ":
            groups.append([])
        else:
            groups[-1].append(piece)
    space = measure((" ", False))
    lines: list[list[tuple[str, bool]]] = [[]]
    used = 0.0
    for group in filter(None, groups):
        w = sum(map(measure, group))
        if lines[-1] and used + space + w > width:
            lines.append([])
            used = 0.0
        if lines[-1]:
            lines[-1].append((" ", False))
            used += space
        for word, code in group:
            while measure((word, code)) > width - used and len(word) > 1 and used == 0.0:
                cut = len(word) - 1  # wider than a whole line: cut it, nothing else would fit anyway
                while cut > 1 and measure((word[:cut], code)) > width:
                    cut -= 1
                lines[-1].append((word[:cut], code))
                lines.append([])
                word = word[cut:]
            lines[-1].append((word, code))
            used += measure((word, code))
    return [line for line in lines if line] or [[]]


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
