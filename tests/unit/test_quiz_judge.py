"""The quiz's judge: the shipped adapter, its hand-rolled merge against peft's, and its training data."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from quiz import judge
from quiz.bank import default_bank
from quiz.judge_data import (
    HARD_FILE,
    SENTENCES_FILE,
    TRAIN_SETS,
    TUNE_SET,
    TUNE_SETS,
    build,
    idea_keys,
    load_sentences,
    load_whole_answers,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_adapter_is_small_and_knows_every_idea_of_the_bank():
    files = sorted(p.name for p in judge.ADAPTER_DIR.iterdir())
    assert {"adapter_config.json", "adapter_model.safetensors", "ideas.json"} <= set(files)
    size = sum(p.stat().st_size for p in judge.ADAPTER_DIR.iterdir())
    assert size < 3_000_000, size
    keys = json.loads((judge.ADAPTER_DIR / "ideas.json").read_text())
    assert keys == idea_keys(default_bank())


def test_the_hand_rolled_merge_gives_peft_s_logits():
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    from trainer_backend.settings import packaged_model_dir

    hf_logging.set_verbosity_error()
    ours = judge.load()
    n = len(ours.keys)
    base = AutoModelForSequenceClassification.from_pretrained(str(packaged_model_dir()), num_labels=n,
                                                              problem_type="multi_label_classification")
    reference = peft.PeftModel.from_pretrained(base, str(judge.ADAPTER_DIR)).eval()
    enc = ours.tokenizer(["Dynamic padding"] * 2, ["It pads per batch.", "It pads to 512."], padding=True,
                         return_tensors="pt")
    with torch.inference_mode():
        expected = reference(**enc).logits
        got = ours.model(**enc).logits
    assert torch.allclose(expected, got, atol=1e-4), (expected - got).abs().max()


def test_probabilities_have_one_row_per_text_and_one_column_per_idea():
    j = judge.load()
    probs = j.probabilities("Dynamic padding", ["It pads per batch.", "Unrelated words about cooking."])
    assert probs.shape == (2, len(j.keys)) and ((probs >= 0) & (probs <= 1)).all()
    assert j.probabilities("x", []).shape == (0, len(j.keys))


def test_an_answer_asked_again_is_answered_from_the_cache_with_the_same_figures():
    j = judge.load()
    texts = ["It pads each batch to its own longest pair.", "It pads every pair to 512."]
    first = j.probabilities("Dynamic padding", texts)
    hits = j._cached.cache_info().hits
    again = j.probabilities("Dynamic padding", list(texts))
    assert j._cached.cache_info().hits == hits + 1 and np.array_equal(first, again)
    assert np.array_equal(again, j._compute("Dynamic padding", texts))  # the cache changes no figure
    with pytest.raises(ValueError):
        again[0, 0] = 1.0  # read-only: one caller cannot change what the next is told
    assert not np.array_equal(j.probabilities("Dynamic padding", texts[:1]), again)  # other texts: computed anew


def test_training_data_is_seen_data_only():
    # The sets that measure or tune the judge never feed its training: neither unseen set is among them.
    from quiz.agreement import ANSWER_SETS, FIRST_LOOK_SET, UNSEEN_SET, load_answers

    assert set(TRAIN_SETS) | {TUNE_SET} == set(ANSWER_SETS) and TUNE_SET not in TRAIN_SETS
    assert UNSEEN_SET not in ANSWER_SETS and FIRST_LOOK_SET not in ANSWER_SETS
    assert set(TUNE_SETS) == {TUNE_SET, UNSEEN_SET} and FIRST_LOOK_SET not in TUNE_SETS
    bank = default_bank()
    keys = set(idea_keys(bank))
    assert set(load_sentences()) <= keys  # every written sentence belongs to an idea of the bank
    assert set(load_whole_answers()) <= {q.id for q in bank.questions + bank.exercises}
    examples = build(bank, seed=1)
    assert all(e.states <= keys and all(k.startswith(e.item + "/") for k in e.states) for e in examples)
    texts = {e.text for e in examples}
    for path in (p for p in (UNSEEN_SET, FIRST_LOOK_SET) if p.exists()):
        assert not {a.text for a in load_answers(path)} & texts, path.name
        # nor a sentence of one (a written training line is never copied out of a set that measures or tunes)
        answers = " ".join(a.text for a in load_answers(path))
        lines = [s for v in load_sentences().values() for s in v["states"] + v["wrong"] if len(s) > 40]
        assert not [s for s in lines if s in answers], path.name
    for path in (SENTENCES_FILE, HARD_FILE):
        assert "an answer from a set that measures the judge" in path.read_text()


def test_the_hard_negatives_outnumber_the_ways_to_state_each_idea():
    # The first judge credited fluent, subtly wrong answers; the second trains on more wrong lines than right.
    sentences = load_sentences()
    assert len(sentences) == len(idea_keys(default_bank()))
    for key, lines in sentences.items():
        assert len(lines["wrong"]) >= len(lines["states"]) >= 6, key
    whole = load_whole_answers()
    assert all(len(v["wrong"]) >= 2 and v["right"] for v in whole.values())


def test_the_train_script_documents_how_to_reproduce():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_judge.py"), "--help"], capture_output=True,
                         text=True, cwd=ROOT, check=False)
    src = (ROOT / "scripts" / "train_judge.py").read_text()
    assert src.index("set_seed(SEED)") < src.index("from_pretrained(")  # the Lesson's advice, followed
    assert "Trainer(" in src and "DataCollatorWithPadding" in src
    log = json.loads((judge.ADAPTER_DIR / "train_log.json").read_text())
    # at P > 0.5, on the tuning sets; the shipped adapter continues a first run of four epochs (--init)
    assert log["eval"]["eval_idea_agreement"] == pytest.approx(0.8672, abs=1e-3)
    first = json.loads((judge.ADAPTER_DIR / "train_log_first_run.json").read_text())
    assert log["init"] and first.get("init") is None and first["train"]["epoch"] == 4
    assert out.returncode == 0, out.stderr


def _tune_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tune_judge", ROOT / "scripts" / "tune_judge.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_grader_uses_the_thresholds_the_tuning_rule_chose():
    from quiz import grading

    saved = json.loads((ROOT / "bench" / "results" / "judge_thresholds.json").read_text())
    assert saved["sets"] == [p.name for p in TUNE_SETS]
    assert (grading.COVER, grading.UNSURE) == (saved["chosen"]["cover"], saved["chosen"]["unsure"])
    # the rule: at most 5% of the wrong answers credited, and no idea of a right answer marked missed
    assert saved["chosen"]["wrong_credited"] <= 0.05 * saved["chosen"]["wrong"]
    assert saved["chosen"]["right_missed"] == 0
    allowed = [s for s in saved["sweep"] if s["wrong_credited"] <= 0.05 * s["wrong"]]
    assert saved["chosen"]["agreement"] == max(s["agreement"] for s in allowed)


def test_the_tuning_rule_trades_agreement_for_few_wrong_answers_credited():
    tune = _tune_module()
    # two wrong answers at P 0.45 and 0.2, one right answer whose idea has P 0.5 and one right idea at 0.3
    rows = [{"kind": "wrong", "teacher": [], "ideas": {"a": [0.45, False], "b": [0.2, False]}},
            {"kind": "wrong", "teacher": [], "ideas": {"a": [0.1, False], "b": [0.05, False]}},
            {"kind": "full", "teacher": ["a", "b"], "ideas": {"a": [0.5, False], "b": [0.3, False]}}]
    best, sweep = tune.choose(rows)
    assert best["cover"] == 0.5 and best["wrong_credited"] == 0   # 0.3 would agree more but credit a wrong answer
    assert best["unsure"] < 0.3 and best["right_missed"] == 0      # the right idea at 0.3 is "compare", not missed
    vetoed = [{"kind": "full", "teacher": ["a"], "ideas": {"a": [0.99, True]}}]
    assert tune.score(vetoed, 0.5, 0.1)["right_missed"] == 1      # a misconception veto always keeps it open
