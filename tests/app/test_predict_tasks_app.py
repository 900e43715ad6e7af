"""Predict follows the model, through gradio_client on the launched app: a single-sentence and a three-class
checkpoint answer /predict, /explain, /predict_batch and /compare with their own texts and classes."""
from __future__ import annotations

import csv

import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import SINGLE, THREE_CLASS, write_task_file

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("pytorch_only")]



def test_a_single_sentence_model_over_the_api(client, single_checkpoint, tmp_path):
    from gradio_client import handle_file

    model = str(single_checkpoint)
    label, details = client.predict("lovely lovely lovely island", "", model, api_name="/predict")
    assert label["label"] == "positive" and {c["label"] for c in label["confidences"]} == {"negative", "positive"}
    assert "**positive**" in details
    _, details = client.predict("awful awful awful island", "Old clients still send a second text.", model,
                                api_name="/predict")
    assert "second text was not read" in details
    label, details = client.predict("", "", model, api_name="/predict")
    assert not label and "The sentence is empty" in details

    page, why = client.predict("awful awful awful river", "", model, api_name="/explain")
    assert why["label"] == "negative" and why["sentence2"] == [] and len(why["sentence1"]) == 4
    assert "Sentence:" in page and "Sentence 2" not in page

    path, summary, preview, confusion = client.predict(
        handle_file(str(write_task_file(tmp_path / "reviews.csv", SINGLE))), "sentence1", "sentence2", "label", model,
        api_name="/predict_batch")
    assert "30 sentences" in summary and "accuracy" in summary
    assert confusion["headers"][1:] == ["predicted negative", "predicted positive"]
    with open(path, encoding="utf-8") as handle:
        assert list(csv.DictReader(handle))[0].keys() >= {"sentence", "predicted_label", "probability_positive"}
    assert "sentence" in preview["headers"]


def test_a_three_class_model_over_the_api(client, three_class_checkpoint, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    model = str(three_class_checkpoint)
    label, _ = client.predict("river table", "no no no green", model, api_name="/predict")
    assert label["label"] == "contradiction" and [c["label"] for c in label["confidences"]][0] == "contradiction"
    assert {c["label"] for c in label["confidences"]} == set(THREE_CLASS.label_names)

    _, why = client.predict("river table", "maybe maybe maybe green", model, api_name="/explain")
    assert why["label"] == "neutral" and [w["word"] for w in why["sentence2"]][:3] == ["maybe"] * 3

    path, summary, _, confusion = client.predict(
        handle_file(str(write_task_file(tmp_path / "nli.csv", THREE_CLASS))), "sentence1", "sentence2", "label", model,
        api_name="/predict_batch")
    assert "30 pairs" in summary and "macro f1" in summary and len(confusion["data"]) == 3
    assert confusion["headers"][1:] == [f"predicted {n}" for n in THREE_CLASS.label_names]

    (tmp_path / "one.csv").write_text("sentence,label\nriver,neutral\n", encoding="utf-8")
    with pytest.raises(AppError, match="this model compares two texts"):
        client.predict(handle_file(str(tmp_path / "one.csv")), "sentence1", "sentence2", "label", model,
                       api_name="/predict_batch")

    table, both = client.predict("river", "yes yes yes green", model, api_name="/compare")
    assert both["a"]["label"] == both["b"]["label"] == "entailment" and "P(answer)" in table
