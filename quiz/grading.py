"""Feedback on a free-text answer: which key ideas it states, by claim patterns with negation, plus similarity."""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from quiz import claims
from quiz.bank import Question

COVERED, PARTLY, MISSED = "covered", "partly", "missed"

# How an idea is judged, strongest evidence first:
# 1. a misconception of the question or a `contradicts` pattern that the learner asserts (not negated, not
#    inside "if ...", "instead of ...", "older versions ...") -> missed, with a note saying why;
# 2. a `claims` pattern the learner does not negate -> covered (a claim states the idea on its own, so a
#    short right answer counts);
# 3. otherwise sentence similarity with the idea's references (all-MiniLM-L6-v2 via sentence_transformers, cosine).
#    Measured on tests/data/grading_answers*.yaml, similarity between 0.62 and 0.75 was as often a wrong or
#    partial answer on the same topic as a right one, and every answer above 0.80 without a claim was wrong
#    (MiniLM barely sees "not": "the required argument is output_dir" scores 0.91 against "output_dir is
#    optional now"). So similarity, like a topic keyword, earns "partly" at most: a hint to compare.
# Keywords and claims match whole words only ("dict" is not found in "predictions").
PARTIAL = 0.50
MAX_CHARS = 6000  # longer answers are checked on their beginning only
MAX_CHUNKS = 80
_WINDOW, _STRIDE = 24, 12

Embedder = Callable[[Sequence[str]], np.ndarray]
_ONE_THREAD = threading.Lock()

_ENGLISH = set("""the a an is are was were be it its this that these those of to in on for with by as at from
and or but not no so if then than because each every only one two all you your we they he she can will would
should does do did has have had which what when where how why there their them into over up out""".split())


@dataclass(frozen=True)
class IdeaResult:
    """How one key idea fared: covered, partly or missed, with the learner's closest sentence."""

    idea_id: str
    label: str
    status: str
    similarity: float
    keyword: bool
    evidence: str | None = None
    basis: str = ""  # "claim", "similarity", "keyword", "misconception" or "" (nothing found)


@dataclass(frozen=True)
class Feedback:
    """A checklist of key ideas for one answer, plus gentle notes."""

    item_id: str
    attempted: bool
    results: tuple[IdeaResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def covered(self) -> list[str]:
        return [r.idea_id for r in self.results if r.status == COVERED]

    @property
    def partly(self) -> list[str]:
        return [r.idea_id for r in self.results if r.status == PARTLY]

    @property
    def missed(self) -> list[str]:
        return [r.idea_id for r in self.results if r.status == MISSED]

    def status(self, idea_id: str) -> str:
        """The status of one idea by id."""
        return next(r.status for r in self.results if r.idea_id == idea_id)


@functools.lru_cache(maxsize=1)
def _model():
    """The packaged all-MiniLM-L6-v2 as a sentence_transformers model (its own mean pooling and normalisation),
    loaded once, lazily, from site-packages."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from trainer_backend.settings import packaged_model_dir

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(packaged_model_dir()), device="cpu")
    model.max_seq_length = 128
    return model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings, shape (len(texts), 384)."""
    import torch

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _model()
    with _ONE_THREAD:
        # A few short sentences run fastest on one thread, and one thread does not fight a training
        # run (or another visitor) for the CPU cores; the process-wide setting is restored after.
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False).astype(np.float32)
        finally:
            torch.set_num_threads(previous)


_CACHE: dict[str, np.ndarray] = {}  # text -> embedding; read-only reuse across calls, bounded below
_CACHE_MAX = 4096


def _embed_cached(texts: Sequence[str]) -> np.ndarray:
    """Like `embed`, but reuses vectors of texts seen before (references, repeated answers)."""
    found = {t: _CACHE.get(t) for t in texts}
    todo = [t for t, v in found.items() if v is None]
    if todo:
        fresh = dict(zip(todo, embed(todo)))
        found.update(fresh)
        if len(_CACHE) + len(fresh) > _CACHE_MAX:
            _CACHE.clear()
        _CACHE.update(fresh)
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def chunks(answer: str) -> list[str]:
    """Split an answer into sentence-sized pieces; long sentences become overlapping word windows."""
    text = answer[:MAX_CHARS]
    pieces = [p.strip() for p in re.split(r"(?<=[.!?;:])\s+|\n+|\s+[-*•]\s+", text) if p.strip()]
    out: list[str] = []
    for p in pieces:
        words = p.split()
        if len(words) <= _WINDOW + _STRIDE:
            out.append(p)
        else:
            out.extend(" ".join(words[i:i + _WINDOW]) for i in range(0, len(words) - _STRIDE, _STRIDE))
    clauses = [c.strip() for p in out for c in re.split(r",\s+|\s+(?:and|but|so|which|because|then)\s+", p)]
    out.extend(c for c in clauses if len(c.split()) >= 3 and c not in out)
    whole = " ".join(text.split())
    if 0 < len(whole.split()) <= 60 and whole not in out:
        out.append(whole)
    return out[:MAX_CHUNKS]


