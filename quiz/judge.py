"""The quiz's judge: which key ideas does a learner's answer state? A LoRA-tuned MiniLM classifier, loaded once."""
from __future__ import annotations

import functools
import json
import re
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from trainer_backend.settings import packaged_model_dir

ADAPTER_DIR = Path(__file__).resolve().parent / "judge" / "adapter"
RANK = 8
LAYERS = [2, 3, 4, 5]  # LoRA in the top four of six layers: training need not backpropagate further
MAX_LENGTH = 192
CACHED_ANSWERS = 2048  # judged answers kept per process: a few KB each, at most ~50 MB if every answer were 6,000 characters
_LOCK = threading.Lock()
_LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<ab>[AB])\.weight$")
_SAVED_KEY = re.compile(r"^base_model\.model\.(?P<name>.+)$")


class Judge:
    """For one answer to one question: the probability that it states each key idea of the bank."""

    def __init__(self, model, tokenizer, keys: Sequence[str]) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.keys = list(keys)   # "<item id>/<idea id>", one per output column
        self.column = {k: i for i, k in enumerate(self.keys)}

    def probabilities(self, topic: str, texts: Sequence[str]) -> np.ndarray:
        """P(states) of every idea (columns, see `keys`) for each text (rows), all read as answers to `topic`;
        on one thread (a few short texts run fastest there, and the judge does not fight a training run for
        the cores). The same answer asked again (a learner who checks twice, the same set graded by the bench and
        its test) is answered from a bounded cache: the judge is deterministic. The array is read-only."""
        if not texts:
            return np.zeros((0, len(self.keys)), dtype=np.float32)
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


@functools.lru_cache(maxsize=1)
def load(adapter_dir: str = str(ADAPTER_DIR)) -> Judge:
    """The judge, built once per process from the packaged encoder and the adapter in the repository."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging


    base = str(packaged_model_dir())
    keys = json.loads((Path(adapter_dir) / "ideas.json").read_text(encoding="utf-8"))
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the head-swap report is expected here: the adapter brings the head
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(keys), problem_type="multi_label_classification")
    finally:
        hf_logging.set_verbosity(verbosity)
    merge_adapter(model, Path(adapter_dir))
    model.eval()
    return Judge(model, AutoTokenizer.from_pretrained(base), keys)


def warm_up() -> None:
    """Load the judge and run it once, so a visitor's first feedback does not pay for it (call in a thread)."""
    load().probabilities("warm up", ["warm up"])
