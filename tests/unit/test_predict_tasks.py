"""Predict follows the model: a three-class pair checkpoint and a single-sentence one, through the real predictor,
Explain, files, the fast path's gate and the tab's handlers."""
from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import SINGLE, THREE_CLASS, task_rows, write_task_file
from trainer_backend import serving
from trainer_backend.data import DataError
from trainer_backend.serving import ModelRef, engine, engines, explain, fastpath
from trainer_backend.serving.predict_table import predict_table, scores
from ui.messages import check_line

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = pytest.mark.slow  # trains two tiny checkpoints (a few seconds each)


def _load(folder, monkeypatch, mode="off"):
    monkeypatch.setenv("PREDICT_FASTPATH", mode)
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")
    return serving.load_predictor(ModelRef(str(folder), folder.name, "chosen"))


@pytest.fixture(scope="module")
def three(three_class_checkpoint):
    with pytest.MonkeyPatch.context() as mp:
        return _load(three_class_checkpoint, mp)


@pytest.fixture(scope="module")
def single(single_checkpoint):
    with pytest.MonkeyPatch.context() as mp:
        return _load(single_checkpoint, mp)


# --- the predictor ------------------------------------------------------------------------------
def test_a_three_class_model_answers_with_its_classes_in_order(three):
    assert three.pair and three.labels == ["entailment", "neutral", "contradiction"]
    fresh = task_rows(THREE_CLASS, 30, seed=7)  # examples it never saw
    results = three.predict_pairs([texts for texts, _ in fresh])
    for result in results:
        assert list(result.confidences) == three.labels and sum(result.confidences.values()) == pytest.approx(1.0)
        assert result.label == max(result.confidences, key=result.confidences.get)
    right = sum(r.label == THREE_CLASS.label_names[y] for r, (_, y) in zip(results, fresh))
    assert right >= 27, right  # it learned the cue: a wrong class order or argmax would sit near 10 of 30


def test_a_single_sentence_model_reads_one_text(single):
    assert not single.pair and single.labels == ["negative", "positive"]
    alone, with_second = single.predict_pairs([("lovely lovely lovely river", ""),
                                               ("lovely lovely lovely river", "awful awful awful")])
    assert alone.label == "positive" and alone.confidences == pytest.approx(with_second.confidences)
    assert "second text was not read" in " ".join(with_second.notes) and not alone.notes
    empty = single.predict_pairs([("  ", "A second text.")])[0]
    assert empty.label is None and "The sentence is empty" in empty.error and "to classify" in empty.error
    assert single.predict_pairs([("awful awful awful coffee",)])[0].label == "negative"  # a 1-tuple works too


def test_read_task_gives_the_boxes_without_loading_weights(three_class_checkpoint, single_checkpoint, tmp_path):
    from trainer_backend.serving.predictor import read_task

    assert read_task(ModelRef(str(single_checkpoint), "s", "chosen")) == SINGLE
    assert read_task(ModelRef(str(three_class_checkpoint), "t", "chosen")).label_names == THREE_CLASS.label_names
    assert read_task(ModelRef(str(tmp_path), "empty", "chosen")) is None  # unreadable: None, loading says why


def test_read_task_reads_a_hub_model_from_the_cache_only(use_hub_cache, monkeypatch):
    from tests.predict_fixtures import HUB_ID
    from trainer_backend.serving.predictor import read_task

    assert read_task(ModelRef(HUB_ID, HUB_ID, "chosen")).is_mrpc  # the cached (unstamped) MRPC checkpoint
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # even online, nothing is fetched before the load's size check
    assert read_task(ModelRef("studio-tests/not-in-cache", "x", "chosen")) is None


