"""A loaded text classifier (one text or a pair, two or more classes, as its config records: tasks.task_of): clean
input, dynamically padded batches, the fast path when it passed its check."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from trainer_backend import settings
from trainer_backend.errors import AccessError
from trainer_backend.hub_check import check_hub_repo, pinned_revision
from trainer_backend.runs.record import RECORD_FILE, RunRecord
from trainer_backend.serving import engine, fastpath
from trainer_backend.serving.engine import Progress
from trainer_backend.serving.models import InferenceError, ModelRef, has_weights
from trainer_backend.tasks import TaskSpec, task_of

MAX_CHARS = 2000           # per sentence; a pair never uses more than a few hundred tokens anyway
BATCH_SIZE = 32
DEFAULT_MAX_LENGTH = 128
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")



@dataclass
class PairResult:
    """One input's answer (a pair, or one text for a single-sentence model): label, every class's probability in
    id2label order, notes about the input, or an error instead."""

    label: str | None = None
    confidences: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None



def clean_sentence(text: object, which: str, what: str = "compare") -> tuple[str, list[str]]:
    """Strip control/invisible characters, collapse whitespace, cap the length; empty is an error (`what`: the
    verb the message ends with, "compare" for a pair, "classify" for one text)."""
    raw = "" if text is None else str(text)
    notes = []
    cleaned, removed = _INVISIBLE.subn(" ", raw)
    if removed:
        notes.append(f"{which}: {removed} control or invisible character(s) were replaced by spaces.")
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        detail = " (it holds only spaces or control characters)" if raw else ""
        raise InferenceError(f"{which} is empty{detail}: type a sentence to {what}.")
    if len(cleaned) > MAX_CHARS:
        notes.append(f"{which} has {len(cleaned):,} characters; only the first {MAX_CHARS:,} were read "
                     "(the model reads a few hundred tokens per pair at most).")
        cleaned = cleaned[:MAX_CHARS]
    return cleaned, notes



# --- the predictor ------------------------------------------------------------------------------
class Predictor:
    """A loaded classifier: length-sorted, dynamically padded batches under torch.inference_mode."""

    def __init__(self, model, tokenizer, ref: ModelRef, record: RunRecord | None, loaded_from: str,
                 notes: list[str]):
        import torch

        self.model, self.tokenizer, self.ref, self.record = model.eval(), tokenizer, ref, record
        self.loaded_from, self.notes = loaded_from, notes
        hw = settings.serving_hardware()
        self.device = hw.device
        self.model.to(self.device)
        self.use_bf16 = settings.predict_settings().precision != "fp32" and hw.bf16
        limit = min(getattr(model.config, "max_position_embeddings", 512) or 512,
                    getattr(tokenizer, "model_max_length", 512) or 512, 512)
        trained = (record.hyperparameters.max_length if record else None) or DEFAULT_MAX_LENGTH
        self.max_length = int(min(trained, limit))
        self.task: TaskSpec = task_of(model.config)  # one text or two, the classes in id2label order
        self.labels = list(self.task.label_names)
        self.pad_id = tokenizer.pad_token_id or 0
        self.memory_bytes = sum(t.numel() * t.element_size() for t in
                                list(model.parameters()) + list(model.buffers()))
        self._torch = torch
        self.fast = None  # an engines backend (ONNX Runtime, OpenVINO, bf16 copy) once its gate passed; None: PyTorch
        self.serving = None  # fastpath.Serving: which engine answers and why (set by load_predictor)
        self.check_started: float | None = None  # when the background engine check began (None: none started)
        self._checked = threading.Event()         # set once the engine check ended (or when none runs)
        self._checked.set()

    @property
    def checking(self) -> bool:
        """True while a faster engine is being built and checked in the background (PyTorch answers meanwhile)."""
        return not self._checked.is_set()

    def wait_for_engine(self, timeout: float | None = None) -> bool:
        """Block until the background engine check has ended; False on timeout."""
        return self._checked.wait(timeout)

    @property
    def engine(self) -> str:
        """What answers single pairs and small requests now: a fastpath engine name, or "pytorch"."""
        return self.fast.engine if self.fast is not None else "pytorch"

    def engine_for(self, pairs: int) -> object:
        """The engine a request of `pairs` pairs goes to: the checked fast path, or PyTorch; large requests go to
        the batch engine when the gate measured one faster on its own batch (fastpath.choose)."""
        if (self.serving is not None and self.serving.batch_backend is not None
                and pairs >= fastpath.BATCH_ROUTE_PAIRS):
            return self.serving.batch_backend
        return self.fast if self.fast is not None else "pytorch"

    def engine_name(self, pairs: int = 1) -> str:
        """The name of the engine a request of `pairs` pairs goes to ("pytorch" or a fastpath engine)."""
        chosen = self.engine_for(pairs)
        return chosen if isinstance(chosen, str) else chosen.engine

    def _autocast(self):
        if not self.use_bf16:
            return contextlib.nullcontext()
        return self._torch.autocast(device_type=self.device, dtype=self._torch.bfloat16)

    @property
    def pair(self) -> bool:
        """True when the model reads two texts, False for one (its task's text columns)."""
        return self.task.pair

    @property
    def text_names(self) -> tuple[str, ...]:
        """What the inputs are called in messages: "Sentence 1"/"Sentence 2", or "The sentence" for one text."""
        return ("Sentence 1", "Sentence 2") if self.pair else ("The sentence",)

    def _tok(self, firsts: Sequence[str], seconds: Sequence[str] | None, **kwargs) -> dict:
        """Tokenize as the model was trained: pairs for a pair model, the first texts alone otherwise."""
        if self.pair and seconds is not None:
            return self.tokenizer(list(firsts), list(seconds), **kwargs)
        return self.tokenizer(list(firsts), **kwargs)

    def _encode(self, firsts: Sequence[str], seconds: Sequence[str] | None) -> tuple[list, list | None, list[bool]]:
        enc = self._tok(firsts, seconds, truncation=True, max_length=self.max_length)
        ids = enc["input_ids"]
        types = enc.get("token_type_ids")
        truncated = [False] * len(ids)
        at_limit = [i for i, x in enumerate(ids) if len(x) >= self.max_length]
        if at_limit:  # only pairs that hit the limit can have been cut: one token more tells
            full = self._tok([firsts[i] for i in at_limit], None if seconds is None else [seconds[i] for i in at_limit],
                             truncation=True, max_length=self.max_length + 1)["input_ids"]
            for i, x in zip(at_limit, full):
                truncated[i] = len(x) > self.max_length
        return ids, types, truncated

    def _padded(self, ids: list, types: list | None, chunk: list[int]) -> dict:
        """One batch, padded only as wide as its longest pair (dynamic padding), by the tokenizer's own `pad`
        (through the helper DataCollatorWithPadding uses: the pairs were encoded once, up front, to sort them)."""
        from transformers.data.data_collator import pad_without_fast_tokenizer_warning

        rows = [{"input_ids": ids[i], **({"token_type_ids": types[i]} if types is not None else {})} for i in chunk]
        return dict(pad_without_fast_tokenizer_warning(self.tokenizer, rows, padding="longest", return_tensors="np"))

    def _torch_logits(self, rows: dict, autocast: bool):
        return engine.torch_logits(self.model, rows, self.device, self._autocast() if autocast else None)

    def probabilities(self, firsts: Sequence[str], seconds: Sequence[str] | None, batch_size: int = BATCH_SIZE,
                      engine: object = "serving") -> tuple[list[list[float]], list[bool]]:
        """P(label) rows (one probability per class, id2label order) for clean inputs, in input order, plus which
        were truncated. `seconds` is None (or ignored) for a single-sentence model.

        engine: "serving" (the fast path when it passed its check), "pytorch" (as configured, bf16 where the CPU
        has it), "pytorch-fp32" (the reference), or a fastpath backend object."""
        import numpy as np

        if engine == "serving":
            engine = self.engine_for(len(firsts))
        ids, types, truncated = self._encode(firsts, seconds)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: list[list[float]] = [[]] * len(ids)
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            rows = self._padded(ids, types, chunk)
            if isinstance(engine, str):
                logits = self._torch_logits(rows, autocast=engine == "pytorch")
            else:
                logits = engine.logits(rows)
            shifted = np.exp(logits - logits.max(-1, keepdims=True))
            probs = (shifted / shifted.sum(-1, keepdims=True)).tolist()
            for row, i in enumerate(chunk):
                out[i] = probs[row]
        return out, truncated

    def clean(self, first: object, second: object = None) -> tuple[str, str | None, list[str]]:
        """One input as the model reads it: both texts cleaned for a pair model; for a single-sentence model the
        first only (a second text, say from an API client, is not read, and a note says so)."""
        if not self.pair:
            text, notes = clean_sentence(first, self.text_names[0], "classify")
            if second is not None and str(second).strip():
                notes.append("This model reads one sentence, so the second text was not read.")
            return text, None, notes
        a, notes_a = clean_sentence(first, "Sentence 1")
        b, notes_b = clean_sentence(second, "Sentence 2")
        return a, b, notes_a + notes_b

    def predict_pairs(self, pairs: Sequence[tuple[object, object]], batch_size: int = BATCH_SIZE,
                      engine: object = "serving") -> list[PairResult]:
        """Clean, classify and explain each input (a pair; for a single-sentence model (text, anything)); a bad one
        gets an error, the others still run."""
        results = [PairResult() for _ in pairs]
        good, firsts, seconds = [], [], []
        for i, item in enumerate(pairs):
            a, b = (tuple(item) + (None,))[:2]
            try:
                a, b, results[i].notes = self.clean(a, b)
            except InferenceError as err:
                results[i].error = str(err)
                continue
            good.append(i)
            firsts.append(a)
            seconds.append(b)
        if good:
            probs, truncated = self.probabilities(firsts, seconds if self.pair else None, batch_size, engine)
            what = "pair" if self.pair else "sentence"
            for i, p, cut in zip(good, probs, truncated):
                results[i].confidences = {name: float(p[k]) for k, name in enumerate(self.labels)}
                results[i].label = self.labels[max(range(len(p)), key=p.__getitem__)]
                if cut:
                    results[i].notes.append(f"The {what} is longer than the {self.max_length} tokens this model "
                                            "reads, so its end was cut off before classifying.")
        return results



# --- loading ------------------------------------------------------------------------------------
def _record_for(spec: str, folder: Path | None, revision: str | None = None) -> RunRecord | None:
    """The run record beside a local folder or in a Hub repo at `revision` (from the cache when offline); None if
    absent."""
    if folder is not None:
        return RunRecord.read(folder)
    try:
        from huggingface_hub import hf_hub_download

        return RunRecord.read_file(hf_hub_download(spec, RECORD_FILE, revision=revision))
    except Exception:  # noqa: BLE001 - the record is optional: a foreign repo simply has none
        return None


def _check_hub_size(repo_id: str) -> str | None:
    """The one Hub size check (hub_check), as Predict reports it; returns the commit to load."""
    try:
        return pinned_revision(check_hub_repo(repo_id, "model", settings.hub_read_token(None)))
    except AccessError as err:
        raise InferenceError(str(err)) from None


def _where(spec: str) -> Path | None:
    """The local folder, or None for a Hub id; raises for specs that can be neither."""
    from huggingface_hub.utils import validate_repo_id

    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not has_weights(folder):
            raise InferenceError(f"The folder {spec} holds no model weights (model.safetensors).")
        return folder.resolve()
    looks_like_path = spec.startswith(("/", ".", "~")) or os.sep + os.sep in spec
    try:
        if looks_like_path:
            raise ValueError
        validate_repo_id(spec)
    except Exception:  # noqa: BLE001 - HFValidationError or our ValueError: same message
        raise InferenceError(f"{spec!r} is neither a model folder on this machine nor a valid Hub "
                             "model id (owner/name, letters, digits, '-', '_' and '.').") from None
    return None


def _load_raw(spec: str, progress: Progress) -> tuple[object, object, Path | None, str | None]:
    """(model, tokenizer, local folder or None, the pinned Hub commit or None)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = _where(spec)
    target = str(folder) if folder is not None else spec
    revision = _check_hub_size(spec) if folder is None else None
    try:
        progress(0.3, "Loading the tokenizer")
        tokenizer = AutoTokenizer.from_pretrained(target, revision=revision)
        progress(0.5, "Loading the weights")
        model, info = AutoModelForSequenceClassification.from_pretrained(target, output_loading_info=True,
                                                                         revision=revision)
    except (OSError, ValueError, EnvironmentError) as err:
        if folder is None:
            offline = settings.offline_reason()
            if offline:
                raise InferenceError(f"Model {spec!r} is not in this machine's Hugging Face cache and cannot be "
                                     f"downloaded: {offline}. Pick a local run instead, or load it once while "
                                     "online.") from None
            raise InferenceError(f"Model {spec!r} could not be loaded from the Hub: it may not exist, be private "
                                 f"(sign in or set HF_TOKEN), or not be a text classifier ({err.__class__.__name__})."
                                 ) from None
        raise InferenceError(f"The folder {spec} is not a usable checkpoint ({err.__class__.__name__}).") from None
    missing = list(info.get("missing_keys") or []) + [str(k) for k in info.get("mismatched_keys") or []]
    if missing:
        raise InferenceError(f"{spec} has no trained classification head (it is a base model: "
                             f"{len(missing)} weight(s) such as {missing[0]} would be random). Fine-tune it in the "
                             "Train tab first.")
    try:
        task_of(model.config)
    except ValueError as err:  # one class, or three text columns: nothing Predict could ask it
        raise InferenceError(f"{spec} cannot be used here: {err}.") from None
    return model, tokenizer, folder, revision


def read_task(ref: ModelRef) -> TaskSpec | None:
    """The task a checkpoint records (one text or two, its classes), from its config.json alone: no weights are
    loaded, so the Predict tab can show the right boxes before anyone asks. A Hub model's config is read only from
    this machine's cache: nothing is downloaded before the load's size check (_check_hub_size). None when it cannot
    be read here (the load reports why, and the tab follows the model once it is loaded)."""
    from transformers import AutoConfig

    for spec in filter(None, (ref.spec, ref.fallback)):
        try:
            folder = _where(spec)
            config = AutoConfig.from_pretrained(str(folder) if folder is not None else spec,
                                                local_files_only=folder is None)
            return task_of(config)
        except Exception:  # noqa: BLE001 - unknown here; loading the model says why
            continue
    return None


def load_predictor(ref: ModelRef, progress: Progress | None = None, background: bool = False) -> Predictor:
    """Load a checkpoint for prediction; a pushed model falls back to its local run folder when needed.

    background: answer with PyTorch at once and build and check the faster engines in a thread (the predictor
    switches when one passes; `checking` says it is under way). Without it the check runs before returning."""
    progress = progress or (lambda f, d: None)
    progress(0.1, f"Resolving {ref.title}")
    notes = []
    try:
        model, tokenizer, folder, revision = _load_raw(ref.spec, progress)
        loaded_from = str(folder) if folder is not None else f"Hub: {ref.spec}"
    except InferenceError as err:
        if not ref.fallback:
            raise
        notes.append(f"{ref.spec} could not be loaded ({err}); using the local copy of the same run instead.")
        model, tokenizer, folder, revision = _load_raw(ref.fallback, progress)
        loaded_from = str(folder)
    predictor = Predictor(model, tokenizer, ref, _record_for(ref.spec, folder, revision), loaded_from, notes)
    progress(0.9, "Warming up")
    predictor.predict_pairs([("A short warm-up sentence.", "A brief sentence to warm up.")])
    if background:
        check_in_background(predictor, folder)
    else:
        enable_fast_path(predictor, folder, progress)
    progress(1.0, "Ready")
    return predictor


def load_for_serving(ref: ModelRef, progress: Progress | None = None) -> Predictor:
    """The app's loader: PyTorch answers the first request at once, the engine check runs in the background (the
    ONNX export and the accuracy gate took ~55 s on 2 cores, which the first request used to wait for)."""
    return load_predictor(ref, progress, background=True)


def check_in_background(predictor: Predictor, folder: Path | None) -> threading.Thread:
    """Run the engine check (fastpath.choose) in a daemon thread; the predictor switches engines when it ends."""
    predictor.check_started = time.time()
    predictor._checked.clear()

    def work() -> None:
        try:
            enable_fast_path(predictor, folder)
        except Exception:  # noqa: BLE001 - a failed check leaves PyTorch answering, as a failed gate does
            logging.getLogger("studio.predict").exception("background engine check failed")
            if predictor.serving is None:
                predictor.serving = fastpath.Serving("pytorch", fastpath.Route.CHECK_CRASHED)
        finally:
            predictor._checked.set()

    thread = threading.Thread(target=work, name="predict-engine-check", daemon=True)
    thread.start()
    return thread


def enable_fast_path(predictor: Predictor, folder: Path | None, progress: Progress | None = None) -> None:
    """Export to ONNX Runtime and switch to it only if it keeps the PyTorch answers (see fastpath.choose)."""
    def score(firsts, seconds, engine):
        return predictor.probabilities(firsts, seconds, engine=engine)[0]

    threads = predictor._torch.get_num_threads()
    backend, serving = fastpath.choose(predictor.model, predictor.tokenizer, predictor.record, folder,
                                       predictor.device, threads, score, progress, bf16=predictor.use_bf16,
                                       task=predictor.task)
    if serving.bf16_ok is False:  # bf16 changed answers on the validation pairs: PyTorch serves in fp32
        predictor.use_bf16 = False
    if backend is not None:
        predictor.memory_bytes += backend.bytes + getattr(serving.batch_backend, "bytes", 0)
        warm = (["A short warm-up sentence."], ["A brief sentence to warm up."] if predictor.pair else None)
        score(*warm, backend)  # its first call is slow: warmed before it takes over, not by a visitor
    # serving first: engine_for reads serving.batch_backend, then fast; both set only once everything is ready
    predictor.serving, predictor.fast = serving, backend

