"""Feedback on a free-text answer: which key ideas it covers, by sentence embeddings plus keywords."""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from quiz.bank import KeyIdea, Question

COVERED, PARTLY, MISSED = "covered", "partly", "missed"

# Cosine similarities with all-MiniLM-L6-v2 (mean pooling, normalised), tuned on the sample
# answers in tests/unit/test_quiz_grading.py. STRONG: the sentence says the idea on its own.
# SUPPORT: enough when a keyword backs it up. PARTIAL: on topic, worth a "partly".
# KEYWORD_FLOOR: for ideas that need a keyword (a precise name or call), the keyword carries the
# evidence and the sentence around it only has to be on topic.
STRONG, SUPPORT, PARTIAL, KEYWORD_FLOOR = 0.62, 0.40, 0.50, 0.30
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
    """Tokenizer and encoder of the packaged all-MiniLM-L6-v2, loaded once, lazily."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from trainer_backend.settings import packaged_model_dir

    hf_logging.disable_progress_bar()
    path = str(packaged_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    return tokenizer, model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings (mean pooling over tokens), shape (len(texts), 384)."""
    import torch

    tokenizer, model = _model()
    out = []
    with _ONE_THREAD:
        # A few short sentences run fastest on one thread, and one thread does not fight a training
        # run (or another visitor) for the CPU cores; the process-wide setting is restored after.
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for start in range(0, len(texts), 32):
                batch = tokenizer(list(texts[start:start + 32]), padding=True, truncation=True, max_length=128,
                                  return_tensors="pt")
                with torch.inference_mode():
                    hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        finally:
            torch.set_num_threads(previous)
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


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


def _judge(idea: KeyIdea, sim: float, kw: bool) -> str:
    if idea.needs_keyword:
        if kw and sim >= KEYWORD_FLOOR:
            return COVERED
        return PARTLY if kw or sim >= STRONG else MISSED
    if sim >= STRONG or (kw and sim >= SUPPORT):
        return COVERED
    return PARTLY if sim >= PARTIAL or kw else MISSED


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
    results = []
    for idea, refs in zip(question.key_ideas, ref_vecs):
        per_piece = (answer_vecs @ refs.T).max(axis=1)  # best reference for each piece
        sim = float(per_piece.max())
        kw = any(p.search(scan) for p in idea.patterns)
        with_kw = [i for i, piece in enumerate(pieces) if any(p.search(piece) for p in idea.patterns)]
        best_piece = max(with_kw, key=lambda i: per_piece[i]) if with_kw else int(per_piece.argmax())
        status = _judge(idea, sim, kw)
        if any(p.search(scan) for p in idea.contradiction_patterns):
            status = MISSED
            notes.append(f"Have another look at: {idea.label[0].lower()}{idea.label[1:]}.")
        evidence = pieces[best_piece] if status != MISSED else None
        results.append(IdeaResult(idea.id, idea.label, status, round(sim, 3), kw, evidence))
    return Feedback(question.id, True, tuple(results), tuple(notes))
