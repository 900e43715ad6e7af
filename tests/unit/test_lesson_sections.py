"""Sections, rendered source and navigation: every section has prose and live backend code."""
from __future__ import annotations

import inspect

import pytest

from lesson import navigation, sections
from lesson.source import CodeRef, SourceError, render
from trainer_backend import data
from trainer_backend.training import train


@pytest.mark.parametrize("section", sections.SECTIONS, ids=sections.IDS)
def test_every_section_has_prose_and_code(section):
    assert len(section.text().split()) > 80
    snippets = section.snippets(strict=True)          # strict: an excerpt marker that vanished fails here
    assert snippets and all(s.code.strip() for s in snippets)
    assert section.full_markdown().startswith(f"## {section.title}")


def test_source_is_the_real_function():
    snippet = render(CodeRef(data.tokenize))
    assert snippet.code.splitlines()[0].startswith("def tokenize(")
    assert snippet.path == "trainer_backend/data.py"
    assert snippet.first_line == inspect.getsourcelines(data.tokenize)[1]
    excerpt = render(CodeRef(train.fit, "trainer = Trainer(", ")\n"))
    assert excerpt.code.startswith("trainer = Trainer(") and excerpt.code.endswith(")")
    assert "compute_metrics=compute_metrics" in excerpt.code


def test_missing_marker_is_an_error_not_silent_drift():
    with pytest.raises(SourceError):
        render(CodeRef(data.tokenize, "this text is not in the function"))


def test_navigation():
    assert navigation.start_section("padding", None) == "padding"
    assert navigation.start_section("PADDING ", None) == "padding"
    assert navigation.start_section("nonsense", {"current": "metrics"}) == "metrics"
    assert navigation.start_section(None, "junk") == sections.IDS[0]
    p = navigation.visit(None, "load")
    p = navigation.visit(p, "padding")
    p = navigation.visit(p, "load")
    assert p == {"current": "load", "visited": ["load", "padding"]}
    assert navigation.neighbours(sections.IDS[0]) == (None, sections.IDS[1])
    assert navigation.neighbours(sections.IDS[-1]) == (sections.IDS[-2], None)
    labels = dict((v, k) for k, v in navigation.choices(p))
    assert labels["padding"].endswith("✓") and not labels["model"].endswith("✓")
    assert f"2 of {len(sections.IDS)}" in navigation.progress_html(p) and len(sections.IDS) == 12
    assert navigation.normalize({"current": "x", "visited": ["load", "x", "load"]}) == \
        {"current": None, "visited": ["load"]}
    with pytest.raises(KeyError):
        navigation.visit(p, "nowhere")
