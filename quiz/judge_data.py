"""The judge's training data, from seen data only: (key idea, learner's text -> states / silent / contradicts)
pairs, grouped into one example per (question, text) with a target for each idea of that question."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from quiz.agreement import (
    ANSWER_SETS,
    FIFTH_LOOK_SET,
    FOURTH_LOOK_SET,
    SECOND_LOOK_SET,
    SEVENTH_SET,
    SIXTH_LOOK_SET,
    THIRD_LOOK_SET,
    UNSEEN_SET,
    WRONG_KINDS,
    Answer,
    load_answers,
)
from quiz.bank import Bank, Question
from quiz.grading import sentences as split_sentences

SENTENCES_FILE = Path(__file__).resolve().parent / "judge" / "train_sentences.yaml"
# Written for the second adapter: more ways to state each idea, many more hard negatives, and whole answers.
HARD_FILE = Path(__file__).resolve().parent / "judge" / "hard_sentences.yaml"
# Written for the sixth judge (scripts/label_sentences.py): the sentence of each right answer that states a ticked idea.
RIGHT_SENTENCES_FILE = Path(__file__).resolve().parent / "judge" / "right_sentences.yaml"
# The answer sets the judge trains on, and the one kept aside to choose its thresholds and watch its training (never
# trained on). The third judge trained on the first three seen sets only and credited 16 of 55 fluent wrong answers
# on its first look; in hindsight no thresholds fixed that (bench/results/judge_hindsight_firstlook3.json), while a
# judge trained on every earlier set but that one credited 10 of 55 of it at the same thresholds. So the fourth
# judge trains on all of them but the third judge's first-look set, which chooses its thresholds; the figure that
# counts is the first look at sets written after it was frozen (quiz/agreement.py UNSEEN_SETS).
# The sixth judge trains also on the third and fourth judges' first-look sets (a fifth candidate trained with the
# third's credited 0 of 55 wrong answers on its first look) and chooses its thresholds on the set written after the
# fifth candidate, which no judge trained on.
TRAIN_SETS = (*ANSWER_SETS, UNSEEN_SET, SECOND_LOOK_SET, THIRD_LOOK_SET, FOURTH_LOOK_SET)
# Its thresholds were chosen on the fifth set alone first, then (after a second unseen set missed the targets) on
# the fifth, sixth and seventh pooled; its training was watched with the fifth (train_log.json).
TUNE_SETS = (FIFTH_LOOK_SET, SIXTH_LOOK_SET, SEVENTH_SET)

# What a text does to an idea. NOT_STATES means "silent or contradicts, we do not know which" (a whole wrong answer
# against one idea): "states" is trained to 0 and "contradicts" gets no loss (scripts/train_judge.py targets).
SILENT, STATES, CONTRADICTS, NOT_STATES = 0, 1, 2, 3
OTHER_IDEAS_SAMPLE = 15   # sentences of the same question's other ideas paired with each idea


@dataclass(frozen=True)
class Pair:
    """One training pair: a key idea, a learner's text, and what the text does to the idea."""

    key: str      # "<item id>/<idea id>"
    text: str
    label: int    # SILENT, STATES, CONTRADICTS or NOT_STATES


def idea_keys(bank: Bank) -> list[str]:
    """Every key idea of the bank, in a fixed order."""
    return [f"{q.id}/{k.id}" for q in bank.questions + bank.exercises for k in q.key_ideas]


def load_sentences(paths: tuple[Path, ...] = (SENTENCES_FILE, HARD_FILE)) -> dict[str, dict[str, list[str]]]:
    """idea key -> {"states": [...], "wrong": [...]} from the hand-written sentences files, merged."""
    out: dict[str, dict[str, list[str]]] = {}
    for path in paths:
        for key, lines in yaml.safe_load(path.read_text(encoding="utf-8"))["ideas"].items():
            merged = out.setdefault(key, {"states": [], "wrong": []})
            for side in ("states", "wrong"):
                merged[side] += list(lines.get(side) or [])
    return out


