"""Inference: input hygiene, batching that matches single answers, model choice, loading errors, cache, files."""
from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import HUB_ID, write_pairs
from trainer_backend import serving
from trainer_backend.data import DataError
from trainer_backend.runs.store import RunStore
from trainer_backend.serving import InferenceError, ModelCache, ModelRef
from trainer_backend.serving.predict_table import predict_table

pytest_plugins = ["tests.predict_fixtures"]  # one CLI-trained checkpoint for the whole session


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint):
    return serving.load_predictor(ModelRef(str(tiny_checkpoint), "tiny run", "chosen"))


# --- input hygiene ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "\t\n ", None, "\x00\x07\x1b"])
def test_empty_or_invisible_sentences_are_a_clear_error(text):
    with pytest.raises(InferenceError, match="Sentence 1 is empty"):
        serving.clean_sentence(text, "Sentence 1")


def test_control_characters_are_replaced_and_reported():
    cleaned, notes = serving.clean_sentence("a\x00b\u200bc\x07", "Sentence 2")
    assert cleaned == "a b c" and "3 control" in notes[0]


def test_very_long_sentences_are_cut_with_a_note():
    cleaned, notes = serving.clean_sentence("words " * 20_000, "Sentence 1")
    assert len(cleaned) == serving.MAX_CHARS
    assert "119,999 characters" in notes[0] and "2,000" in notes[0]


