"""Cached data and models for the lesson's live demos, plus the data peek, tokenizer and padding demos."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lesson import floor, padding
from trainer_backend import settings
from trainer_backend.data import LABEL_NAMES, LoadedData, load_data
from trainer_backend.hub_check import check_hub_repo, pinned_revision
from trainer_backend.modeling import LoadedModel, load_for_classification, load_tokenizer, resolve_model
from web.access import public_name
from web.limits import limits as web_limits

MAX_PAIRS = 5000
PEEK_HEADERS = ["#", "label", "meaning", "sentence1", "sentence2"]
HEAD_SEED = 42


@functools.lru_cache(maxsize=4)
def data(spec: str = "auto") -> LoadedData:
    """The data set a run with this spec would use (cached per process)."""
    return load_data(spec)


@functools.lru_cache(maxsize=4)
def tokenizer(model_spec: str = "auto"):
    """The tokenizer a run with this model spec would use (cached); a Hub model passes the one size check first and
    is read at the commit it pinned."""
    path = resolve_model(model_spec)[0]
    token = settings.hub_read_token(None)
    revision = None if Path(path).expanduser().exists() else pinned_revision(check_hub_repo(path, "model", token))
    return load_tokenizer(path, token, revision)


@functools.lru_cache(maxsize=2)
def model(model_spec: str = "auto") -> LoadedModel:
    """Model with its 2-label head and head-swap report; a fresh head is seeded so answers repeat (cached)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(HEAD_SEED)
        loaded = load_for_classification(model_spec)
    loaded.model.eval()
    return loaded


@dataclass
class Peek:
    """A first look at the data: split sizes and a few labelled pairs."""

    name: str
    reason: str
    sizes: dict[str, int]
    rows: list[list]
    floor: str = ""

    def markdown(self) -> str:
        sizes = " · ".join(f"**{k}** {v:,} pairs" for k, v in self.sizes.items())
        return f"Loaded **{public_name(self.name)}** ({self.reason}).\n\n{sizes}" + (f"\n\n{self.floor}" if self.floor else "")


def data_floor(spec: str = "auto") -> floor.DataFloor:
    """The floor of the validation split a run with this data spec would use (loads it, cached)."""
    loaded = data(spec)
    return floor.of_labels(loaded.dataset["validation"]["label"], public_name(loaded.name))  # never a server path


def run_floor(run) -> floor.DataFloor | None:
    """A run's floor: from its final confusion matrix, else from the data named in its settings, else unknown."""
    name = public_name(str(run.data or run.config.get("dataset") or "its data"))
    found = floor.of_matrix((run.final_metrics or {}).get("confusion"), name)
    if found is not None:
        return found
    try:
        return data_floor(str(run.config.get("dataset") or "auto"))
    except Exception:  # noqa: BLE001 - data gone or unreadable: the reading says the floor is unknown
        return None


def peek(data_spec: str = "auto", n: int = 6) -> Peek:
    """Split sizes and the first `n` training pairs with their label names."""
    loaded = data(data_spec)
    train = loaded.dataset["train"]
    n = max(1, min(int(n), len(train), 50))
    rows = [[i, train[i]["label"], LABEL_NAMES[train[i]["label"]], train[i]["sentence1"], train[i]["sentence2"]]
            for i in range(n)]  # PEEK_HEADERS: label and meaning first, the long sentences last
    return Peek(loaded.name, loaded.reason, {k: len(v) for k, v in loaded.dataset.items()}, rows,
                floor.of_labels(loaded.dataset["validation"]["label"], loaded.name).sentence(named=False)
                if "validation" in loaded.dataset else "")


@dataclass
class Tokenized:
    """One pair as the model sees it."""

    text: str
    rows: list[list]
    length: int


def tokenize_pair(sentence1: str, sentence2: str, model_spec: str = "auto", max_length: int = 128) -> Tokenized:
    """Token, id and segment (token_type_id) of every position of one encoded pair."""
    if not sentence1.strip() or not sentence2.strip():
        raise ValueError("Type both sentences.")
    cap = web_limits().lesson_chars
    if len(sentence1) > cap or len(sentence2) > cap:
        raise ValueError(f"Keep each sentence under {cap:,} characters: the model reads at most {max_length} "
                         "tokens of a pair anyway.")
    tok = tokenizer(model_spec)
    enc = tok(sentence1, sentence2, truncation=True, max_length=max_length)
    ids = enc["input_ids"]
    types = enc.get("token_type_ids") or [0] * len(ids)
    tokens = tok.convert_ids_to_tokens(ids)
    rows = [[i, t, tid, seg] for i, (t, tid, seg) in enumerate(zip(tokens, ids, types))]
    return Tokenized(tok.decode(ids), rows, len(ids))


def padding_demo(batch_size: int = 8, data_spec: str = "auto", model_spec: str = "auto", max_length: int = 128,
                 seed: int = 42) -> padding.PaddingReport:
    """Padding counts for the training split in a shuffled order, as the Trainer would batch it."""
    batch_size = int(batch_size)
    if not 1 <= batch_size <= 512:
        raise ValueError("Batch size must be between 1 and 512.")
    train = data(data_spec).dataset["train"]
    train = train.select(range(min(len(train), MAX_PAIRS)))
    lengths = padding.pair_lengths(tokenizer(model_spec), train["sentence1"], train["sentence2"], max_length)
    return padding.count_padding(padding.shuffled(lengths, seed), batch_size)
