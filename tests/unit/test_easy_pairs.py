"""Made-up easy pairs (issue 20, item 1): a sentence beside itself (paraphrase) and two unrelated sentences (not),
mixed into the training split of a paraphrase task only; the validation split and the record's real counts stay."""
from __future__ import annotations

from collections import Counter

import pytest

from trainer_backend import data, easy_pairs, presets, settings
from trainer_backend.config import MAX_EASY_RATIO, ConfigError, TrainConfig
from trainer_backend.notes import EasyPairs
from trainer_backend.tasks import MRPC, TaskSpec
from wording.run_notes import note_text

FP32_CPU = settings.Hardware("cpu", "c", False, False, 2)
BF16_CPU = settings.Hardware("cpu", "c", True, False, 2)


def _rows(ds) -> Counter:
    return Counter(zip(ds["sentence1"], ds["sentence2"], ds["label"]))


def test_easy_rows_alternate_identical_paraphrases_and_unrelated_non_paraphrases():
    first = [f"first sentence {i}" for i in range(20)]
    second = [f"second sentence {i}" for i in range(20)]
    rows = easy_pairs.easy_rows(first, second, 31, seed=3)
    assert len(rows) == 31 and [y for *_, y in rows] == [1, 0] * 15 + [1]
    for a, b, y in rows:
        if y == 1:
            assert a == b and a in first + second
        else:  # one pair's first sentence beside another pair's second
            assert a in first and b in second and first.index(a) != second.index(b)
    assert rows == easy_pairs.easy_rows(first, second, 31, seed=3)       # seeded: a resumed run gets the same
    assert rows != easy_pairs.easy_rows(first, second, 31, seed=4)
    assert easy_pairs.easy_rows(first[:1], second[:1], 4, seed=0) == []   # one pair has no unrelated partner


def test_as_many_easy_pairs_as_real_ones_keeps_every_real_pair_and_the_features():
    train = data.sample()["train"]
    mixed, added = easy_pairs.add_easy_pairs(train, 1.0, seed=1)
    assert added == len(train) == 400 and len(mixed) == 800
    assert mixed.features == train.features  # the ClassLabel names, so the Trainer and metrics read it as before
    made_up = _rows(mixed) - _rows(train)
    assert sum(made_up.values()) == 400 and not _rows(train) - _rows(mixed)  # nothing real is lost
    labels = Counter(y for *_, y in made_up.elements())
    assert labels == {1: 200, 0: 200}
    assert list(mixed["label"][:50]) != sorted(mixed["label"][:50])  # shuffled, not appended in a block
    same, none = easy_pairs.add_easy_pairs(train, 0.0, seed=1)
    assert none == 0 and same is train
    half, n = easy_pairs.add_easy_pairs(train, 0.5, seed=1)
    assert (n, len(half)) == (200, 600)


def test_only_a_paraphrase_task_gets_them():
    assert easy_pairs.applies(MRPC)
    assert not easy_pairs.applies(TaskSpec("glue/rte", label_names=("entailment", "not_entailment")))
    assert not easy_pairs.applies(TaskSpec("sst2", ("sentence",), ("negative", "positive")))


@pytest.mark.parametrize("bad", [-0.5, 3.5])
def test_a_ratio_out_of_bounds_is_refused_by_name(bad):
    with pytest.raises(ConfigError, match=r"easy_pair_ratio=.* must be 0 to 3 \(made-up pairs per real pair"):
        TrainConfig(easy_pair_ratio=bad)
    assert TrainConfig(easy_pair_ratio=MAX_EASY_RATIO).easy_pair_ratio == 3.0


def test_training_on_a_task_that_is_not_paraphrase_skips_them_and_says_why(tmp_path):
    from trainer_backend.training.train import mix_in_easy_pairs

    loaded = data.load_data("sample-sentiment")
    before = len(loaded.dataset["train"])
    note = mix_in_easy_pairs(loaded, 1.0, seed=0)
    assert note.added == 0 and note.real == before and len(loaded.dataset["train"]) == before
    assert note_text(note).startswith("no easy pairs added: they are made for a paraphrase task")
    paraphrase = data.load_data("sample")
    note = mix_in_easy_pairs(paraphrase, 1.0, seed=0)
    assert (note.added, note.real, len(paraphrase.dataset["train"])) == (400, 400, 800)
    assert len(paraphrase.dataset["validation"]) == 80  # validation stays all real
    assert note_text(note).startswith("400 made-up easy pairs mixed into the 400 real training pairs")
    assert "its early fall is mostly the easy pairs being learned" in note_text(note)  # what the learner sees, plainly