# --- Explain ------------------------------------------------------------------------------------
def test_explain_on_three_classes_and_on_one_sentence(three, single):
    e3 = explain.explain_pair(three, "river table green", "maybe maybe maybe coffee")
    assert e3.label == three.predict_pairs([("river table green", "maybe maybe maybe coffee")])[0].label
    assert e3.total == pytest.approx(e3.logit - e3.baseline_logit, abs=0.02 * abs(e3.logit - e3.baseline_logit) + 1e-3)
    assert [w.word for w in e3.sentence2] == ["maybe", "maybe", "maybe", "coffee"]

    e1 = explain.explain_pair(single, "lovely lovely lovely garden", "ignored second text")
    assert e1.label == "positive" and [w.word for w in e1.sentence1] == ["lovely", "lovely", "lovely", "garden"]
    assert e1.sentence2 == [] and not any(w.differs for w in e1.sentence1)
    assert e1.total == pytest.approx(e1.logit - e1.baseline_logit, abs=0.02 * abs(e1.logit - e1.baseline_logit) + 1e-3)
    page = explain.to_html(e1)
    assert "<b>Sentence:</b>" in page and "Sentence 2" not in page and "not in the other sentence" not in page
    assert max(w.score for w in e1.sentence1[:3]) > abs(e1.sentence1[3].score)  # the cue decided, not "garden"
    with pytest.raises(serving.InferenceError, match="reads at most"):
        explain.explain_pair(single, "word " * 300)


# --- files --------------------------------------------------------------------------------------
def test_a_file_for_the_three_class_model(three, tmp_path):
    path = write_task_file(tmp_path / "nli.csv", THREE_CLASS)  # premise, hypothesis, label (class names)
    report = predict_table(path, three)  # the default column names fall back to the task's own
    assert set(report.metrics) == {"accuracy", "macro_f1"} and report.metrics["accuracy"] >= 0.9
    assert len(report.confusion) == 3 and all(len(r) == 3 for r in report.confusion)
    assert sum(map(sum, report.confusion)) == 30 and report.text_columns == ("premise", "hypothesis")
    with report.csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"premise", "hypothesis", "predicted_label", "probability_entailment", "probability_neutral",
            "probability_contradiction", "label", "correct"} == set(rows[0])
    by_ids = predict_table(write_task_file(tmp_path / "ids.csv", THREE_CLASS, label_names=False), three)
    assert by_ids.metrics == report.metrics  # labels as numbers read the same as by name


@pytest.mark.parametrize("content, expected", [
    ("sentence\nonly one text\n", "this model compares two texts"),
    ("premise,hypothesis,label\nriver,yes yes,maybe\n", "'maybe' is not one of this model's classes"),
    ("premise,hypothesis\nriver,\n", "row 2: a sentence is empty"),
])
def test_a_file_that_does_not_fit_the_three_class_model_is_explained(three, tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=expected):
        predict_table(path, three)


def test_a_file_for_the_single_sentence_model(single, tmp_path):
    report = predict_table(write_task_file(tmp_path / "sst.csv", SINGLE), single)
    assert set(report.metrics) == {"accuracy", "f1"} and report.metrics["accuracy"] >= 0.9
    assert list(report.rows[0])[:3] == ["sentence", "label", "predicted_label"] and "probability_positive" in report.rows[0]
    # a pairs file: its sentence1 column is read, sentence2 is not (and a note says so)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("sentence1\tsentence2\nlovely lovely lovely island\tawful\n", encoding="utf-8")
    report = predict_table(pairs, single)
    assert report.rows[0]["predicted_label"] == "positive" and "was not read" in report.notes[0]
    with pytest.raises(DataError, match="missing column.*'review'.*reads one text"):
        predict_table(pairs, single, "review")  # a name the visitor typed must exist


def test_scores_match_sklearn_for_three_classes():
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    rng = np.random.default_rng(0)
    true, predicted = rng.integers(0, 3, 200).tolist(), rng.integers(0, 3, 200).tolist()
    metrics, matrix = scores(predicted, true, THREE_CLASS)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(true, predicted))
    assert metrics["macro_f1"] == pytest.approx(f1_score(true, predicted, average="macro"))
    assert matrix == confusion_matrix(true, predicted, labels=[0, 1, 2]).tolist()


