"""Predict through gradio_client on the launched app: single pairs, files, every bad input, 20 concurrent clients."""
from __future__ import annotations

import csv
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import HUB_ID, write_pairs
from trainer_backend.textsafe import md_escape

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = pytest.mark.slow
LABELS = {"paraphrase", "not_paraphrase"}


@pytest.fixture(scope="module", autouse=True)
def default_model(tiny_checkpoint):
    """The launched app's default model is the CLI-trained tiny checkpoint (read on every request)."""
    old = os.environ.get("PREDICT_MODEL_ID")
    os.environ["PREDICT_MODEL_ID"] = str(tiny_checkpoint)
    yield tiny_checkpoint
    if old is None:
        os.environ.pop("PREDICT_MODEL_ID", None)
    else:
        os.environ["PREDICT_MODEL_ID"] = old


def _ask(client, s1, s2, model=None):
    args = (s1, s2) if model is None else (s1, s2, model)
    return client.predict(*args, api_name="/predict")


def test_api_lists_predict_endpoints(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = [p["parameter_name"] for p in named["/predict"]["parameters"]]
    # browser_id: the visitor id an API client sends on a Space; ticket: what a page carries (API clients leave it
    # empty); both optional, see the README's Security section
    assert params == ["sentence1", "sentence2", "model", "browser_id", "ticket"]
    assert [p["parameter_has_default"] for p in named["/predict"]["parameters"]] == [False, False, True, True, True]
    assert "/predict_batch" in named
    assert [p["parameter_name"] for p in named["/explain"]["parameters"]] == ["sentence1", "sentence2", "model",
                                                                               "browser_id", "ticket"]
    assert [p["parameter_name"] for p in named["/compare"]["parameters"]] == ["sentence1", "sentence2", "model",
                                                                               "other", "browser_id", "ticket"]
    assert "/compare_batch" in named


def test_single_pair_gives_label_confidences_and_latency(client):
    label, details = _ask(client, "The shop opens at nine.", "The store opens its doors at 9 a.m.")
    assert label["label"] in LABELS
    confidences = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert set(confidences) == LABELS and sum(confidences.values()) == pytest.approx(1.0, abs=1e-4)
    assert " ms " in details and label["label"] in details


@pytest.mark.parametrize("s1, s2, expected", [
    ("", "A sentence.", "Sentence 1 is empty"),
    ("A sentence.", "   \n\t ", "Sentence 2 is empty"),
    ("\x00\x01\x02", "A sentence.", "only spaces or control characters"),
])
def test_empty_inputs_get_a_clear_message(client, s1, s2, expected):
    label, details = _ask(client, s1, s2)
    assert not label and expected in details and details.startswith("⚠️")


def test_100k_characters_are_truncated_with_a_visible_note(client):
    label, details = _ask(client, "word " * 19_999 + "words", "A short one.")  # exactly 100,000 characters
    assert label["label"] in LABELS
    assert "100,000 characters" in details and "only the first 2,000" in details and "cut off" in details


def test_control_characters_are_cleaned_and_noted(client):
    label, details = _ask(client, "Tea\x00 is\x1b ready\u200b.", "The tea is ready.")
    assert label["label"] in LABELS and "control or invisible" in details


def test_html_and_script_stay_inert(client):
    label, details = _ask(client, "<script>alert('x')</script><b>bold</b>", "<img src=x onerror=alert(1)>")
    assert label["label"] in LABELS
    assert "<script" not in details and "<img" not in details


@pytest.mark.parametrize("model, expected", [
    ("studio-tests/not-in-cache", "HF_HUB_OFFLINE=1"),
    ("not a valid id!!", "neither a model folder"),
    ("/no/such/folder", "neither a model folder"),
])
def test_missing_or_broken_model_ids_are_explained_and_the_server_keeps_serving(client, model, expected):
    label, details = _ask(client, "One.", "Two.", model)
    assert not label and md_escape(expected) in details  # Markdown output: shown literally, escaped
    label, _ = _ask(client, "Still here?", "Are you still here?")
    assert label["label"] in LABELS


def test_model_from_the_offline_hub_cache(client, use_hub_cache):
    label, details = _ask(client, "The train left late.", "The train departed behind schedule.", HUB_ID)
    assert label["label"] in LABELS and HUB_ID in details


def test_twenty_concurrent_clients_see_no_error(app_url):
    from gradio_client import Client

    clients = [Client(app_url, verbose=False) for _ in range(20)]

    def one(i):
        return _ask(clients[i], f"Visitor {i} asked a question.", f"A question came from visitor {i}.")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20), timeout=120))
    assert all(label["label"] in LABELS for label, _ in answers)
    assert all(not details.startswith("⚠️") for _, details in answers)
    assert any("in a batch of" in details for _, details in answers)  # visitors really were batched together