def test_quick_look_mixes_them_in_only_on_the_fp32_path_and_says_so():
    fp32 = presets.get(presets.QUICK_LOOK, FP32_CPU)
    assert fp32.config.easy_pair_ratio == 1.0 and "made-up easy pairs" in fp32.description
    for name in (presets.SEED_SPREAD, presets.PRECISION_AB):  # the same runs, so they stay comparable
        assert presets.get(name, FP32_CPU).config.easy_pair_ratio == 1.0
    assert presets.get(presets.QUICK_LOOK, BF16_CPU).config.easy_pair_ratio == 0.0  # not measured there
    assert TrainConfig().easy_pair_ratio == 0.0  # the default recipe trains on real pairs only


def test_the_note_round_trips_as_a_typed_fact():
    note = EasyPairs(added=10, real=10)
    assert EasyPairs.model_validate(note.model_dump()) == note and note.kind == "easy_pairs"


def test_the_runs_table_names_the_easy_pairs_a_run_trained_with(tmp_path):
    from trainer_backend.runs.store import RunStore
    from ui.train_view import _settings_summary

    store = RunStore(tmp_path / "runs.db")
    with_pairs = store.get(store.create(presets.get(presets.QUICK_LOOK, FP32_CPU).config.to_dict()))
    without = store.get(store.create(TrainConfig().to_dict()))
    assert "easy pairs 1× real" in _settings_summary(with_pairs)
    assert "easy pairs" not in _settings_summary(without)


def test_a_run_prepared_with_easy_pairs_trains_on_both_and_records_the_real_count(tiny_model_dir, tmp_path):
    from trainer_backend.training.train import prepare

    cfg = TrainConfig(model_name_or_path=str(tiny_model_dir), dataset="sample", output_dir=str(tmp_path),
                      easy_pair_ratio=1.0, seed=7)
    prepared = prepare(cfg, FP32_CPU)
    assert len(prepared.tokenized["train"]) == 800 and len(prepared.tokenized["validation"]) == 80
    assert prepared.record.n_train == 400 and "train 400" in prepared.record.data  # the real split's size
    assert EasyPairs(added=400, real=400) in prepared.record.notes
    again = prepare(cfg, FP32_CPU)  # a resumed run rebuilds the same split
    assert again.tokenized["train"]["input_ids"] == prepared.tokenized["train"]["input_ids"]


def test_an_epoch_of_a_run_with_easy_pairs_is_counted_over_both_in_the_eta():
    from web.estimate import samples_to_train

    plain = TrainConfig(num_train_epochs=2, max_train_samples=300)
    assert samples_to_train(plain, 400, 8) == 600
    assert samples_to_train(plain.replace(easy_pair_ratio=1.0), 400, 8) == 1200
    steps_budget = presets.get(presets.QUICK_LOOK, FP32_CPU).config  # a step budget does not grow with them
    assert samples_to_train(steps_budget, 400, 8) == 250 * 8


def test_a_split_of_one_repeated_sentence_ends_without_looping():
    rows = easy_pairs.easy_rows(["same"] * 5, ["same"] * 5, 10, seed=0)
    assert [y for *_, y in rows] == [1]  # no unrelated partner exists: the first positive, then no negative, ever


def test_a_split_with_easy_pairs_stays_within_the_row_limit_of_any_split():
    assert easy_pairs.how_many(400, 1.0) == 400 and easy_pairs.how_many(400, 0.5) == 200
    assert easy_pairs.how_many(150_000, 3.0) == data.MAX_ROWS - 150_000
    assert easy_pairs.how_many(data.MAX_ROWS, 1.0) == 0


def test_the_ratio_recorded_is_the_one_used_so_a_skipped_task_claims_none():
    from trainer_backend.runs.record import RunRecord
    from trainer_backend.training.train import easy_ratio_used

    cfg = TrainConfig(easy_pair_ratio=1.0)
    added = RunRecord(notes=[EasyPairs(added=400, real=400)])
    skipped = RunRecord(notes=[EasyPairs(added=0, real=67, skipped="not a paraphrase task")])
    assert easy_ratio_used(cfg, added) == 1.0
    assert easy_ratio_used(cfg, skipped) is None and easy_ratio_used(TrainConfig(), RunRecord()) is None
