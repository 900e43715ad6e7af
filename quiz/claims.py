"""Reading claims in an answer: whole-word regex hits, each with whether it is negated or hypothetical."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Words that turn the claim after them around ("it does NOT pad per batch", "NOTHING about it is broken").
NEGATORS = frozenset("""not no never nothing none nor neither without cannot hardly nobody nowhere""".split())
# Words that put what follows out of the speaker's own claim: a condition, a contrast, an older version.
# A misconception inside their scope ("IF you padded everything to 512 ...", "older versions REQUIRED it")
# is not held by the learner, so it does not count against them.
HYPOTHETICAL = frozenset("""if unless instead rather unlike than whereas otherwise versus vs would could might
compared older earlier previously formerly used suppose imagine""".split())
SCOPE_WORDS = 6  # how many words before a hit are read for a negation or a hypothetical
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CLAUSE_END = re.compile(r"[.!?](?=[\s\"'’”)]|$)")  # the end of the clause a hit sits in (not the dot of np.argmax)
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]—–]|\s-\s|\b(?:but|although|though|whereas|while|so|because|since|and|then|until|"
                           r"which|however|yet)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?", re.IGNORECASE)
# A verb that starts a new predicate ends the reach of an earlier negation:
# "every argument you don't set HAS a default".
_PREDICATE = frozenset("is are was were has have had gets get keeps keep becomes become stays stay".split())
_ANSWER_WORDS = frozenset({"no", "nope", "nah"})  # "No, it is expected": the answer to the question, not a negation


@dataclass(frozen=True)
class Hit:
    """One place a pattern matched: the sentence, the matched text, and what scope it sits in."""

    sentence: str
    text: str
    negated: bool
    hypothetical: bool
    question: bool = False  # the clause it sits in ends with "?": asked (or quoted), not claimed

    @property
    def asserted(self) -> bool:
        """The learner states this themselves: neither negated, nor only supposed, nor asked."""
        return not self.negated and not self.hypothetical and not self.question


def sentences(text: str) -> list[str]:
    """Sentences (and lines) of an answer; dots inside code such as `np.argmax` or 0.25 do not split."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a bank pattern, case-insensitive, matching whole words only.

    A match may not start or end inside a word (`dict` is not found in "predictions", `train` not in
    "pretraining"); an edge that is punctuation (`.train(`, `{`) needs no boundary. The boundary is part of
    the regex, so alternatives are retried: `dict|dictionary` still finds "dictionary".
    """
    return re.compile(rf"(?:(?<!\w)|(?!\w))(?:{pattern})(?:(?!\w)|(?<!\w))", re.IGNORECASE)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def whole_word(text: str, start: int, end: int) -> bool:
    """The match neither starts nor ends inside a word (`dict` in "predictions" is not a match)."""
    if start > 0 and start < len(text) and _is_word(text[start - 1]) and _is_word(text[start]):
        return False
    if 0 < end < len(text) and _is_word(text[end - 1]) and _is_word(text[end]):
        return False
    return True


def _scope_words(sentence: str, start: int) -> tuple[list[str], bool]:
    """Up to SCOPE_WORDS words before `start` in the same clause, and whether the clause opens the sentence."""
    before = sentence[:start]
    cut = 0
    for m in _CLAUSE_BREAK.finditer(before):
        cut = m.end()
    words = [w.lower() for w in _WORD.findall(before[cut:])]
    opens = cut == 0 and len(words) <= SCOPE_WORDS
    words = words[-SCOPE_WORDS:]
    last_verb = max((i for i, w in enumerate(words) if w in _PREDICATE), default=-1)
    if last_verb > 0 and any(w in NEGATORS or w.endswith(("n't", "n’t")) for w in words[:last_verb]):
        words, opens = words[last_verb:], False
    return words, opens


def _negated(words: list[str], opens_sentence: bool) -> bool:
    for i, w in enumerate(words):
        if opens_sentence and i == 0 and w in _ANSWER_WORDS:
            continue
        if w in NEGATORS or w.endswith(("n't", "n’t")):
            return True
    return False


def _negated_inside(matched: str, pattern: re.Pattern[str]) -> bool:
    """A negator inside the matched text turns the rest of it around ("the longest of THESE pairs, NOT of the
    whole dataset"), unless the pattern spells that negator itself ("no padding is needed", "seeds don't
    matter", `(?<!not )`): then the pattern was written with it in mind. Found on the ninth answer set, where a
    misconception matched across a "not" that the check before the match could not see."""
    for w in _WORD.findall(matched):
        w = w.lower()
        stem = w[:-2] if w.endswith(("n't", "n’t")) else w  # "don't" -> "don", as a pattern's "don.t" spells it
        if (w in NEGATORS or stem != w) and not re.search(rf"(?<![a-z]){re.escape(stem)}(?![a-z])",
                                                          pattern.pattern, re.IGNORECASE):
            return True
    return False


def hits(pattern: re.Pattern[str], text: str) -> list[Hit]:
    """Every whole-word match of `pattern` in `text`, sentence by sentence, with its scope.

    A pattern that starts with `\\A` is matched once against the start of the whole answer (for checks such
    as an answer that opens with "Yes"); such a hit is always asserted.
    """
    if "\\A" in pattern.pattern[:40]:
        m = pattern.search(text.strip())
        return [Hit(text, m.group(0), False, False)] if m else []
    out = []
    for sentence in sentences(text):
        for m in pattern.finditer(sentence):
            if not whole_word(sentence, m.start(), m.end()):
                continue
            words, opens = _scope_words(sentence, m.start())
            end = _CLAUSE_END.search(sentence, m.end())
            negated = _negated(words, opens) or _negated_inside(m.group(0), pattern)
            out.append(Hit(sentence, m.group(0), negated, any(w in HYPOTHETICAL for w in words),
                           question=bool(end) and end.group(0) == "?"))
    return out


def asserted(patterns: tuple[re.Pattern[str], ...], text: str) -> Hit | None:
    """The first hit of any pattern that the learner asserts (not negated, not hypothetical), else None."""
    for p in patterns:
        for h in hits(p, text):
            if h.asserted:
                return h
    return None


def affirmed(patterns: tuple[re.Pattern[str], ...], text: str) -> Hit | None:
    """The first hit of any pattern that is not negated (a condition or contrast is fine for evidence)."""
    for p in patterns:
        for h in hits(p, text):
            if not h.negated:
                return h
    return None
