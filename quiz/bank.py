"""The question bank: typed records, loaded from quiz/bank.yaml and validated on load by pydantic models."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lesson.figures import fill
from quiz.claims import compile_pattern
from trainer_backend import presets

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


# --- validation: pydantic models of the YAML (extra fields forbidden), then the typed records above ---------
def _text(value: str) -> str:
    """Whitespace-collapsed text with every {{figure}} filled in from lesson.figures (computed, not typed)."""
    if not value.strip():
        raise ValueError("expected non-empty text")

    try:
        return fill(" ".join(value.split()))
    except KeyError as exc:
        raise ValueError(str(exc).strip("'\"")) from None


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression ({exc})") from None
    return value


def _ident(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"expected an id in snake_case, got {value!r}")
    return value


def _tag(value: str) -> str:
    if " " in value:
        raise ValueError("tags cannot contain spaces")
    return value


Text = Annotated[str, AfterValidator(_text)]
Regex = Annotated[str, AfterValidator(_regex)]
Ident = Annotated[str, AfterValidator(_ident)]
Tag = Annotated[str, AfterValidator(_tag)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _KeyIdeaIn(_Strict):
    id: Ident
    label: Text
    references: list[Text] = Field(min_length=1)
    keywords: list[Regex] = []
    needs_keyword: bool = False
    contradicts: list[Regex] = []
    claims: list[Regex] = []

    @model_validator(mode="after")
    def _evidence(self) -> "_KeyIdeaIn":
        if self.needs_keyword and not (self.keywords or self.claims):
            raise ValueError("needs_keyword is true but no keywords or claims are given")
        return self


class _MisconceptionIn(_Strict):
    pattern: Regex
    note: Text
    voids: list[str] = []


class _QuestionIn(_Strict):
    id: Ident
    topic: Text
    prompt: Text
    model_answer: Text
    key_ideas: list[_KeyIdeaIn] = Field(min_length=1)
    misconceptions: list[_MisconceptionIn] = []

    @model_validator(mode="after")
    def _ideas(self) -> "_QuestionIn":
        _unique([k.id for k in self.key_ideas], "key_ideas")
        ids = {k.id for k in self.key_ideas}
        for m in self.misconceptions:
            unknown = sorted(set(m.voids) - ids)
            if unknown:
                raise ValueError(f"misconceptions: voids names unknown key idea(s) {', '.join(unknown)}")
        return self


class _ExerciseIn(_QuestionIn):
    train_preset: str
    train_button: Text

    @field_validator("train_preset")
    @classmethod
    def _preset(cls, value: str) -> str:
        if not isinstance(getattr(presets, value, None), str):
            raise ValueError(f"{value!r} is not a preset in trainer_backend.presets")
        return value


class _CardIn(_Strict):
    id: Ident
    front: Text
    back: Text
    tags: list[Tag] = []


class _BankIn(_Strict):
    version: Literal[1]
    questions: list[_QuestionIn] = Field(min_length=1)
    exercises: list[_ExerciseIn] = Field(min_length=1)
    cards: list[_CardIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids(self) -> "_BankIn":
        _unique([q.id for q in self.questions + self.exercises], "questions and exercises")
        _unique([c.id for c in self.cards], "cards")
        return self


def _unique(ids: list[str], where: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{where}: duplicate id {i!r}")
        seen.add(i)


_WORDING = {"missing": "missing field(s) {name}", "extra_forbidden": "unknown field(s) {name}",
            "bool_type": "expected true or false", "too_short": "expected a non-empty list",
            "list_type": "expected a list", "string_type": "expected text", "model_type": "expected a mapping",
            "literal_error": "unsupported version {value!r} (expected 1)"}


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "top level"


def _bank_error(err: ValidationError, source: str) -> BankError:
    """The first problem pydantic found, as `quiz bank <file>: <path like questions[2].key_ideas[0]>: <what>`."""
    e = err.errors(include_url=False)[0]
    loc = tuple(e["loc"])
    if e["type"] in ("missing", "extra_forbidden"):
        where, name = _where(loc[:-1]), loc[-1]
    else:
        where, name = _where(loc), loc[-1] if loc else ""
    if e["type"] == "value_error":
        what = str(e["ctx"]["error"]) if "ctx" in e else e["msg"]
        if ": " in what and not loc:  # a model-level check names its own place
            where, what = what.split(": ", 1)
    else:
        what = _WORDING.get(e["type"], e["msg"]).format(name=name, value=e.get("input"))
    return BankError(f"quiz bank {source}: {where}: {what}")


def _records(b: _BankIn) -> Bank:
    def idea(k: _KeyIdeaIn) -> KeyIdea:
        return KeyIdea(k.id, k.label, tuple(k.references), tuple(k.keywords), k.needs_keyword, tuple(k.contradicts),
                       tuple(k.claims))

    def question(q: _QuestionIn) -> Question:
        return Question(q.id, q.topic, q.prompt, q.model_answer, tuple(idea(k) for k in q.key_ideas),
                        getattr(q, "train_preset", None), getattr(q, "train_button", None),
                        tuple(Misconception(m.pattern, m.note, tuple(m.voids)) for m in q.misconceptions))

    return Bank(tuple(question(q) for q in b.questions), tuple(question(q) for q in b.exercises),
                tuple(Card(c.id, c.front, c.back, tuple(c.tags)) for c in b.cards), b.version)


def parse_bank(text: str, source: str = "<text>") -> Bank:
    """Parse and validate bank YAML; raises BankError naming the bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BankError(f"quiz bank {source}: file: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise BankError(f"quiz bank {source}: top level: expected a mapping, got {type(raw).__name__}")
    try:
        return _records(_BankIn.model_validate(raw))
    except ValidationError as err:
        raise _bank_error(err, source) from None


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