def test_batch_file_with_labels(client, tmp_path):
    from gradio_client import handle_file

    path, summary, preview, confusion = client.predict(
        handle_file(str(write_pairs(tmp_path / "pairs.tsv"))), "sentence1", "sentence2", "label",
        api_name="/predict_batch")
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40 and rows[0]["predicted_label"] in LABELS
    assert "40 pairs" in summary and "accuracy" in summary and "f1" in summary
    assert confusion["headers"][1:] == ["predicted not_paraphrase", "predicted paraphrase"]
    assert sum(sum(r[1:]) for r in confusion["data"]) == 40
    assert len(preview["data"]) == 20


def test_batch_file_without_labels_as_csv(client, tmp_path):
    from gradio_client import handle_file

    path, summary, _, confusion = client.predict(
        handle_file(str(write_pairs(tmp_path / "pairs.csv", with_label=False, sep=","))), api_name="/predict_batch")
    assert "No label column" in summary and not confusion.get("data")
    assert path.endswith(".csv")


@pytest.mark.parametrize("content, name, columns, expected", [
    ("sentence1,sentence2\n", "empty.csv", ("sentence1", "sentence2"), "header but no rows"),
    ("a,b\nx,y\n", "cols.csv", ("sentence1", "sentence2"), "missing column"),
    ("just text", "notes.pdf", ("sentence1", "sentence2"), "Invalid file type"),  # refused by gr.File itself
    ("sentence1\tsentence2\nonly one field\n", "short.tsv", ("sentence1", "sentence2"), "a sentence is empty"),
])
def test_broken_files_are_explained(client, tmp_path, content, name, columns, expected):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(AppError, match=expected):
        client.predict(handle_file(str(tmp_path / name)), *columns, "", api_name="/predict_batch")
    label, _ = _ask(client, "Still serving?", "Is it still serving?")
    assert label["label"] in LABELS


def test_explain_returns_words_and_scores_for_both_sentences(client):
    first, second = "The company's profit rose 12 percent.", "The company's profit rose 21 percent."
    page, data = client.predict(first, second, api_name="/explain")
    assert " ".join(w["word"] for w in data["sentence1"]) == first
    assert " ".join(w["word"] for w in data["sentence2"]) == second
    total = sum(w["score"] for w in data["sentence1"] + data["sentence2"])
    change = data["logit"] - data["baseline_logit"]
    assert total == pytest.approx(change, abs=0.02 * abs(change) + 1e-3)
    assert data["label"] in LABELS and data["method"].startswith("Integrated Gradients") and data["seconds"] > 0
    assert "Sentence 1:" in page and "took" in page and "How to read it" in page


def test_explain_refuses_pairs_beyond_the_length_cap(client):
    page, data = client.predict("word " * 400, "A short one.", api_name="/explain")
    assert "reads at most" in data["error"] and page.count("⚠️") == 1
    _, data = client.predict("", "A short one.", api_name="/explain")
    assert "Sentence 1 is empty" in data["error"]


def test_compare_fast_path_with_plain_pytorch(client):
    table, data = client.predict("The train left late.", "The train departed behind schedule.", api_name="/compare")
    assert data["b"]["engine"] == "PyTorch fp32" and data["a"]["label"] in LABELS and data["b"]["label"] in LABELS
    assert data["a"]["ms"] > 0 and "| A |" in table and "| B |" in table and " ms |" in table


def test_compare_two_models_from_the_offline_hub_cache(client, use_hub_cache):
    table, data = client.predict("The train left late.", "The train departed behind schedule.", "(default model)",
                                 HUB_ID, api_name="/compare")
    assert HUB_ID in data["b"]["model"] and data["a"]["label"] == data["b"]["label"]  # the same weights
    _, data = client.predict("One.", "Two.", "(default model)", "studio-tests/not-in-cache", api_name="/compare")
    assert "HF_HUB_OFFLINE=1" in data["error"]


def test_compare_a_file(client, tmp_path):
    from gradio_client import handle_file

    summary = client.predict(handle_file(str(write_pairs(tmp_path / "pairs.tsv"))), "sentence1", "sentence2",
                             "label", api_name="/compare_batch")
    assert "of 40 pairs" in summary and "PyTorch fp32" in summary and summary.count("| A |") == 1
