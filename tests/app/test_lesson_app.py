"""The Lesson tab in the launched app: every section renders with prose and code, and every demo endpoint answers."""
from __future__ import annotations

import pytest

from lesson import sections

pytestmark = pytest.mark.slow
ENDPOINTS = ["/lesson_peek", "/lesson_tokenize", "/lesson_padding", "/lesson_head_swap", "/lesson_logits",
             "/lesson_metrics", "/lesson_curves", "/lesson_section", "/lesson_own_runs"]


def _descendants(node: dict) -> list[int]:
    out = [node["id"]]
    for child in node.get("children") or []:
        out += _descendants(child)
    return out


def _find(node: dict, component_id: int) -> dict | None:
    if node["id"] == component_id:
        return node
    for child in node.get("children") or []:
        hit = _find(child, component_id)
        if hit:
            return hit
    return None


def test_named_endpoints_exist(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    missing = [e for e in ENDPOINTS if e not in named]
    assert not missing, f"missing endpoints: {missing}"


@pytest.mark.parametrize("section", sections.SECTIONS, ids=sections.IDS)
def test_every_section_renders(client, section):
    components = {c["id"]: c for c in client.config["components"]}
    column = next(c for c in components.values() if c["props"].get("elem_id") == f"lesson-{section.id}")
    node = _find({"id": -1, "children": client.config["layout"]["children"]}, column["id"])
    texts = [str(components[i]["props"].get("value") or "") for i in _descendants(node)
             if components.get(i, {}).get("type") == "markdown"]
    page = "\n".join(texts)
    assert section.title in page
    assert section.text().split("\n")[0] in page
    assert "```python" in page and section.snippets()[0].code.splitlines()[0] in page
    via_api = client.predict(section.id, api_name="/lesson_section")
    assert via_api.startswith(f"## {section.title}") and "```python" in via_api


def test_first_section_is_shown_and_others_wait(client):
    shown = {c["props"]["elem_id"]: c["props"].get("visible", True) for c in client.config["components"]
             if str(c["props"].get("elem_id", "")).startswith("lesson-") and c["type"] == "column"
             and c["props"]["elem_id"].removeprefix("lesson-") in sections.IDS}
    assert shown.pop("lesson-load") is True
    assert not any(shown.values())


def test_data_and_tokenizer_demos(client):
    text, table = client.predict(3, api_name="/lesson_peek")
    assert "train" in text and len(table["data"]) == 3
    text, table = client.predict("A cat sat.", "A cat was sitting.", api_name="/lesson_tokenize")
    tokens = [row[1] for row in table["data"]]
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 2 and "tokens" in text


def test_padding_demo(client):
    text, plot, table = client.predict(8, api_name="/lesson_padding")
    assert "less work" in text and plot
    strategies = [row[0] for row in table["data"]]
    assert len(strategies) == 3
    positions = [row[1] for row in table["data"]]
    assert positions[0] > positions[1] >= positions[2]     # longest-in-set > per batch >= grouped


def test_head_swap_logits_and_metrics_demos(client):
    text, table = client.predict("auto", api_name="/lesson_head_swap")
    assert "newly initialised" in text and any(row[0] == "classifier.weight" for row in table["data"])
    text, table, arrays = client.predict("auto", 4, api_name="/lesson_logits")
    assert "(4, 2)" in text and "(4,)" in text and len(table["data"]) == 4
    assert len(arrays["logits"]) == 4 and all(len(r) == 2 for r in arrays["logits"])
    text, returned = client.predict(arrays, api_name="/lesson_metrics")
    assert set(returned) == {"accuracy", "f1"} and "By hand" in text


def test_curves_demo(client):
    plot, text, table = client.predict("article", api_name="/lesson_curves")
    assert plot and "overfitting" in text and len(table["data"]) == 3
