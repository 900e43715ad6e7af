"""Why the model decided: Integrated Gradients (captum) over the word embeddings, summed back into words (one text
or both of a pair, whatever the model reads)."""
from __future__ import annotations

import bisect
import html
import re
import threading
import time
from dataclasses import asdict, dataclass, field

from trainer_backend.serving.models import InferenceError
from trainer_backend.serving.predictor import MAX_CHARS, Predictor, clean_sentence

STEPS = 32  # Riemann/Gauss-Legendre steps along the path; completeness holds to about 1% of the logit change
METHOD = "Integrated Gradients (captum) over the word embeddings"
HOW_TO_READ = ("Each word's score is how much it moved the predicted answer's logit away from a baseline in "
               "which every word is replaced by [PAD] (the [CLS]/[SEP] markers stay); positive scores pushed "
               "the model towards its answer, negative ones against it, and together they add up to the "
               "logit's change.")
_LOCK = threading.Lock()  # one explanation at a time per process: each costs STEPS forward and backward passes
_WORD_CHARS = re.compile(r"[\W_]+", re.UNICODE)


@dataclass
class Word:
    """One whitespace-separated word of a sentence, its attribution and whether the other sentence lacks it."""

    word: str
    score: float
    tokens: list[str] = field(default_factory=list)
    differs: bool = False


@dataclass
class Explanation:
    """Words and scores for both sentences (sentence2 is empty for a single-sentence model), the quantities
    completeness relates, and the cost."""

    label: str
    probability: float
    sentence1: list[Word]
    sentence2: list[Word]
    logit: float
    baseline_logit: float
    delta: float          # sum of all scores - (logit - baseline_logit): IG's approximation error
    seconds: float
    steps: int
    tokens: int
    method: str = METHOD
    how_to_read: str = HOW_TO_READ

    @property
    def total(self) -> float:
        return sum(w.score for w in self.sentence1 + self.sentence2)

    def to_json(self) -> dict:
        out = asdict(self)
        out["total"] = self.total
        return out


def _normal(word: str) -> str:
    return _WORD_CHARS.sub("", word.lower())


def _words(text: str) -> tuple[list[str], list[int]]:
    """Whitespace words of an already cleaned sentence (single spaces) and their start offsets."""
    words, starts, pos = [], [], 0
    for word in text.split(" "):
        words.append(word)
        starts.append(pos)
        pos += len(word) + 1
    return words, starts


def _clean(text: object, which: str, what: str = "compare") -> str:
    cleaned, notes = clean_sentence(text, which, what)
    if any("characters; only the first" in n for n in notes):
        raise InferenceError(f"{which} is longer than Predict's {MAX_CHARS:,}-character cap; "
                             "Explain only explains what Predict reads whole.")
    return cleaned


def explain_pair(predictor: Predictor, sentence1: object, sentence2: object = None,
                 steps: int = STEPS) -> Explanation:
    """Attribute the predicted class's logit to every word of both sentences, or of the one sentence a
    single-sentence model reads (sentence2 is then not read); refuses inputs Predict would cut off."""
    import torch
    from captum.attr import LayerIntegratedGradients

    if predictor.pair:
        a, b = _clean(sentence1, "Sentence 1"), _clean(sentence2, "Sentence 2")
    else:
        a, b = _clean(sentence1, predictor.text_names[0], "classify"), None
    tok = predictor.tokenizer
    enc = tok(a, b, return_offsets_mapping=True, truncation=False) if b is not None else \
        tok(a, return_offsets_mapping=True, truncation=False)
    n_tokens = len(enc["input_ids"])
    if n_tokens > predictor.max_length:
        what, fix = ("pair", "shorten a sentence") if b is not None else ("sentence", "shorten it")
        raise InferenceError(f"This {what} has {n_tokens} tokens; this model reads at most {predictor.max_length}, "
                             f"so Predict would cut it off. Explain only explains what the model reads whole: "
                             f"{fix}.")
    start = time.perf_counter()
    model, device = predictor.model, predictor.device
    ids = torch.tensor([enc["input_ids"]], device=device)
    special = torch.tensor([tok.get_special_tokens_mask(enc["input_ids"], already_has_special_tokens=True)],
                           device=device).bool()
    baseline = torch.where(special, ids, torch.full_like(ids, predictor.pad_id))
    extra = {"attention_mask": torch.ones_like(ids)}
    if "token_type_ids" in enc:
        extra["token_type_ids"] = torch.tensor([enc["token_type_ids"]], device=device)
    names = list(extra)

    def forward(input_ids, *rest):
        return model(input_ids=input_ids, **dict(zip(names, rest))).logits.float()

    with _LOCK:
        with torch.no_grad():
            logits = forward(ids, *extra.values())[0]
            base_logits = forward(baseline, *extra.values())[0]
        target = int(logits.argmax())
        lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
        with torch.enable_grad():
            attributions, delta = lig.attribute(ids, baselines=baseline, additional_forward_args=tuple(extra.values()),
                                                target=target, n_steps=steps, internal_batch_size=steps,
                                                return_convergence_delta=True)
    scores = attributions.sum(-1)[0].detach().float().cpu().tolist()
    seconds = time.perf_counter() - start

    words = [_words(a), _words(b) if b is not None else ([], [])]
    out: list[list[Word]] = [[Word(w, 0.0) for w in ws] for ws, _ in words]
    tokens = tok.convert_ids_to_tokens(enc["input_ids"])
    for i, seq in enumerate(enc.sequence_ids()):
        if seq is None or special[0, i]:
            continue
        begin = enc["offset_mapping"][i][0]
        which = bisect.bisect_right(words[seq][1], begin) - 1
        out[seq][which].score += scores[i]
        out[seq][which].tokens.append(tokens[i])
    if b is not None:  # words only one sentence of the pair has (a single sentence has no other to differ from)
        others = [{_normal(w.word) for w in out[1]}, {_normal(w.word) for w in out[0]}]
        for k in (0, 1):
            for w in out[k]:
                w.differs = bool(_normal(w.word)) and _normal(w.word) not in others[k]
    probs = logits.softmax(-1)
    return Explanation(label=predictor.labels[target], probability=float(probs[target]), sentence1=out[0],
                       sentence2=out[1], logit=float(logits[target]), baseline_logit=float(base_logits[target]),
                       delta=float(delta.sum()), seconds=seconds, steps=steps, tokens=n_tokens)