# --- the predictor ------------------------------------------------------------------------------
@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_predictor_reads_labels_and_facts_from_the_run(predictor, tiny_checkpoint):
    assert predictor.labels == ["not_paraphrase", "paraphrase"]
    assert predictor.max_length == 64  # the run's training length from studio_run.json
    results = json.loads((tiny_checkpoint / "all_results.json").read_text(encoding="utf-8"))
    assert predictor.record.metrics["eval_accuracy"] == pytest.approx(results["eval_accuracy"])  # the run's record
    assert "model.safetensors" in predictor.record.files and predictor.record.hyperparameters.max_length == 64
    assert predictor.memory_bytes > 1_000_000
    assert predictor.loaded_from == str(tiny_checkpoint.resolve())


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_batched_answers_equal_single_answers(predictor):
    pairs = [("A dog ran.", "A dog was running in the park near the river all afternoon long."),
             ("The vote was delayed until Friday because two members were ill.", "The vote moved."),
             ("Short.", "Brief."), ("Prices rose in May.", "In May, prices went up.")]
    together = predictor.predict_pairs(pairs, batch_size=3)  # length-sorted, padded batches
    for pair, joint in zip(pairs, together):
        alone = predictor.predict_pairs([pair])[0]
        assert joint.label == alone.label
        for name in predictor.labels:
            assert joint.confidences[name] == pytest.approx(alone.confidences[name], abs=1e-4)
        assert sum(joint.confidences.values()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_bad_pairs_get_errors_and_good_pairs_still_run(predictor):
    results = predictor.predict_pairs([("", "x"), ("One.", "Two."), ("a", "\x00 \x01")])
    assert "Sentence 1 is empty" in results[0].error and results[0].label is None
    assert results[1].error is None and results[1].label in predictor.labels
    assert "Sentence 2 is empty" in results[2].error


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_long_pairs_are_truncated_with_a_visible_note(predictor):
    result = predictor.predict_pairs([("many words here " * 6000, "and a second sentence")])[0]
    assert result.label in predictor.labels
    assert any("only the first 2,000" in n for n in result.notes)
    assert any("cut off" in n for n in result.notes)


# --- choosing and loading -----------------------------------------------------------------------
@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_default_model_order(tmp_path, tiny_checkpoint, monkeypatch):
    monkeypatch.delenv("PREDICT_MODEL_ID", raising=False)
    store = RunStore(tmp_path / "runs.sqlite")
    assert serving.default_model(store) is None
    with pytest.raises(InferenceError, match="no fine-tuned model yet"):
        serving.resolve_choice("", store)
    run_id = store.create({}, output_root=tmp_path)
    store.update(run_id, status="completed", output_dir=str(tiny_checkpoint), model="tiny",
                 final_metrics={"eval_accuracy": 0.5})
    ref = serving.default_model(store)
    assert (ref.source, ref.spec) == ("run", str(tiny_checkpoint)) and "accuracy 0.500" in ref.title
    store.update(run_id, hub_repo="someone/tiny-finetuned-mrpc")
    ref = serving.default_model(store)
    assert (ref.source, ref.spec, ref.fallback) == ("pushed", "someone/tiny-finetuned-mrpc", str(tiny_checkpoint))
    values = [v for _, v in serving.model_choices(store)]
    assert values == ["someone/tiny-finetuned-mrpc", f"run:{run_id}"]
    assert serving.resolve_choice(f"run:{run_id}", store).spec == str(tiny_checkpoint)
    monkeypatch.setenv("PREDICT_MODEL_ID", "org/from-env")
    assert serving.default_model(store).spec == "org/from-env"


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_folders_are_refused_on_a_public_space(monkeypatch, tiny_checkpoint):
    monkeypatch.setenv("SPACE_ID", "someone/studio")
    with pytest.raises(InferenceError, match="not offered here"):
        serving.resolve_choice(str(tiny_checkpoint))
    assert serving.resolve_choice("org/name").spec == "org/name"


@pytest.mark.parametrize("spec, message", [
    ("not a model!!", "neither a model folder"),
    ("/no/such/folder", "neither a model folder"),
    ("studio-tests/not-downloaded", "HF_HUB_OFFLINE=1"),
])
def test_missing_or_broken_model_ids_are_explained(spec, message):
    with pytest.raises(InferenceError, match=message):
        serving.load_predictor(ModelRef(spec, spec, "chosen"))


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_a_base_model_without_a_trained_head_is_refused(tiny_model_dir, tmp_path):
    with pytest.raises(InferenceError, match="no trained classification head"):
        serving.load_predictor(ModelRef(str(tiny_model_dir), "base", "chosen"))
    with pytest.raises(InferenceError, match="no model weights"):
        serving.load_predictor(ModelRef(str(tmp_path), "empty", "chosen"))


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_loading_by_repo_id_from_the_offline_hub_cache(use_hub_cache):
    loaded = serving.load_predictor(ModelRef(HUB_ID, HUB_ID, "chosen"))
    assert loaded.loaded_from == f"Hub: {HUB_ID}"
    assert loaded.record.hyperparameters.max_length == 64  # studio_run.json resolved from the cache too
    assert loaded.predict_pairs([("One cat.", "A single cat.")])[0].label in loaded.labels


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_a_pushed_model_falls_back_to_its_local_run(tiny_checkpoint):
    ref = ModelRef("studio-tests/never-cached", "pushed", "pushed", fallback=str(tiny_checkpoint))
    loaded = serving.load_predictor(ref)
    assert loaded.loaded_from == str(tiny_checkpoint.resolve()) and "local copy" in loaded.notes[0]


# --- the cache ----------------------------------------------------------------------------------
class _Fake:
    def __init__(self, size: int) -> None:
        self.memory_bytes = size


def test_cache_evicts_least_recently_used_by_memory_and_count():
    cache = ModelCache(max_bytes=250, max_models=3)
    load = lambda ref, progress: _Fake(int(ref.spec.split("-")[1]))
    for spec in ("m-100", "n-100"):
        cache.get(ModelRef(spec, spec, "chosen"), loader=load)
    cache.get(ModelRef("m-100", "", "chosen"), loader=load)  # m is now the most recent
    cache.get(ModelRef("k-100", "", "chosen"), loader=load)  # 300 bytes > 250: evict n
    assert cache.keys() == ["m-100", "k-100"]
    cache.get(ModelRef("big-999", "", "chosen"), loader=load)  # alone above the bound: kept alone
    assert cache.keys() == ["big-999"]


def test_cache_loads_a_model_once_under_concurrency():
    cache, calls = ModelCache(max_bytes=10**9), []

    def slow(ref, progress):
        calls.append(ref.spec)
        threading.Event().wait(0.2)
        return _Fake(1)

    threads = [threading.Thread(target=cache.get, args=(ModelRef("x", "", "chosen"),), kwargs={"loader": slow})
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["x"]


# --- files of pairs -----------------------------------------------------------------------------
@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_predict_table_with_labels_scores_and_writes_csv(predictor, tmp_path):
    report = predict_table(write_pairs(tmp_path / "pairs.tsv"), predictor)
    assert set(report.metrics) == {"accuracy", "f1"}
    assert sum(map(sum, report.confusion)) == 40
    with report.csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40 and {"predicted_label", "probability_paraphrase", "correct"} <= set(rows[0])


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_predict_table_without_labels_and_as_jsonl(predictor, tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps({"a": f"Line {i} here.", "b": f"Here is line {i}."}) for i in range(5)))
    report = predict_table(path, predictor, "a", "b", "label")
    assert report.metrics is None and report.confusion is None and len(report.rows) == 5
    with pytest.raises(DataError, match="missing column"):
        predict_table(path, predictor, "first", "b", "")


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_predict_table_names_a_bad_row(predictor, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("sentence1,sentence2\nfine,also fine\n\x00\x01,second\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 3"):
        predict_table(path, predictor)
    assert Path(path).exists()


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_warm_up_loads_the_default_model_into_the_shared_cache(tiny_checkpoint, monkeypatch):
    """app.launch runs this in a thread; building the app starts none (test_layout_rules)."""
    monkeypatch.setenv("PREDICT_MODEL_ID", str(tiny_checkpoint))
    serving.cache().clear()
    serving.warm_default()
    assert any(key.startswith(str(tiny_checkpoint.resolve())) for key in serving.cache().keys())
    monkeypatch.setenv("PREDICT_MODEL_ID", "/no/such/folder")
    serving.warm_default()  # a failed warm-up is logged, not raised: the first request reports it