def load_whole_answers(path: Path = HARD_FILE) -> dict[str, dict[str, list[str]]]:
    """item id -> {"right": [...], "wrong": [...]}: whole answers written for training (a right one states every
    idea of its question, a wrong one none)."""
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("answers") or {}


# Systematic perturbations: one swap turns a right sentence into a fluent wrong one with the same vocabulary
# (a wrong scope, a wrong direction, swapped terms). Hand-written on purpose: no library knows which swaps are
# wrong *for this course*; each pair is a claim the quiz's questions can get backwards.
SWAPS = (("longest", "shortest"), ("before", "after"), ("first", "last"), ("largest", "smallest"),
         ("each batch", "the whole dataset"), ("per batch", "per epoch"), ("on the fly", "in advance"),
         ("fewer", "more"), ("less", "more"), ("faster", "slower"), ("rows", "columns"), ("row", "column"),
         ("axis=-1", "axis=0"), ("last axis", "first axis"), ("argmax", "argmin"), ("random", "pretrained"),
         ("randomly", "from the checkpoint"), ("discarded", "reused"), ("dropped", "kept"), ("optional", "required"),
         ("validation", "training"), ("held-out", "training"), ("unseen", "training"), ("returns", "takes"),
         ("dictionary", "list"), ("dict", "tuple"), ("logits", "probabilities"), ("predictions", "inputs"),
         ("test_", "eval_"), ("expected", "a bug"), ("normal", "a sign of a bug"), ("new", "old"),
         ("GPU", "CPU"), ("16-bit", "8-bit"), ("halves", "doubles"), ("memory", "disk space"),
         ("model", "tokenizer"), ("labels", "inputs"), ("only the loss", "accuracy and F1"))
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*)(?![\w.])")
_NEGATABLE = re.compile(r"\b(is|are|does|do|can|will|was)\b( not\b)?")


def perturb(sentence: str, rng: random.Random) -> list[str]:
    """Up to two fluent wrong versions of a right sentence: one term swapped, and a number changed or a claim
    negated. Empty when nothing applies."""
    out = []
    swaps = [(a, b) for a, b in SWAPS for x, y in ((a, b), (b, a))
             if re.search(rf"(?<!\w){re.escape(x)}(?!\w)", sentence, re.I)]
    if swaps:
        a, b = rng.choice(swaps)
        x, y = (a, b) if re.search(rf"(?<!\w){re.escape(a)}(?!\w)", sentence, re.I) else (b, a)
        out.append(re.sub(rf"(?<!\w){re.escape(x)}(?!\w)", y, sentence, count=1, flags=re.I))
    number = _NUMBER.search(sentence)
    negation = _NEGATABLE.search(sentence)
    if number:
        value = int(number[1].replace(",", ""))
        changed = f"{value * 2 if value else 1:,}" if "," in number[1] else str(value * 2 if value else 1)
        out.append(sentence[:number.start()] + changed + sentence[number.end():])
    elif negation:
        flipped = negation[1] if negation[2] else f"{negation[1]} not"
        out.append(sentence[:negation.start()] + flipped + sentence[negation.end():])
    return [s for s in out if s != sentence]


def right_sentence_pairs(path: Path = RIGHT_SENTENCES_FILE) -> list[Pair]:
    """Each labelled sentence of a right answer states its idea (scripts/label_sentences.py); none if no file."""
    if not path.exists():
        return []
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["labels"]
    return [Pair(f"{r['item']}/{r['idea']}", r["sentence"], STATES) for r in rows]


def answer_pairs(item: Question, answers: list[Answer], sentences: bool = True) -> list[Pair]:
    """An answer set's pairs: the whole answer against each idea (states when the teacher ticks it), and (with
    `sentences`) each sentence of a wrong answer (which states none)."""
    out = []
    for a in answers:
        if a.item != item.id:
            continue
        for k in item.key_ideas:
            key = f"{item.id}/{k.id}"
            out.append(Pair(key, a.text, STATES if k.id in a.covered else NOT_STATES))
            if sentences and a.kind in WRONG_KINDS:
                out += [Pair(key, s, NOT_STATES) for s in split_sentences(a.text) if len(s) > 3]  # as the grader splits
    return out


