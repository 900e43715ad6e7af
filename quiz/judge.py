"""The quiz's judge: for each key idea of a question, does a learner's sentence state it or contradict it?
A LoRA-tuned MiniLM with two outputs per idea (states, contradicts), loaded once."""
from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from trainer_backend.settings import packaged_model_dir

ADAPTER_DIR = Path(__file__).resolve().parent / "judge" / "adapter"
RANK = 8
LAYERS = [2, 3, 4, 5]  # LoRA in the top four of six layers: training need not backpropagate further
MAX_LENGTH = 192
MAX_SEGMENTS = 10      # sentences of an answer read one by one (the whole answer is read too); was 6 until the
#                        sixth judge's second thresholds: a model answer stated an idea only in its 8th piece
CACHED_ANSWERS = 2048  # judged answers kept per process: a few KB each, at most ~50 MB if every answer were 6,000 characters
_LOCK = threading.Lock()
_LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<ab>[AB])\.weight$")
_SAVED_KEY = re.compile(r"^base_model\.model\.(?P<name>.+)$")


@dataclass(frozen=True)
class IdeaScore:
    """The judge's reading of one answer against one idea."""

    states: float        # the highest P(states) over the answer's pieces (the whole answer and its sentences)
    contradicts: float   # the highest P(contradicts) over the same pieces
    evidence: int        # index of the sentence that states it best (into the pieces passed in)
    support: float = 1.0  # the highest P(states) of a single sentence (the whole answer's when it is one sentence)
    unsupported: bool = False  # no single sentence shows a sign of the idea: never "covered" (grading.supported)


class Judge:
    """For texts read as answers to one question: P(states) and P(contradicts) of every key idea of the bank."""

    def __init__(self, model, tokenizer, keys: Sequence[str]) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.keys = list(keys)   # "<item id>/<idea id>"; output columns: states of each key, then contradicts
        self.column = {k: i for i, k in enumerate(self.keys)}

    def probabilities(self, topic: str, texts: Sequence[str]) -> np.ndarray:
        """Sigmoid outputs for each text (rows): columns 0..N-1 P(states) of each key, N..2N-1 P(contradicts); on
        one thread (a few short texts run fastest there, and the judge does not fight a training run for the
        cores). The same texts asked again (a learner who checks twice, the same set graded by the bench and its
        test) are answered from a bounded cache: the judge is deterministic. The array is read-only."""
        if not texts:
            return np.zeros((0, 2 * len(self.keys)), dtype=np.float32)
        return self._cached(topic, tuple(texts))

    @functools.lru_cache(maxsize=CACHED_ANSWERS)
    def _cached(self, topic: str, texts: tuple[str, ...]) -> np.ndarray:
        out = self._compute(topic, texts)
        out.setflags(write=False)
        return out

    def _compute(self, topic: str, texts: Sequence[str]) -> np.ndarray:
        import torch

        enc = self.tokenizer([topic] * len(texts), list(texts), truncation="only_second", max_length=MAX_LENGTH,
                             padding=True, return_tensors="pt")
        with _LOCK:
            previous = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with torch.inference_mode():
                    logits = self.model(**enc).logits
            finally:
                torch.set_num_threads(previous)
        return torch.sigmoid(logits.float()).numpy()

    def read(self, topic: str, keys: Sequence[str], whole: str, pieces: Sequence[str]) -> list[IdeaScore | None]:
        """Each idea (key) against the whole answer and each of its pieces (sentences), in one batch; None for a
        key the judge was not trained on."""
        probs = self.probabilities(topic, [whole] + [p for p in pieces if p != whole])
        n = len(self.keys)
        out: list[IdeaScore | None] = []
        for key in keys:
            c = self.column.get(key)
            if c is None:
                out.append(None)
                continue
            states, contradicts = probs[:, c], probs[:, n + c]
            sentences = states[1:] if len(states) > 1 else states
            out.append(IdeaScore(float(states.max()), float(contradicts.max()), int(sentences.argmax()),
                                 float(sentences.max())))
        return out


def merge_adapter(model, adapter_dir: Path = ADAPTER_DIR) -> int:
    """Fold a saved peft LoRA adapter (and the head it saved in full) into `model`; returns the tensors used.

    Hand-rolled on purpose: importing peft costs about two seconds on two cores, more than the whole first
    feedback may take, and a merge is W += (alpha / r) * B @ A per adapted layer, which peft's own `merge_and_unload`
    also computes (tests/unit/test_quiz_judge.py checks both give the same logits).
    """
    import torch
    from safetensors.torch import load_file

    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    scale = config["lora_alpha"] / config["r"]
    tensors = load_file(str(adapter_dir / "adapter_model.safetensors"))
    modules = dict(model.named_modules())
    params = dict(model.named_parameters())
    lora: dict[str, dict[str, torch.Tensor]] = {}
    used = 0
    for key, value in tensors.items():
        m = _LORA_KEY.match(key)
        if m:
            lora.setdefault(m["module"], {})[m["ab"]] = value
            continue
        name = _SAVED_KEY.match(key)["name"]
        if name not in params:
            raise KeyError(f"adapter tensor {key} has no parameter {name} in the model")
        with torch.no_grad():
            params[name].copy_(value.to(params[name].dtype))
        used += 1
    for module_name, ab in lora.items():
        weight = modules[module_name].weight
        with torch.no_grad():
            weight += scale * (ab["B"].float() @ ab["A"].float()).to(weight.dtype)
        used += 2
    return used


def base_model(keys: Sequence[str]):
    """The packaged encoder with a fresh classifier of the judge's shape (the adapter brings its trained head)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the head-swap report is expected here: the adapter brings the head
    try:
        labels = [f"states:{k}" for k in keys] + [f"contradicts:{k}" for k in keys]
        return AutoModelForSequenceClassification.from_pretrained(
            str(packaged_model_dir()), num_labels=len(labels), problem_type="multi_label_classification",
            id2label=dict(enumerate(labels)), label2id={k: i for i, k in enumerate(labels)})
    finally:
        hf_logging.set_verbosity(verbosity)


@functools.lru_cache(maxsize=1)
def load(adapter_dir: str = str(ADAPTER_DIR)) -> Judge:
    """The judge, built once per process from the packaged encoder and the adapter in the repository."""
    from transformers import AutoTokenizer

    keys = json.loads((Path(adapter_dir) / "ideas.json").read_text(encoding="utf-8"))
    model = base_model(keys)
    merge_adapter(model, Path(adapter_dir))
    model.eval()
    return Judge(model, AutoTokenizer.from_pretrained(str(packaged_model_dir())), keys)


def warm_up() -> None:
    """Load the judge and run it once, so a visitor's first feedback does not pay for it (call in a thread)."""
    load().probabilities("warm up", ["warm up"])
