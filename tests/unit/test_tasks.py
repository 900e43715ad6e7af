"""Issue 22 item 1: any GLUE text-classification task or your own labels, through data, metrics, training, the saved
checkpoint and the record; bad data gets one sentence. The tiny 2-layer BERT must beat each task's floor."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tests.helpers import write_learnable_classes
from trainer_backend import data, metrics, tasks
from trainer_backend.config import ConfigError, TrainConfig
from trainer_backend.data import DataError

pytest_plugins = ["tests.hub_standin"]


def _csv(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n", encoding="utf-8")
    return path


# --- data ---------------------------------------------------------------------------------------------------------

def test_single_sentences_with_word_labels_name_their_classes(tmp_path):
    path = write_learnable_classes(tmp_path / "three.csv", ("red", "green", "blue"))
    loaded = data.load_data(str(path), "text", "", "category")
    assert loaded.task == tasks.TaskSpec("file", ("text",), ("blue", "green", "red"))  # names sorted
    assert loaded.dataset["train"].column_names == ["sentence1", "label"]
    assert loaded.dataset["train"].features["label"].names == ["blue", "green", "red"]
    first = loaded.dataset["validation"][0]  # "yes yes …" rows are the first class given, "red"
    assert first["sentence1"].startswith("yes") and first["label"] == 2


def test_whole_number_labels_keep_numeric_order_and_pairs_keep_mrpc(tmp_path):
    rows = [(f"w{i} a b", f"v{i} c d", i % 3 * 5) for i in range(30)]  # 0, 5, 10: classes, not MRPC's 0/1
    loaded = data.load_data(str(_csv(tmp_path / "n.csv", ("s1", "s2", "y"), rows)), "s1", "s2", "y")
    assert loaded.task.label_names == ("0", "5", "10") and loaded.task.pair
    binary = [(f"w{i} a", f"v{i} b", "yes" if i % 2 else "no") for i in range(20)]
    mrpc = data.load_data(str(_csv(tmp_path / "b.csv", ("s1", "s2", "y"), binary)), "s1", "s2", "y")
    assert mrpc.task.is_mrpc and mrpc.task.text_columns == ("s1", "s2")


def test_the_bundled_sentiment_sample_is_single_sentences_and_balanced():
    loaded = data.load_data(tasks.SENTIMENT_SAMPLE)
    assert loaded.task == tasks.named(tasks.SENTIMENT_SAMPLE).spec and not loaded.task.pair
    sizes = {k: len(v) for k, v in loaded.dataset.items()}
    assert sizes == {"train": 240, "validation": 60}
    for split in loaded.dataset.values():
        assert sum(split["label"]) * 2 == len(split)


@pytest.mark.parametrize("rows, message", [
    ([("a b", "x")] * 6, "every label is 'x'; a classifier needs at least two classes"),
    ([(f"t{i}", f"c{i}") for i in range(25)], "holds 25 different values; this app trains at most 20 classes"),
    ([("a", "x"), ("b", "y")] * 4 + [("c", "z")], "Row 10: label 'z' appears only once"),
    ([("a", "x"), ("b", "1")] * 3 + [("c", "x")], "Row 3: label '1' is a number where the other labels are words"),
    ([(" ", "x"), ("", "y")] * 4, "the text column text is empty in every row"),
    ([("a", "x"), ("b", "y")] * 4 + [("", "x")], "row 10: the text is empty"),
])
def test_bad_labels_and_texts_get_one_sentence(tmp_path, rows, message):
    path = _csv(tmp_path / "bad.csv", ("text", "label"), rows)
    with pytest.raises(DataError) as err:
        data.load_data(str(path), "text", "")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_class_only_in_validation_is_named(tmp_path):
    rows = [("a b", "x", "train"), ("c d", "y", "train")] * 3 + [("e f", "z", "validation")] * 2
    with pytest.raises(DataError, match="class 'z' is in the validation split but never in training"):
        data.from_file(_csv(tmp_path / "v.csv", ("text", "label", "split"), rows), "text", "")


def test_the_class_cap_is_a_setting(tmp_path, monkeypatch):
    path = write_learnable_classes(tmp_path / "three.csv")
    monkeypatch.setenv("STUDIO_MAX_CLASSES", "2")
    with pytest.raises(DataError, match="at most 2 classes"):
        data.from_file(path, "text", "", "category")


def test_text_column_is_single_sentences_and_refuses_a_pair():
    cfg = TrainConfig(text_column="review")
    assert (cfg.sentence1_column, cfg.sentence2_column, cfg.text_column) == ("review", "", None)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="text_column is for single sentences"):
        TrainConfig(text_column="review", sentence2_column="other")


def _parquet(columns: dict, names: list[str] | None = None) -> bytes:
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({k: Value("string") for k in columns if k != "label"} |
                        {"label": ClassLabel(names=names) if names else Value("int64")})
    out = io.BytesIO()
    Dataset.from_dict(columns, features=features).to_parquet(out)
    return out.getvalue()


def test_glue_tasks_come_with_their_columns_classes_and_splits(standin_hub):
    """glue/sst2 and glue/mnli read as nyu-mll/glue lays them out (a stand-in Hub serves the same file names)."""
    n = 12
    sst2 = {"sentence": [f"s {i}" for i in range(n)], "label": [i % 2 for i in range(n)]}
    mnli = {"premise": [f"p {i}" for i in range(n)], "hypothesis": [f"h {i}" for i in range(n)],
            "label": [i % 3 for i in range(n)]}
    test = dict(mnli, label=[-1] * n)
    standin_hub.add_repo("datasets", "nyu-mll/glue", {
        "sst2/train-00000-of-00001.parquet": _parquet(sst2),
        "sst2/validation-00000-of-00001.parquet": _parquet(sst2),
        "mnli/train-00000-of-00001.parquet": _parquet(mnli),
        "mnli/validation_matched-00000-of-00001.parquet": _parquet(mnli),
        "mnli/validation_mismatched-00000-of-00001.parquet": _parquet({k: v[:6] for k, v in mnli.items()}),
        "mnli/test_matched-00000-of-00001.parquet": _parquet(test)})
    sst = data.load_data("glue/sst2", token=False)
    assert sst.task == tasks.named("glue/sst2").spec and sst.dataset["train"].column_names == ["sentence1", "label"]
    nli = data.load_data("glue/mnli", token=False, max_eval_samples=5)
    assert nli.task.label_names == ("entailment", "neutral", "contradiction")
    assert {k: len(v) for k, v in nli.dataset.items()} == {"train": 12, "validation": 5, "validation_mismatched": 5}
    assert not any("test_matched" in p for p in standin_hub.paths("/resolve/"))  # unlabelled: never fetched


def test_a_hub_dataset_class_label_names_the_classes(standin_hub):
    rows = {"text": [f"t {i}" for i in range(20)], "label": [i % 3 for i in range(20)]}
    standin_hub.add_repo("datasets", "alice/topics", {"train.parquet": _parquet(rows, ["sport", "art", "food"])})
    loaded = data.load_data("alice/topics", "text", "", token=False)
    assert loaded.task.label_names == ("sport", "art", "food") and loaded.task.text_columns == ("text",)


def test_glue_offline_names_the_bundled_stand_in():
    with pytest.raises(DataError, match="Use 'sample-sentiment'"):
        data.load_data("glue/sst2")
    with pytest.raises(DataError, match="Use 'sample', a local MRPC folder"):
        data.load_data("glue/rte")


# --- metrics ------------------------------------------------------------------------------------------------------

def test_the_local_glue_metric_matches_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    rng = np.random.default_rng(0)
    p, r = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    assert metrics.load_glue_metric("cola").compute(predictions=p, references=r)["matthews_correlation"] == \
        pytest.approx(matthews_corrcoef(r, p))
    assert metrics.load_glue_metric("rte").compute(predictions=p, references=r) == {"accuracy": accuracy_score(r, p)}
    assert metrics.load_glue_metric("mrpc").compute(predictions=p, references=r)["f1"] == pytest.approx(f1_score(r, p))
    always = np.ones(50, dtype=int)
    assert metrics.load_glue_metric("cola").compute(predictions=always, references=r[:50]) == \
        {"matthews_correlation": 0.0}


def test_floor_and_confusion_of_three_classes():
    matrix = metrics.confusion(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), 3)
    assert matrix == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    floor = metrics.floor_of_matrix([[5, 0, 0], [2, 3, 5], [0, 0, 5]])  # rows: 5, 10, 5 true examples
    assert (floor.pairs, floor.majority, floor.accuracy, floor.f1) == (20, 1, 0.5, pytest.approx(2 * 0.5 / 1.5))
    assert metrics.floor_of_labels([0, 0, 2, 2, 2, 1], 3).accuracy == 0.5
    assert metrics.floor_of_matrix([[30, 10], [5, 55]]) == metrics.MajorityFloor(100, 60)  # MRPC's unchanged


# --- training -----------------------------------------------------------------------------------------------------

def _train(model_dir, path, out, **columns):
    from trainer_backend.training.train import run_training

    cfg = TrainConfig(model_name_or_path=str(model_dir), dataset=str(path), output_dir=str(out), max_steps=30,
                      eval_steps=10, learning_rate=3e-3, head_lr_factor=1, **columns)
    return run_training(cfg)


@pytest.mark.slow
@pytest.mark.parametrize("classes, pair", [(("red", "green", "blue"), False), (("neg", "pos"), False),
                                           (("a", "b", "c"), True)])
def test_the_tiny_model_beats_the_floor_and_the_checkpoint_names_the_classes(tiny_model_dir, tmp_path, classes, pair):
    from transformers import AutoConfig

    path = write_learnable_classes(tmp_path / "d.csv", classes, pair=pair)
    columns = dict(sentence1_column="context", sentence2_column="text") if pair else dict(text_column="text")
    result = _train(tiny_model_dir, path, tmp_path / "o", label_column="category", **columns)
    floor = metrics.floor_of_matrix(result.confusion)
    assert len(result.confusion) == len(classes) and floor.accuracy == pytest.approx(1 / len(classes), abs=0.02)
    assert result.metrics["eval_accuracy"] >= 0.9 > floor.accuracy + 0.2  # one word carries the class
    spec = tasks.task_of(AutoConfig.from_pretrained(tmp_path / "o"))
    assert spec == tasks.TaskSpec("file", ("context", "text") if pair else ("text",), tuple(sorted(classes)))
    record = json.loads((tmp_path / "o" / "studio_run.json").read_text())
    assert record["label_names"] == sorted(classes) and record["task"] == "file"
    assert ("eval_f1" in result.metrics) == (len(classes) == 2)  # F1 of class 1 for two classes, as GLUE scores


@pytest.mark.slow
def test_a_cola_style_run_reports_matthews_correlation(tiny_model_dir, tmp_path, monkeypatch):
    """A CoLA-shaped task (one sentence, acceptable or not) is scored by glue's cola config, as glue/cola is."""
    monkeypatch.setitem(tasks.NAMED_TASKS, "file", tasks.NamedTask(tasks.TaskSpec("file"), "cola", "a CoLA stand-in"))
    path = write_learnable_classes(tmp_path / "cola.csv", ("unacceptable", "acceptable"))
    result = _train(tiny_model_dir, path, tmp_path / "o", text_column="text", label_column="category")
    assert result.metrics["eval_matthews_correlation"] >= 0.8  # a majority answer scores 0
    assert result.metrics["eval_accuracy"] >= 0.9 and "eval_f1" not in result.metrics  # accuracy: for the floor
    assert "eval_matthews_correlation" in json.loads((tmp_path / "o" / "studio_run.json").read_text())["metrics"]