# --- the fast path's gate -----------------------------------------------------------------------
def test_the_gate_compares_the_argmax_of_three_classes():
    pairs = fastpath.GatePairs([f"a{i}" for i in range(200)], None, [i % 3 for i in range(200)], "three")

    def score(firsts, seconds, which):
        assert seconds is None  # single texts reach the scorer as such
        rows = []
        for text in firsts:
            i = int(text[1:])
            y = i % 3 if which == "pytorch-fp32" or i >= 2 else (i + 1) % 3  # the candidate moves two answers
            rows.append([0.8 if k == y else 0.1 for k in range(3)])
        return rows
    reference = [i % 3 for i in range(200)]
    result = fastpath.check("onnx-int8", object(), pairs, reference, score)
    assert result.agreement == pytest.approx(0.99) and not result.passed and result.accuracy == pytest.approx(0.99)
    unlabelled = fastpath.GatePairs(pairs.firsts, None, None, "texts without labels")
    result = fastpath.check("onnx-int8", object(), unlabelled, reference, score)
    assert result.accuracy is None and not result.passed and "accuracy not compared" in check_line(result)


def test_validation_examples_follow_the_task(tmp_path):
    from datasets import Dataset, DatasetDict

    val = Dataset.from_dict({"premise": ["p1", "p2"], "hypothesis": ["h1", "h2"], "label": [2, 0]})
    got = fastpath._from_dataset(DatasetDict(validation=val), "nli", THREE_CLASS)
    assert (got.firsts, got.seconds, got.labels) == (["p1", "p2"], ["h1", "h2"], [2, 0])
    sample = fastpath.validation_pairs(tmp_path, None, SINGLE)  # no data recorded: the sample's texts, no labels
    assert sample.seconds is None and sample.labels is None and "only agreement" in sample.source
    assert len(sample) == 80 and fastpath.validation_pairs(tmp_path, None).labels is not None  # MRPC keeps them


def test_onnx_serves_the_three_class_model_after_its_check(three_class_checkpoint, monkeypatch):
    predictor = _load(three_class_checkpoint, monkeypatch, "fp32")
    check = predictor.serving.checks[0]
    assert predictor.engine == "onnx-fp32" and check.passed and check.agreement == 1.0 and check.pairs == 80
    texts = [t for t, _ in task_rows(THREE_CLASS, 12, seed=3)]
    fast, _ = predictor.probabilities([a for a, _ in texts], [b for _, b in texts])
    plain, _ = predictor.probabilities([a for a, _ in texts], [b for _, b in texts], engine="pytorch-fp32")
    assert np.array(fast).shape == (12, 3)
    np.testing.assert_allclose(np.array(fast), np.array(plain), atol=1e-4)


def test_int8_layers_are_ranked_on_single_sentences(single, tmp_path):
    pairs = fastpath.validation_pairs(None, None, SINGLE)

    def score(firsts, seconds, which):
        return single.probabilities(firsts, seconds, engine=which)[0]
    ctx = engine.BuildContext(single.model, single.tokenizer, tmp_path, 1, pairs, score, lambda f, d: None)
    backend = engines.open_engine("onnx-int8-mixed", ctx)
    assert backend.detail.endswith("of 2 (counting from 0)")
    got = np.array(score(pairs.firsts[:8], None, backend))
    assert got.shape == (8, 2) and np.allclose(got.sum(1), 1.0, atol=1e-4)


# --- the tab's handlers -------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_background_engine_check(monkeypatch):
    """The handlers load through the app's cache, which would check faster engines in a thread: the gate has its
    own tests above (they set PREDICT_FASTPATH themselves), here it would only take the CPU."""
    monkeypatch.setenv("PREDICT_FASTPATH", "off")


def test_the_boxes_follow_the_model(single_checkpoint, three_class_checkpoint, tiny_checkpoint):
    from ui import predict_handlers as h

    one = h.follow_model(str(single_checkpoint))
    assert one["second_box"].constructor_args["visible"] is False and one["swap_box"].constructor_args["visible"] is False
    assert one["col1"].constructor_args["value"] == "sentence" and one["col2"].constructor_args["visible"] is False
    assert "reads one sentence" in one["task"] and "*negative*, *positive*" in one["task"]
    two = h.follow_model(str(three_class_checkpoint))
    assert two["second_box"].constructor_args["visible"] is True and two["swap_box"].constructor_args["visible"] is False
    assert [two[k].constructor_args["value"] for k in ("col1", "col2")] == ["premise", "hypothesis"]
    assert "compares two texts (premise, hypothesis)" in two["task"]
    assert "one of 3 classes: *entailment*, *neutral*, *contradiction*" in two["task"]
    mrpc = h.follow_model(str(tiny_checkpoint))  # an MRPC run keeps its words, its two boxes and the swap check
    assert mrpc["second_box"].constructor_args["visible"] is True and mrpc["swap_box"].constructor_args["visible"]
    assert "*paraphrase* or *not paraphrase*" in mrpc["task"]
    broken = h.follow_model("/no/such/folder")  # unknown: two boxes, Predict says why when asked
    assert broken["second_box"].constructor_args["visible"] is True
    assert set(h.ANSWER_ELEMENTS) == set(h.ANSWERS)