def looks_non_english(answer: str) -> bool:
    """A cheap guess: mostly non-Latin letters, or Latin words with almost no English function words."""
    letters = [c for c in answer if c.isalpha()]
    if not letters:
        return False
    if sum(c.isascii() for c in letters) / len(letters) < 0.7:
        return True
    words = re.findall(r"[^\W\d_]+", answer.lower())
    words = [w for w in words if len(w) > 0]
    return len(words) >= 6 and sum(w in _ENGLISH for w in words) / len(words) < 0.12


def _judge(sim: float, kw: bool) -> tuple[str, str]:
    """Status and basis when no claim and no contradiction was found: similarity and topic keywords."""
    if sim >= PARTIAL:
        return PARTLY, "similarity"
    return (PARTLY, "keyword") if kw else (MISSED, "")


def _voided(question: Question, scan: str) -> dict[str, str]:
    """Key idea id -> note, for every misconception the learner asserts."""
    out: dict[str, str] = {}
    for m in question.misconceptions:
        if claims.asserted((m.compiled,), scan):
            for idea_id in m.voids or tuple(k.id for k in question.key_ideas):
                out.setdefault(idea_id, m.note)
    return out


def grade(question: Question, answer: str, embedder: Embedder | None = None) -> Feedback:
    """Check an answer against the question's key ideas; never raises on odd input."""
    answer = answer if isinstance(answer, str) else ""
    if not answer.strip():
        results = tuple(IdeaResult(k.id, k.label, MISSED, 0.0, False) for k in question.key_ideas)
        return Feedback(question.id, False, results, ("No answer yet: the checklist shows what to look for.",))
    pieces = chunks(answer)
    notes: list[str] = []
    if len(answer) > MAX_CHARS or len(pieces) == MAX_CHUNKS:
        notes.append("That is a long answer; only its beginning was checked. Short answers are easier to review.")
    if looks_non_english(answer):
        notes.append("The checker reads English best, so ideas written in another language may show as missed "
                     "even when they are right; names such as `output_dir` or `np.argmax` are still recognised. "
                     "Compare with the model answer yourself.")
    if embedder is None:
        answer_vecs = _embed_cached(pieces)
        ref_vecs = [_embed_cached(k.references) for k in question.key_ideas]
    else:
        answer_vecs = embedder(pieces)
        ref_vecs = [embedder(k.references) for k in question.key_ideas]
    scan = answer[:MAX_CHARS]
    voided = _voided(question, scan)
    results = []
    for idea, refs in zip(question.key_ideas, ref_vecs):
        per_piece = (answer_vecs @ refs.T).max(axis=1)  # best reference for each piece
        sim = float(per_piece.max())
        kw_hit = claims.affirmed(idea.patterns, scan)
        claim_hit = claims.affirmed(idea.claim_patterns, scan)
        contra_hit = claims.asserted(idea.contradiction_patterns, scan)
        evidence_hit = claim_hit or kw_hit
        if idea.id in voided or contra_hit:
            status, basis = MISSED, "misconception"
            note = voided.get(idea.id) or f"Have another look at: {idea.label[0].lower()}{idea.label[1:]}."
            if note not in notes:
                notes.append(note)
        elif claim_hit:
            status, basis = COVERED, "claim"
        else:
            status, basis = _judge(sim, kw_hit is not None)
        evidence = None
        if status != MISSED:
            with_hit = [i for i, piece in enumerate(pieces) if evidence_hit and evidence_hit.text in piece]
            evidence = pieces[max(with_hit, key=lambda i: per_piece[i])] if with_hit else pieces[int(per_piece.argmax())]
        results.append(IdeaResult(idea.id, idea.label, status, round(sim, 3), kw_hit is not None, evidence, basis))
    return Feedback(question.id, True, tuple(results), tuple(notes))
