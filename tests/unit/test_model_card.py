"""The model card and public run summary: escaping, metadata via huggingface_hub, no server paths."""
from __future__ import annotations

import json
import re

import pytest
from huggingface_hub import ModelCard
from markdown_it import MarkdownIt

from trainer_backend import settings
from trainer_backend.publish import model_card
from trainer_backend.publish.model_card import public_base_model, public_data, public_run, render_card

EVIL = "<script>x</script>"


def _run(**changes) -> dict:
    run = {
        "base_model": "google/bert_uncased_L-4_H-256_A-4",
        "data": "Hub dataset glue/mrpc (train 3,668, validation 408, test 1,725)",
        "precision": "fp32",
        "hyperparameters": {"learning_rate": 2e-05, "batch_size": 16, "epochs": 3.0, "max_length": 128,
                            "lr_scheduler_type": "linear"},
        "metrics": {"eval_accuracy": 0.8431, "eval_f1": 0.8899, "eval_loss": 0.39},
        "confusion": [[100, 29], [35, 244]],
        "loss_curve": [[1, 0.7], [2, 0.6]],
        "head_swap": {"dropped": ["cls.predictions.bias"], "new": ["classifier.bias", "classifier.weight"],
                      "mismatched": []},
        "created": "2026-11-28 12:00:00",
    }
    run.update(changes)
    return run


def _html(card: str) -> str:
    body = ModelCard(card).text
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(body)


def test_metadata_is_valid_model_card_data_with_eval_results():
    card = ModelCard(render_card(_run(), "ana/bert-finetuned-mrpc"))
    data = card.data
    assert data.pipeline_tag == "text-classification" and data.library_name == "transformers"
    assert data.base_model == "google/bert_uncased_L-4_H-256_A-4"
    assert data.datasets == ["nyu-mll/glue"] and data.language == ["en"]
    assert data.model_name == "bert-finetuned-mrpc"
    results = {r.metric_type: r for r in data.eval_results}
    assert set(results) == {"accuracy", "f1"}
    assert results["accuracy"].metric_value == 0.8431 and results["f1"].metric_value == 0.8899
    assert results["f1"].dataset_type == "nyu-mll/glue" and results["f1"].dataset_config == "mrpc"
    assert results["f1"].dataset_split == "validation" and results["f1"].task_type == "text-classification"
    assert "[SEP]" in data.to_dict()["widget"][0]["text"]
    assert "# bert-finetuned-mrpc" in card.text and "| accuracy | 0.8431 |" in card.text


def test_local_base_model_and_no_metrics_leave_fields_out():
    card = ModelCard(render_card(_run(base_model="/srv/models/my-bert", metrics={}), "x-finetuned-mrpc"))
    assert card.data.base_model is None and not card.data.eval_results
    assert "/srv/models" not in str(card) and "my-bert" in card.text
    assert "No validation metrics were recorded" in card.text


def test_card_escapes_weight_names_settings_and_names():
    run = _run(
        base_model="evil/**bold**",
        head_swap={"dropped": [EVIL, "**bold**"], "new": ["classifier.weight", "a|b"], "mismatched": []},
        hyperparameters={"learning_rate": 2e-05, "<img src=x onerror=alert(1)>": "**loud**",
                         "note": "[click](javascript:alert(1))", "pipe": "a|b\n# new heading"},
        precision="<b>fp32</b>", created="<i>today</i>",
        metrics={"eval_accuracy": 0.5, "eval_<u>x</u>": 0.1},
    )
    text = render_card(run, "ana/x")
    assert EVIL not in text and "&lt;script&gt;x&lt;/script&gt;" in text
    assert r"\*\*bold\*\*" in text and "**bold**" not in text
    for raw in ("<img", "<b>", "<i>", "<u>", "[click](", "**loud**"):
        assert raw not in text, raw
    html = _html(text)
    for tag in ("<script", "<img src=x", "<strong", "<em>", "<b>", "<i>", "<u>", "<a href"):
        assert tag not in html, tag
    assert html.count("<img") == 1  # only our own loss-curve image
    assert html.count("<h1>") == 1 and "new heading</h" not in html  # a value cannot start a heading
    rows = [line for line in text.splitlines() if line.startswith("| pipe")]
    assert len(rows) == 1 and len(re.findall(r"(?<!\\)\|", rows[0])) == 3  # the cell's '|' is escaped
    assert "Dropped from the checkpoint" in text and "classifier.weight" in text