def test_handlers_answer_by_name_for_a_single_sentence_model(single_checkpoint, tmp_path, monkeypatch):
    from ui import predict_answers
    from ui import predict_handlers as h

    model = str(single_checkpoint)
    labels, details = h.predict(["lovely lovely lovely river", "   "], ["", ""], [model, model])
    assert set(labels[0]) == {"negative", "positive"} and "**positive**" in details[0]
    assert labels[1] is None and "The sentence is empty" in details[1]
    swapped = predict_answers.swap_check("lovely lovely lovely river", "", model, True)
    assert swapped["swap"] == ""  # one sentence: nothing to swap
    shown = h.explain("awful awful awful window", None, model)
    assert shown["explain_json"]["label"] == "negative" and shown["explain_json"]["sentence2"] == []
    compared = h.compare_pair("awful awful awful window", "", model)
    assert compared["compare_json"]["a"]["label"] == compared["compare_json"]["b"]["label"] == "negative"
    assert "P(positive)" in compared["compare"]
    batch = h.predict_batch(str(write_task_file(tmp_path / "sst.csv", SINGLE)), "sentence1", "sentence2", "label", model)
    assert "**30 sentences**" in batch["summary"] and list(batch["confusion"].columns)[1:] == ["predicted negative",
                                                                                                "predicted positive"]
    assert "sentence" in batch["preview"].columns
    loaded = h.load_model(model)
    assert "classes, in order: negative, positive" in loaded["facts"] and "second_box" not in loaded
    boxes = h.follow_loaded(model)  # chained after Load, for the model chosen when Load ends
    assert boxes["second_box"].constructor_args["visible"] is False
    assert "value" not in boxes["col1"].constructor_args  # a Load keeps the column names typed


def test_three_class_compare_and_unsure_verdict(three_class_checkpoint):
    from ui import predict_answers
    from ui import predict_handlers as h

    compared = h.compare_pair("river", "maybe maybe maybe coffee", str(three_class_checkpoint))
    assert "P(answer)" in compared["compare"] and compared["compare_json"]["a"]["label"] == "neutral"
    close = serving.PairResult("neutral", {"entailment": 0.35, "neutral": 0.4, "contradiction": 0.25})
    assert "only just ahead of entailment 35%" in predict_answers.verdict_markdown(close, None)


def test_a_single_sentence_runs_own_validation_split_is_found_again(tmp_path):
    """run_config.json keeps an empty second column for single sentences: the gate must read the run's own data
    (here a CSV of one text column and three classes), not fall back to the sample."""
    import json

    rows = [("a calm clear morning", "calm"), ("a loud angry crowd", "angry"), ("a gentle quiet lake", "calm"),
            ("a wild furious storm", "angry"), ("an ordinary grey day", "plain"), ("a plain dull wall", "plain")] * 4
    path = tmp_path / "three.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "mood"])
        writer.writerows(rows)
    (tmp_path / "run_config.json").write_text(json.dumps(
        {"dataset": str(path), "sentence1_column": "text", "sentence2_column": "", "label_column": "mood"}))
    from trainer_backend.tasks import TaskSpec

    got = fastpath.validation_pairs(tmp_path, None, TaskSpec("file", ("text",), ("angry", "calm", "plain")))
    assert got.seconds is None and "the run's validation split" in got.source
    assert got.labels is not None and set(got.labels) <= {0, 1, 2}
    assert all(text in {r[0] for r in rows} for text in got.firsts)
