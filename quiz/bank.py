"""The question bank: typed records, loaded from quiz/bank.yaml and validated on load."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from quiz.claims import compile_pattern

BANK_FILE = Path(__file__).resolve().parent / "bank.yaml"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class BankError(ValueError):
    """The bank file is malformed; the message names the file and the offending field."""


@dataclass(frozen=True)
class KeyIdea:
    """One idea a good answer should contain, with the evidence the grader looks for."""

    id: str
    label: str
    references: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    needs_keyword: bool = False
    contradicts: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()

    @functools.cached_property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Topic words: evidence that needs the sentence around them to mean the idea (similarity)."""
        return _compile(self.keywords)

    @functools.cached_property
    def claim_patterns(self) -> tuple[re.Pattern[str], ...]:
        """Phrasings that state the idea on their own."""
        return _compile(self.claims)

    @functools.cached_property
    def contradiction_patterns(self) -> tuple[re.Pattern[str], ...]:
        """Phrasings of the opposite claim."""
        return _compile(self.contradicts)


def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(compile_pattern(k) for k in patterns)


@dataclass(frozen=True)
class Misconception:
    """A wrong belief phrased with the right words; when a learner asserts it, the ideas it names are missed."""

    pattern: str
    note: str
    voids: tuple[str, ...] = ()  # key idea ids it rules out; empty: all of the question's ideas

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return compile_pattern(self.pattern)


@dataclass(frozen=True)
class Question:
    """A quiz question or a practical exercise: write first, then compare with the model answer."""

    id: str
    topic: str
    prompt: str
    model_answer: str
    key_ideas: tuple[KeyIdea, ...]
    train_preset: str | None = None  # name of a constant in trainer_backend.presets
    train_button: str | None = None
    misconceptions: tuple[Misconception, ...] = ()


@dataclass(frozen=True)
class Card:
    """A flashcard: a question on the front, a short answer on the back."""

    id: str
    front: str
    back: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bank:
    """Everything the tab teaches with."""

    questions: tuple[Question, ...]
    exercises: tuple[Question, ...]
    cards: tuple[Card, ...]
    version: int = 1

    def item(self, item_id: str) -> Question:
        """The question or exercise with this id (KeyError if none)."""
        for q in self.questions + self.exercises:
            if q.id == item_id:
                return q
        raise KeyError(f"no question or exercise with id {item_id!r}")

    def card(self, card_id: str) -> Card:
        """The card with this id (KeyError if none)."""
        for c in self.cards:
            if c.id == card_id:
                return c
        raise KeyError(f"no card with id {card_id!r}")

    @property
    def card_ids(self) -> list[str]:
        return [c.id for c in self.cards]


class _Reader:
    """Walks the parsed YAML, raising BankError with a path like `questions[2].key_ideas[0].label`."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str) -> BankError:
        return BankError(f"quiz bank {self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str, required: set[str], optional: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        missing = sorted(required - value.keys())
        if missing:
            raise self.fail(where, f"missing field(s) {', '.join(missing)}")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(map(str, unknown))}")
        return value

    def text(self, value: Any, where: str) -> str:
        """Whitespace-collapsed text with every {{figure}} filled in from lesson.figures (computed, not typed)."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "expected non-empty text")
        from lesson.figures import fill

        try:
            return fill(" ".join(value.split()))
        except KeyError as exc:
            raise self.fail(where, str(exc).strip("'\"")) from None

    def ident(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(where, f"expected an id in snake_case, got {value!r}")
        return value

    def texts(self, value: Any, where: str, allow_empty: bool = False) -> tuple[str, ...]:
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(where, "expected a non-empty list" if not allow_empty else "expected a list")
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(value))

    def unique(self, ids: list[str], where: str) -> None:
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise self.fail(where, f"duplicate id {i!r}")
            seen.add(i)


def _key_idea(r: _Reader, raw: Any, where: str) -> KeyIdea:
    d = r.mapping(raw, where, {"id", "label", "references"}, {"keywords", "needs_keyword", "contradicts", "claims"})
    found = {name: r.texts(d.get(name), f"{where}.{name}", allow_empty=True)
             for name in ("keywords", "contradicts", "claims")}
    for field_name, patterns in found.items():
        for i, k in enumerate(patterns):
            _regex(r, k, f"{where}.{field_name}[{i}]")
    needs = d.get("needs_keyword", False)
    if not isinstance(needs, bool):
        raise r.fail(f"{where}.needs_keyword", "expected true or false")
    if needs and not (found["keywords"] or found["claims"]):
        raise r.fail(f"{where}.needs_keyword", "is true but no keywords or claims are given")
    return KeyIdea(r.ident(d["id"], f"{where}.id"), r.text(d["label"], f"{where}.label"),
                   r.texts(d["references"], f"{where}.references"), found["keywords"], needs,
                   found["contradicts"], found["claims"])