def test_repo_id_cannot_break_out_of_the_code_block():
    text = render_card(_run(), 'ana/x")\nimport os\n#')
    code = text.split("```python", 1)[1].split("```", 1)[0]
    assert "import os" not in code and code.count('model="') == 1


def test_public_data_hides_paths_and_file_names():
    assert public_data("local MRPC folder /home/o/data/mrpc (train 3,668, validation 408)") == \
        "a local MRPC folder (train 3,668, validation 408)"
    assert public_data("file secret-clients.csv (train 30, validation 8)") == "an uploaded file (train 30, validation 8)"
    assert public_data("bundled sample (assets/mrpc_sample.tsv) (train 400, validation 80)") == \
        "the bundled sample (train 400, validation 80)"
    assert public_data("Hub dataset glue/mrpc (train 1)") == "Hub dataset glue/mrpc (train 1)"
    assert public_data("Hub dataset /etc/shadow (train 1)") == "a Hub dataset (train 1)"
    assert public_data("something new at /srv/x") == "a local data source"
    assert public_data(None) == "not recorded"
    for text in ("local MRPC folder /x (train 1)", "file a.csv", "Hub dataset glue/mrpc (train 1)"):
        once = public_data(text)
        assert public_data(once) == once  # a summary read back from a zip stays the same


def test_public_base_model():
    assert public_base_model("bert-base-uncased") == "bert-base-uncased"
    assert public_base_model("google/bert_uncased_L-4_H-256_A-4") == "google/bert_uncased_L-4_H-256_A-4"
    assert public_base_model(settings.PACKAGED_MODEL_NAME) == settings.PACKAGED_MODEL_NAME
    assert public_base_model("/home/owner/models/tiny-bert") == "tiny-bert (a local model)"
    assert public_base_model("C:\\Users\\o\\my model!") == "a local model"
    assert public_base_model("") == "an unknown base model"
    once = public_base_model("/x/tiny-bert")
    assert public_base_model(once) == once


def test_public_run_keeps_numbers_drops_unknown_keys_and_paths(tmp_path):
    raw = _run(base_model=str(tmp_path / "tiny-bert"), data=f"local MRPC folder {tmp_path} (train 3)",
               output_dir=str(tmp_path), log=str(tmp_path / "train.log"), owner="visitor-1",
               hyperparameters={"learning_rate": 1e-3, "seed": 42, "group_by_length": True,
                                "note": f"from {tmp_path}/x.csv", "nan": float("nan")},
               metrics={"eval_accuracy": 0.5, "eval_note": "text", "eval_inf": float("inf")})
    public = public_run(raw)
    assert set(public) <= set(model_card.PUBLIC_RUN_KEYS)
    dumped = json.dumps(public)
    assert str(tmp_path) not in dumped and "visitor-1" not in dumped and "train.log" not in dumped
    assert public["hyperparameters"]["learning_rate"] == 1e-3 and public["hyperparameters"]["seed"] == 42
    assert public["hyperparameters"]["group_by_length"] is True
    assert public["metrics"] == {"eval_accuracy": 0.5}
    assert public["confusion"] == [[100, 29], [35, 244]] and public["loss_curve"] == [[1, 0.7], [2, 0.6]]
    assert public["head_swap"]["new"] == ["classifier.bias", "classifier.weight"]
    assert public_run(public) == public  # idempotent: a summary read back from a zip stays the same
    assert public_run(None) == {} and public_run({"confusion": [[1, "x"], [2]]}) == {}


@pytest.mark.parametrize("swap_size", [0, 3, 40])
def test_head_swap_section_lists_a_few_names(swap_size):
    names = [f"bert.layer.{i}.weight" for i in range(swap_size)]
    text = render_card(_run(head_swap={"dropped": names, "new": [], "mismatched": []}), "ana/x")
    if not swap_size:
        assert "## Head swap" not in text
    else:
        assert "## Head swap" in text and f", {swap_size}:" in text
        assert ("more" in text.split("## Head swap")[1].split("##")[0]) == (swap_size > model_card.HEAD_SWAP_SHOWN)


def test_a_model_trained_with_easy_pairs_says_so_and_one_without_does_not():
    hyper = {**_run()["hyperparameters"], "easy_pair_ratio": 1.0}
    card = ModelCard(render_card(_run(hyperparameters=hyper), "x-finetuned-mrpc")).text
    assert "- Mixed into the training pairs: 1 made-up easy pair(s) per real one" in card
    assert "results above are on real validation pairs only" in card
    assert "made-up" not in ModelCard(render_card(_run(), "x-finetuned-mrpc")).text
