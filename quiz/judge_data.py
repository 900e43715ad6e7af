"""The judge's training examples (question, learner text, the key ideas it states), built from seen data only."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from quiz.agreement import ANSWER_SETS, UNSEEN_SET, Answer, load_answers
from quiz.bank import Bank

SENTENCES_FILE = Path(__file__).resolve().parent / "judge" / "train_sentences.yaml"
# Written for the second adapter: more ways to state each idea, many more hard negatives, and whole answers.
HARD_FILE = Path(__file__).resolve().parent / "judge" / "hard_sentences.yaml"
# The answer sets the judge trains on, and the one kept aside to choose its thresholds (all four were seen by
# the old pattern grader; none of them measures the judge's first look, see tests/data/grading_answers_unseen.yaml).
TRAIN_SETS = ANSWER_SETS[:3]
TUNE_SET = ANSWER_SETS[3]
# The old unseen set (tests/data/grading_answers_unseen.yaml) had its first look with the first adapter; since then
# it is seen, and it is used only to tune and validate (thresholds, the evaluation during training), never to
# train. The figure that counts for the current judge is the first look at a set written after it was frozen.
TUNE_SETS = (TUNE_SET, UNSEEN_SET)


@dataclass(frozen=True)
class Example:
    """One training example: a question, a learner's text, and the key ideas a teacher says it states."""

    item: str
    text: str
    states: frozenset[str]   # idea keys "<item id>/<idea id>"


def idea_keys(bank: Bank) -> list[str]:
    """Every key idea of the bank, in a fixed order: the judge's output columns."""
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


def answer_examples(answers: list[Answer]) -> list[Example]:
    """Answers of a set, each with the ideas the teacher ticks."""
    return [Example(a.item, a.text, frozenset(f"{a.item}/{i}" for i in a.covered)) for a in answers]


def build(bank: Bank, seed: int = 0, mixes_per_item: int = 40, answer_sets=TRAIN_SETS) -> list[Example]:
    """Every training example: seen answer sets, the bank's references and model answers, the written sentences,
    and answers mixed from those sentences (an idea is stated exactly when one of its `states` lines is in)."""
    rng = random.Random(seed)
    sentences = load_sentences()
    whole = load_whole_answers()
    items = bank.questions + bank.exercises
    out = answer_examples([a for path in answer_sets for a in load_answers(path)])
    for item in items:
        keys = [f"{item.id}/{k.id}" for k in item.key_ideas]
        out.append(Example(item.id, " ".join(item.model_answer.split()), frozenset(keys)))
        written_answers = whole.get(item.id, {})
        out += [Example(item.id, " ".join(t.split()), frozenset(keys)) for t in written_answers.get("right", [])]
        out += [Example(item.id, " ".join(t.split()), frozenset()) for t in written_answers.get("wrong", [])]
        written = {key: sentences.get(key, {"states": [], "wrong": []}) for key in keys}
        for k in item.key_ideas:
            key = f"{item.id}/{k.id}"
            out += [Example(item.id, s, frozenset({key})) for s in written[key]["states"] + list(k.references)]
            out += [Example(item.id, s, frozenset()) for s in written[key]["wrong"]]
        for _ in range(mixes_per_item):
            parts, stated = [], set()
            for key in rng.sample(keys, rng.randint(1, len(keys))):
                right = bool(written[key]["states"]) and rng.random() < 0.55
                pool = written[key]["states"] if right else written[key]["wrong"]
                if pool:
                    parts.append(rng.choice(pool))
                    stated |= {key} if right else set()
            if parts:
                rng.shuffle(parts)
                out.append(Example(item.id, " ".join(parts), frozenset(stated)))
        # Off-topic: right sentences of another question state none of this one's ideas.
        others = [s for other in items if other.id != item.id
                  for k in other.key_ideas for s in sentences.get(f"{other.id}/{k.id}", {}).get("states", [])]
        out += [Example(item.id, s, frozenset()) for s in rng.sample(others, min(8, len(others)))]
    return out