def _regex(r: _Reader, pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise r.fail(where, f"invalid regular expression ({exc})") from None


def _misconceptions(r: _Reader, raw: Any, where: str, idea_ids: set[str]) -> tuple[Misconception, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.fail(where, "expected a list")
    out = []
    for i, m in enumerate(raw):
        here = f"{where}[{i}]"
        d = r.mapping(m, here, {"pattern", "note"}, {"voids"})
        if not isinstance(d["pattern"], str) or not d["pattern"].strip():
            raise r.fail(f"{here}.pattern", "expected a non-empty regular expression")
        _regex(r, d["pattern"], f"{here}.pattern")
        voids = r.texts(d.get("voids"), f"{here}.voids", allow_empty=True)
        unknown = sorted(set(voids) - idea_ids)
        if unknown:
            raise r.fail(f"{here}.voids", f"unknown key idea(s) {', '.join(unknown)}")
        out.append(Misconception(d["pattern"], r.text(d["note"], f"{here}.note"), voids))
    return tuple(out)


def _question(r: _Reader, raw: Any, where: str, exercise: bool) -> Question:
    required = {"id", "topic", "prompt", "model_answer", "key_ideas"}
    optional = {"train_preset", "train_button"}
    d = (r.mapping(raw, where, required | optional, {"misconceptions"}) if exercise
         else r.mapping(raw, where, required, {"misconceptions"}))
    ideas_raw = d["key_ideas"]
    if not isinstance(ideas_raw, list) or not ideas_raw:
        raise r.fail(f"{where}.key_ideas", "expected a non-empty list")
    ideas = tuple(_key_idea(r, k, f"{where}.key_ideas[{i}]") for i, k in enumerate(ideas_raw))
    r.unique([k.id for k in ideas], f"{where}.key_ideas")
    misconceptions = _misconceptions(r, d.get("misconceptions"), f"{where}.misconceptions", {k.id for k in ideas})
    preset = None
    if exercise:
        from trainer_backend import presets

        preset = d["train_preset"]
        if not isinstance(preset, str) or not isinstance(getattr(presets, preset, None), str):
            raise r.fail(f"{where}.train_preset", f"{preset!r} is not a preset in trainer_backend.presets")
    return Question(r.ident(d["id"], f"{where}.id"), r.text(d["topic"], f"{where}.topic"),
                    r.text(d["prompt"], f"{where}.prompt"), r.text(d["model_answer"], f"{where}.model_answer"),
                    ideas, preset, r.text(d["train_button"], f"{where}.train_button") if exercise else None,
                    misconceptions)


def _card(r: _Reader, raw: Any, where: str) -> Card:
    d = r.mapping(raw, where, {"id", "front", "back"}, {"tags"})
    tags = r.texts(d.get("tags"), f"{where}.tags", allow_empty=True)
    for i, t in enumerate(tags):
        if " " in t:
            raise r.fail(f"{where}.tags[{i}]", "tags cannot contain spaces")
    return Card(r.ident(d["id"], f"{where}.id"), r.text(d["front"], f"{where}.front"),
                r.text(d["back"], f"{where}.back"), tags)


def parse_bank(text: str, source: str = "<text>") -> Bank:
    """Parse and validate bank YAML; raises BankError naming the bad field."""
    r = _Reader(source)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise r.fail("file", f"not valid YAML ({exc})") from None
    top = r.mapping(raw, "top level", {"version", "questions", "exercises", "cards"}, set())
    if top["version"] != 1:
        raise r.fail("version", f"unsupported version {top['version']!r} (expected 1)")
    sections: dict[str, list] = {}
    for name in ("questions", "exercises", "cards"):
        if not isinstance(top[name], list) or not top[name]:
            raise r.fail(name, "expected a non-empty list")
        sections[name] = top[name]
    questions = tuple(_question(r, q, f"questions[{i}]", False) for i, q in enumerate(sections["questions"]))
    exercises = tuple(_question(r, q, f"exercises[{i}]", True) for i, q in enumerate(sections["exercises"]))
    cards = tuple(_card(r, c, f"cards[{i}]") for i, c in enumerate(sections["cards"]))
    r.unique([q.id for q in questions + exercises], "questions and exercises")
    r.unique([c.id for c in cards], "cards")
    return Bank(questions, exercises, cards, top["version"])


def load_bank(path: str | Path | None = None) -> Bank:
    """Load and validate a bank file (default: the packaged quiz/bank.yaml)."""
    p = Path(path) if path is not None else BANK_FILE
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise BankError(f"quiz bank {p}: cannot be read ({exc.strerror or exc})") from None
    return parse_bank(text, source=p.name)


@functools.lru_cache(maxsize=1)
def default_bank() -> Bank:
    """The packaged bank, loaded once per process."""
    return load_bank()