# --- one view of both sentences -----------------------------------------------------------------
TOWARDS = (37, 99, 235)   # blue: pushed towards the predicted answer
AGAINST = (234, 88, 12)   # orange: pushed against it (a colour-blind-safe pair)


def _span(word: Word, scale: float) -> str:
    strength = min(abs(word.score) / scale, 1.0) if scale > 0 else 0.0
    r, g, b = TOWARDS if word.score >= 0 else AGAINST
    style = f"background: rgba({r},{g},{b},{0.08 + 0.72 * strength:.2f}); padding: 1px 3px; border-radius: 4px;"
    if strength > 0.55:
        style += " color: white;"
    if word.differs:
        style += " text-decoration: underline dotted 2px; text-underline-offset: 3px;"
    mark = "⟂ only here; " if word.differs else ""
    title = f"{mark}score {word.score:+.3f}"
    return f'<span class="xw" title="{html.escape(title)}" style="{style}">{html.escape(word.word)}</span>'


def to_html(expl: Explanation) -> str:
    """Both sentences (or the one a single-sentence model reads), each word coloured by its score (shared scale),
    words missing from the other sentence underlined."""
    scale = max((abs(w.score) for w in expl.sentence1 + expl.sentence2), default=0.0)
    rows = []
    pair = bool(expl.sentence2)
    shown = (("Sentence 1", expl.sentence1), ("Sentence 2", expl.sentence2)) if pair else (("Sentence", expl.sentence1),)
    for name, words in shown:
        spans = " ".join(_span(w, scale) for w in words)
        rows.append(f'<div style="margin: 6px 0; line-height: 2.0;"><b>{name}:</b> {spans}</div>')
    top = sorted(expl.sentence1 + expl.sentence2, key=lambda w: -abs(w.score))[:3]
    strongest = ", ".join(f"“{html.escape(w.word)}” ({w.score:+.2f})" for w in top)
    legend = (f'<span style="background: rgba({",".join(map(str, TOWARDS))},0.6); padding: 1px 6px; '
              f'border-radius: 4px;">towards {html.escape(expl.label)}</span> '
              f'<span style="background: rgba({",".join(map(str, AGAINST))},0.6); padding: 1px 6px; '
              f'border-radius: 4px;">against it</span> · darker = stronger')
    if pair:
        legend += ' · <span style="text-decoration: underline dotted 2px;">underlined</span> = not in the other sentence'
    return (f'<div class="studio-explain">'
            f'<p><b>Why {html.escape(expl.label)}</b> ({expl.probability:.1%}) · {html.escape(expl.method)}, '
            f'{expl.steps} steps · {expl.tokens} tokens · took {expl.seconds:.2f} s</p>'
            f'{"".join(rows)}<p style="font-size: 0.9em;">{legend}</p>'
            f'<p style="font-size: 0.9em;"><b>How to read it:</b> {html.escape(expl.how_to_read)} Strongest: '
            f'{strongest}. Sum of scores {expl.total:+.3f} vs logit change {expl.logit - expl.baseline_logit:+.3f} '
            f'(from {expl.baseline_logit:+.3f} to {expl.logit:+.3f}).</p></div>')
