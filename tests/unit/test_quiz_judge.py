"""The quiz's judge: the shipped adapter, its hand-rolled merge against peft's, and its training data."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from quiz import grading, judge
from quiz.bank import default_bank
from quiz.judge_data import (
    HARD_FILE,
    SENTENCES_FILE,
    TRAIN_SETS,
    TUNE_SETS,
    build,
    examples,
    idea_keys,
    load_sentences,
    load_whole_answers,
    perturb,
)

ROOT = Path(__file__).resolve().parents[2]
EVAL_AGREEMENT = 0.9256  # the shipped adapter's last evaluation (train_log.json, on the tuning set)


def test_the_adapter_is_small_and_knows_every_idea_of_the_bank():
    files = sorted(p.name for p in judge.ADAPTER_DIR.iterdir())
    assert {"adapter_config.json", "adapter_model.safetensors", "ideas.json", "train_log.json"} <= set(files)
    size = sum(p.stat().st_size for p in judge.ADAPTER_DIR.iterdir())
    assert size < 3_000_000, size
    keys = json.loads((judge.ADAPTER_DIR / "ideas.json").read_text())
    assert keys == idea_keys(default_bank())
    assert judge.load().model.config.num_labels == 2 * len(keys)   # states and contradicts, per idea


def test_the_hand_rolled_merge_gives_peft_s_logits():
    peft = pytest.importorskip("peft")

    ours = judge.load()
    reference = peft.PeftModel.from_pretrained(judge.base_model(ours.keys), str(judge.ADAPTER_DIR)).eval()
    enc = ours.tokenizer(["Dynamic padding"] * 2, ["It pads per batch.", "It pads to 512."], padding=True,
                         return_tensors="pt")
    with torch.inference_mode():
        expected = reference(**enc).logits
        got = ours.model(**enc).logits
    assert torch.allclose(expected, got, atol=1e-4), (expected - got).abs().max()


def test_probabilities_have_one_row_per_text_and_two_columns_per_idea():
    j = judge.load()
    probs = j.probabilities("Dynamic padding", ["It pads per batch.", "Unrelated words about cooking."])
    assert probs.shape == (2, 2 * len(j.keys)) and ((probs >= 0) & (probs <= 1)).all()
    assert j.probabilities("x", []).shape == (0, 2 * len(j.keys))


def test_read_takes_the_best_sentence_and_knows_a_right_claim_from_its_opposite():
    j = judge.load()
    pieces = ["I had a long day.", "The collator pads each batch only to the longest pair in that batch."]
    right, untrained = j.read("Dynamic padding", ["dynamic_padding/per_batch", "dynamic_padding/nope"],
                              " ".join(pieces), pieces)
    # the best piece is the second sentence (evidence 1); the fourth judge is more cautious than the third (0.46,
    # "compare with our answer", where the third said 0.6+), but still ranks the right claim above its opposite
    assert untrained is None and right.evidence == 1 and right.states >= grading.UNSURE
    wrong = j.read("Dynamic padding", ["dynamic_padding/per_batch"],
                   "It pads every batch to the longest pair of the whole dataset, computed once.", [])[0]
    assert wrong.states < right.states - 0.1 and wrong.states < grading.COVER


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


def test_targets_train_states_everywhere_and_contradicts_only_where_known():
    from quiz.judge_data import CONTRADICTS, NOT_STATES, SILENT, STATES, Example
    from scripts.train_judge import IGNORE, targets

    keys = ["q/a", "q/b", "q/c", "q/d", "other/x"]
    got = targets(Example("q", "t", {"q/a": STATES, "q/b": CONTRADICTS, "q/c": SILENT}), keys)
    assert got == [1.0, 0.0, 0.0, 0.0, IGNORE] + [0.0, 1.0, 0.0, IGNORE, IGNORE]   # q/d left out: NOT_STATES
    assert targets(Example("q", "t", {"q/a": NOT_STATES}), keys)[5] == IGNORE


def test_training_data_is_seen_data_only():
    # The sets that measure or tune the judge never feed its training: not the set that chose its thresholds, not
    # the one written after it was frozen.
    from quiz import agreement as sets
    from quiz.agreement import UNSEEN_SETS, load_answers

    assert set(TRAIN_SETS) == {*sets.ANSWER_SETS, sets.UNSEEN_SET, sets.SECOND_LOOK_SET, sets.THIRD_LOOK_SET,
                               sets.FOURTH_LOOK_SET}
    assert TUNE_SETS == (sets.FIFTH_LOOK_SET, sets.SIXTH_LOOK_SET, sets.SEVENTH_SET)
    assert not {*TUNE_SETS, *UNSEEN_SETS, sets.EIGHTH_LOOK_SET, sets.NINTH_LOOK_SET} & set(TRAIN_SETS)
    assert not set(UNSEEN_SETS) & set(TUNE_SETS)
    bank = default_bank()
    keys = set(idea_keys(bank))
    assert set(load_sentences()) <= keys  # every written sentence belongs to an idea of the bank
    assert set(load_whole_answers()) <= {q.id for q in bank.questions + bank.exercises}
    pairs = build(bank, seed=1)
    assert {p.key for p in pairs} == keys and {p.label for p in pairs} == {0, 1, 2, 3}
    assert all(set(e.labels) <= keys and all(k.startswith(e.item + "/") for k in e.labels) for e in examples(pairs))
    texts = {p.text for p in pairs}
    # (the fifth set's short compute_metrics answer is word for word one of the third set's: two helpers wrote the
    # same terse line; bench/results/grading_firstlook5.txt)
    repeated = {'Gets (logits, labels); returns a dict like {"accuracy": ..., "f1": ...}.'}
    for path in (*TUNE_SETS, *UNSEEN_SETS):  # the sets that tune or measure it
        assert not ({a.text for a in load_answers(path)} - repeated) & texts, path.name
        # nor a sentence of one (a written training line is never copied out of a set that measures or tunes)
        answers = " ".join(a.text for a in load_answers(path))
        # (prose lines only: a short run of code such as "data_collator=data_collator, processing_class=tokenizer"
        # is how anyone writes that call, and the third first-look set's writer never saw the training lines)
        lines = [s for v in load_sentences().values() for s in v["states"] + v["wrong"]
                 if len(s) > 40 and len(s.split()) >= 6]
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
    assert src.index("set_seed(SEED)") < src.index("judge.base_model(keys)")  # the Lesson's advice, followed
    assert "from_pretrained(" in Path(judge.__file__).read_text()
    assert "Trainer(" in src and "DataCollatorWithPadding" in src
    log = json.loads((judge.ADAPTER_DIR / "train_log.json").read_text())
    # "states" as the most likely class, on the tuning sets' whole answers against each idea
    assert log["eval"]["eval_idea_agreement"] == pytest.approx(EVAL_AGREEMENT, abs=1e-3)
    # the sixth judge continued the fourth's adapter (the script's docstring says why and how to reproduce it)
    assert log["init"] and log["epochs"] == 4 and log["lr"] == 2.5e-4
    assert log["rank"] == judge.RANK and log["layers"] == judge.LAYERS
    assert out.returncode == 0, out.stderr


def test_perturbations_keep_the_words_and_change_the_claim():
    import random

    rng = random.Random(0)
    swapped, negated = perturb("Each batch is padded to the longest sequence in it.", rng)
    assert "shortest" in swapped or "the whole dataset" in swapped
    assert "is not padded" in negated
    assert perturb("1,377 steps in all", rng)[-1] == "2,754 steps in all"
    assert perturb("Hello there", rng) == []


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
    chosen = saved["chosen"]
    assert (grading.COVER, grading.UNSURE, grading.VETO) == (chosen["cover"], chosen["unsure"], chosen["veto"])
    # the rule: no idea of a right answer marked missed; every model answer whole; at most 5% of the wrong answers
    # credited on the pooled tuning sets (half the target), or (no pair on the grid managed both) the fewest credited
    assert chosen["right_missed"] == 0
    tune = _tune_module()
    rows = tune.probabilities([str(p) for p in TUNE_SETS])
    assert tune.model_answers_covered(rows, chosen["cover"], chosen["veto"])
    whole = [s for s in saved["sweep"] if tune.model_answers_covered(rows, s["cover"], s["veto"])]
    assert tune.MAX_WRONG_CREDITED == 0.05
    allowed = [s for s in whole if s["wrong_credited"] <= 0.05 * s["wrong"]] or [
        s for s in whole if s["wrong_credited"] == min(w["wrong_credited"] for w in whole)]
    assert chosen["agreement"] == max(s["agreement"] for s in allowed)


def test_the_tuning_rule_trades_agreement_for_few_wrong_answers_credited():
    tune = _tune_module()
    # two wrong answers at P(states) 0.45 and 0.2, one right answer whose ideas have P 0.5 and 0.3
    rows = [{"kind": "wrong", "teacher": [], "ideas": {"a": [0.45, 0.0, False, False], "b": [0.2, 0.0, False, False]}},
            {"kind": "wrong", "teacher": [], "ideas": {"a": [0.1, 0.0, False, False], "b": [0.05, 0.0, False, False]}},
            {"kind": "full", "teacher": ["a", "b"], "ideas": {"a": [0.5, 0.0, False, False], "b": [0.3, 0.0, False, False]}}]
    best, sweep = tune.choose(rows)
    assert best["cover"] == 0.5 and best["wrong_credited"] == 0   # 0.3 would agree more but credit a wrong answer
    assert best["unsure"] < 0.3 and best["right_missed"] == 0      # the right idea at 0.3 is "compare", not missed
    assert best["veto"] == 1.01                                     # no contradiction anywhere: no veto needed
    vetoed = [{"kind": "full", "teacher": ["a"], "ideas": {"a": [0.95, 0.0, True, False]}}]
    assert tune.score(vetoed, 0.5, 0.1, 1.01)["right_missed"] == 1  # a misconception veto keeps it open ...
    vetoed[0]["ideas"]["a"][0] = 0.99
    assert tune.score(vetoed, 0.5, 0.1, 1.01)["right_missed"] == 0  # ... unless the judge is near certain
    # an idea no sentence supports (grading.supported) is never credited, at any COVER: the sweep sees what ships
    unsupported = [{"kind": "wrong", "teacher": [], "ideas": {"a": [0.99, 0.0, False, True]}}]
    assert all(tune.score(unsupported, c, 0.1, 1.01)["wrong_credited"] == 0 for c in tune.GRID)
    # a wrong answer the judge reads as stating an idea AND contradicting it: a veto keeps it from being credited
    rows[0]["ideas"]["a"] = [0.9, 0.8, False, False]
    best, _ = tune.choose(rows)
    assert best["wrong_credited"] == 0 and best["veto"] == 0.8 and best["cover"] == 0.3  # and 0.3 is safe now


def test_the_labelled_sentences_come_from_right_answers_that_tick_their_idea():
    """quiz/judge/right_sentences.yaml (scripts/label_sentences.py): each label is a sentence, as the grader splits
    it, of a right training answer (or a model answer) whose teacher ticked that idea; none from a set that tunes or
    measures the judge."""
    import yaml

    from quiz.agreement import FIFTH_LOOK_SET, RIGHT_KINDS, load_answers
    from quiz.judge_data import RIGHT_SENTENCES_FILE, STATES, right_sentence_pairs

    bank = default_bank()
    ticked = {}   # (item, sentence) -> ideas ticked in an answer with that sentence
    sources = [(a.item, a.text, a.covered) for path in TRAIN_SETS for a in load_answers(path) if a.kind in RIGHT_KINDS]
    sources += [(q.id, " ".join(q.model_answer.split()), {k.id for k in q.key_ideas})
                for q in bank.questions + bank.exercises]
    for item, text, covered in sources:
        for s in grading.sentences(text):
            ticked.setdefault((item, s), set()).update(covered)
    rows = yaml.safe_load(RIGHT_SENTENCES_FILE.read_text(encoding="utf-8"))["labels"]
    assert len(rows) == 917
    assert all(r["idea"] in ticked.get((r["item"], r["sentence"]), set()) for r in rows)
    assert sum(r["by"] == "claim" for r in rows) == 819 and all(r["p"] >= 0.3 for r in rows if r["by"] == "judge")
    # (every label comes from a training answer, checked above; the sets written after the labels repeat some
    # sentences of earlier sets, which bench/results/grading_firstlook6.txt reports, so only the fifth set's are
    # compared here, the one that existed when they were made: its repeated compute_metrics answer's two pieces
    # and one four-word line anyone writes)
    tuning = {s for a in load_answers(FIFTH_LOOK_SET) for s in grading.sentences(a.text)}
    common = {"Gets (logits, labels);", 'returns a dict like {"accuracy": ..., "f1": ...}.', "trainer.train() starts it."}
    assert not {r["sentence"] for r in rows} & tuning - common
    pairs = right_sentence_pairs()
    assert len(pairs) == len(rows) and {p.label for p in pairs} == {STATES}
    assert pairs[0] in build(bank, seed=1)
