"""md_escape: untrusted text shows literally in Markdown and HTML (checked with a real CommonMark renderer)."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from trainer_backend.textsafe import md_escape

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** and _em_ and `code`",
    "[click](javascript:alert(1))",
    "![img](http://evil.example/x.png)",
    "# heading",
    "- list item",
    "1. ordered",
    "> quote",
    "| a | b |",
    "line one\n# line two\r\n- three",
    "~~strike~~ $$x^2$$ \\*already\\*",
    "&lt;script&gt; &amp;",
    "<!-- comment -->",
    "---",
]


def _render(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_plain_literal_text(text):
    html = _render(md_escape(text))
    for tag in ("<script", "<img", "<strong", "<em", "<code", "<a ", "<h1", "<ul", "<ol", "<li", "<blockquote",
                "<table", "<s>", "<del", "<hr", "<!--"):
        assert tag not in html, (text, html)
    assert html.startswith("<p>") and html.count("<p>") == 1  # one paragraph: no new block started


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "**bold**", "[a](b)", "x & y < z > w", "a|b",
                                  "snake_case_name", "bert.encoder.layer.0.attention.self.query.weight"])
def test_the_visible_text_is_unchanged(text):
    """What the reader sees (the rendered text, entities decoded) is exactly the original."""
    import html as html_lib
    import re

    rendered = _render(md_escape(text))
    visible = html_lib.unescape(re.sub(r"</?p>\n?", "", rendered)).strip()
    assert visible == text


def test_specific_escapes():
    assert md_escape("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert md_escape("**bold**") == r"\*\*bold\*\*"
    assert md_escape("a\nb") == "a b"
    assert md_escape("- x") == r"\- x"
    assert md_escape("1. x") == r"1\. x"
    assert md_escape("0.001") == "0.001" and md_escape("bert-base-uncased") == "bert-base-uncased"
    assert md_escape(None) == "" and md_escape(3e-05) == "3e-05"


def test_multi_line_messages_keep_their_lines_and_stay_inert():
    from trainer_backend.textsafe import md_escape_lines

    shown = md_escape_lines("Invalid training settings:\n- precision='<b>x</b>' is not one of auto\n- seed=-1")
    lines = shown.split("  \n")
    assert len(lines) == 3 and lines[1].startswith("\\- ") and "<b>" not in shown and "&lt;b&gt;" in shown
