"""The lesson's numbers come from code: steps from the Trainer's defaults, the floor and the noise from the split."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from lesson import figures, sections


def test_steps_match_what_a_dataloader_yields():
    import torch

    r = figures.seed_recipe()
    assert (r.batch_size, r.epochs, r.logging_steps) == (8, 3.0, 500)   # the installed Trainer's defaults
    loader = torch.utils.data.DataLoader(range(figures.GLUE_MRPC_SIZES["train"]), batch_size=r.batch_size,
                                         drop_last=r.drop_last)
    assert r.steps_per_epoch == len(loader) == 459
    assert r.total_steps == 3 * len(loader) == 1377
    assert not r.first_epoch_logged          # 500 > 459: the article's "No log" in epoch 1


def test_majority_floor_matches_the_studios_metric():
    from trainer_backend.metrics import compute_metrics

    n, pos = figures.GLUE_MRPC_SIZES["validation"], figures.GLUE_MRPC_VALIDATION_POSITIVES
    labels = np.array([1] * pos + [0] * (n - pos))
    always_yes = np.tile([0.0, 1.0], (n, 1))
    got = compute_metrics((always_yes, labels))
    floor = figures.majority_floor()
    assert got["accuracy"] == pytest.approx(floor.accuracy) and got["f1"] == pytest.approx(floor.f1)
    assert (f"{floor.accuracy:.2f}", f"{floor.f1:.2f}") == ("0.68", "0.81")


def test_noise_of_408_pairs():
    assert figures.pair_points() == pytest.approx(100 / 408)
    assert f"{figures.pair_points():.2f}" == "0.25"
    se = figures.standard_error_points(0.86, 408)
    rng = np.random.default_rng(0)
    simulated = rng.binomial(408, 0.86, size=20000) / 408 * 100
    assert se == pytest.approx(simulated.std(), rel=0.03)
    assert f"{se:.1f}" == "1.7"


def test_other_defaults_quoted_in_the_lesson():
    v = figures.values()
    assert v["warmup"] == "0" and v["weight_decay"] == "0"
    assert v["max_length"] == "128" and v["minilm_embedding_params"] == "11.7 million"


def test_fill_rejects_unknown_names():
    assert figures.fill("{{steps_total}} steps") == "1,377 steps"
    with pytest.raises(KeyError, match="unknown figure"):
        figures.fill("{{nope}}")


def test_prose_never_types_the_computed_numbers():
    raw = " ".join(s.path.read_text(encoding="utf-8") for s in sections.SECTIONS)
    for typed in ("1,377", "1377", " 459", "0.68", "0.81", "1.7 points", "0.25 points"):
        assert typed not in raw, typed
    shown = " ".join(s.text() for s in sections.SECTIONS)
    assert "{{" not in shown
    for figure in ("1,377", "459 steps per epoch", "0.68 accuracy", "0.81 F1", "0.25 points", "1.7 points"):
        assert figure in shown, figure


def test_issue_11_corrections_are_in_the_prose():
    text = {s.id: s.text() for s in sections.SECTIONS}
    assert "`trainer_output`" in text["args"] and "`evaluation_strategy=` is now `eval_strategy=`" in text["args"]
    assert "`processing_class=` instead of `tokenizer=`" in text["args"]
    assert "silently ignored" in text["args"] and "Frozen word embeddings" in text["args"]
    assert "`metric_for_best_model` defaults to the loss" in text["evaluate"]
    assert "make `save_strategy` match `eval_strategy`" in text["evaluate"] and '"No log"' in text["evaluate"]
    assert "512 tokens for BERT" in text["tokenize"] and "103 tokens" in text["tokenize"]
    assert "UNEXPECTED" in text["model"] and "MISSING" in text["model"] and "coin flips" not in text["model"]
    assert "0.831 and 0.809" in text["model"]
    assert "Colab" not in text["train"]
    assert "GLUE keeps the test labels" in text["load"]
    for topic in ("push_to_hub", "pipeline(", "sst2", "RTE", "Accelerate"):
        assert topic in text["next"], topic


LOCAL_MRPC = Path(__file__).resolve().parents[3] / "shared" / "data" / "mrpc"


@pytest.mark.skipif(not LOCAL_MRPC.is_dir(), reason="needs a local MRPC copy")
def test_longest_training_pair_with_the_uncased_bert_vocabulary():
    from trainer_backend.data import load_data
    from trainer_backend.modeling import load_tokenizer
    from trainer_backend.settings import packaged_model_dir

    tok = load_tokenizer(str(packaged_model_dir()))   # all-MiniLM-L6-v2 ships the uncased BERT vocabulary
    assert tok.vocab_size == 30522 and tok.do_lower_case
    train = load_data(str(LOCAL_MRPC)).dataset["train"]
    lengths = [len(ids) for ids in tok(list(train["sentence1"]), list(train["sentence2"]))["input_ids"]]
    assert len(train) == figures.GLUE_MRPC_SIZES["train"]
    assert max(lengths) == figures.LONGEST_TRAIN_PAIR < figures.studio_max_length()
    assert math.isclose(len(lengths), 3668)
    assert re.fullmatch(r"\d+", str(max(lengths)))