@dataclass(frozen=True)
class Example:
    """One training text read as an answer to one question, with what it does to each idea of that question."""

    item: str
    text: str
    labels: dict   # idea key -> SILENT, STATES, CONTRADICTS or NOT_STATES (ideas left out: NOT_STATES)


def examples(pairs: list[Pair]) -> list[Example]:
    """Pairs grouped by (question, text): the judge reads a text once and scores every idea of its question. A
    text seen with two labels for one idea keeps the first (STATES before anything else)."""
    grouped: dict[tuple[str, str], dict[str, int]] = {}
    for p in sorted(pairs, key=lambda p: p.label != STATES):
        grouped.setdefault((p.key.split("/")[0], p.text), {}).setdefault(p.key, p.label)
    return [Example(item, text, labels) for (item, text), labels in grouped.items()]


def build(bank: Bank, seed: int = 0, mixes_per_item: int = 24, answer_sets=TRAIN_SETS) -> list[Pair]:
    """Every training pair: written sentences and their perturbations, other ideas' sentences (silent), whole
    answers, the bank's references and model answers, seen answer sets, and answers mixed from sentences."""
    rng = random.Random(seed)
    sentences = load_sentences()
    whole = load_whole_answers()
    items = bank.questions + bank.exercises
    seen = [a for path in answer_sets for a in load_answers(path)]
    out: list[Pair] = []
    for item in items:
        keys = [f"{item.id}/{k.id}" for k in item.key_ideas]
        written = {key: sentences.get(key, {"states": [], "wrong": []}) for key in keys}
        rights = {f"{item.id}/{k.id}": written[f"{item.id}/{k.id}"]["states"] + list(k.references)
                  for k in item.key_ideas}
        out += answer_pairs(item, seen)
        others = [s for o in items if o.id != item.id for k in o.key_ideas   # other questions' right sentences
                  for s in sentences.get(f"{o.id}/{k.id}", {}).get("states", [])]
        model_answer = " ".join(item.model_answer.split())
        for key in keys:
            out.append(Pair(key, model_answer, STATES))
            out += [Pair(key, " ".join(t.split()), STATES) for t in whole.get(item.id, {}).get("right", [])]
            out += [Pair(key, " ".join(t.split()), NOT_STATES) for t in whole.get(item.id, {}).get("wrong", [])]
            out += [Pair(key, s, STATES) for s in rights[key]]
            out += [Pair(key, s, CONTRADICTS) for s in written[key]["wrong"]]
            out += [Pair(key, p, CONTRADICTS) for s in rights[key] for p in perturb(s, rng)]
            on_topic = [s for other in keys if other != key for s in rights[other] + written[other]["wrong"]]
            # the same question's other ideas: on topic, but not this idea. A sample (with every pair, the dropped
            # three-class pair judge learnt to say "not stated" to everything); grouped into examples, an idea a
            # text is not listed with is NOT_STATES anyway. Kept as drawn: the shipped adapter's data came from
            # this random sequence, so the script reproduces it
            out += [Pair(key, s, NOT_STATES) for s in rng.sample(on_topic, min(OTHER_IDEAS_SAMPLE, len(on_topic)))]
            out += [Pair(key, s, SILENT) for s in rng.sample(others, min(6, len(others)))]
        for _ in range(mixes_per_item):   # answers mixed from sentences: an idea is stated when its line is in
            parts, stated = [], set()
            for key in rng.sample(keys, rng.randint(1, len(keys))):
                right = rng.random() < 0.55
                pool = rights[key] if right else written[key]["wrong"]
                if pool:
                    parts.append(rng.choice(pool))
                    stated |= {key} if right else set()
            if parts:
                rng.shuffle(parts)
                out += [Pair(key, " ".join(parts), STATES if key in stated else NOT_STATES) for key in keys]
    return out + right_sentence_pairs()
