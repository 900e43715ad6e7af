"""The fast path's accuracy gate: which engine (engines.py) may answer Predict, checked against PyTorch fp32 on
the run's validation examples (pairs or single texts, any number of classes), and which one answers single
requests and which large ones."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from trainer_backend import data, settings
from trainer_backend.runs.record import RunRecord
from trainer_backend.serving import engine, engine_onnx, engines
from trainer_backend.serving.engine import GATE_VERSION, PYTORCH_FP32, GatePairs, Progress, Scorer
from trainer_backend.serving.engine_bf16 import NAME as BF16
from trainer_backend.serving.engine_openvino import NAME as OPENVINO_BF16
from trainer_backend.tasks import MRPC, TaskSpec

MIN_AGREEMENT = 0.995      # share of validation pairs where the fast path must give the PyTorch answer
MAX_ACCURACY_DROP = 0.005  # 0.5 accuracy points
MAX_GATE_PAIRS = 1000      # bounds the check's cost on large validation sets
BATCH_ROUTE_PAIRS = 64     # requests of at least this many pairs go to the engine that was fastest on the gate's batch
SINGLE_PROBES = 24         # pairs sent one at a time during the check, to time single-pair answers
__all__ = ["BF16", "OPENVINO_BF16", "GatePairs", "choose", "mode", "validation_pairs"]


def mode() -> str:
    """PREDICT_FASTPATH: auto (every registered candidate, the first to pass wins), int8, fp32, or off."""
    value = settings.predict_settings().fastpath
    return value if value in {*engines.MODES, "off"} else "auto"


@dataclass
class Check:
    """One candidate's result on the validation pairs against the PyTorch fp32 model."""

    engine: str
    agreement: float
    accuracy: float | None            # None: the examples had no labels that fit the model (agreement only)
    reference_accuracy: float | None
    pairs: int
    passed: bool
    error: str | None = None
    detail: str = ""
    pairs_per_s: float = 0.0   # its speed on the gate's pairs (one large, length-sorted batch job)
    single_ms: float = 0.0     # median time of one pair sent alone, right after a PyTorch call (SINGLE_PROBES of them)


class Route(Enum):
    """Why the engine that serves was chosen (ui/messages.serving_reason says it in words)."""

    OFF = "off"                        # PREDICT_FASTPATH=off
    ON_ACCELERATOR = "on accelerator"  # detail: the device; PyTorch already runs there
    NO_ONNXRUNTIME = "no onnxruntime"
    EXPORT_FAILED = "export failed"    # detail: the error's class
    NONE_PASSED = "none passed"        # every candidate failed the accuracy check
    REOPEN_FAILED = "reopen failed"    # detail: the error's class; a remembered winner could not be opened
    CHECK_CRASHED = "check crashed"    # the background check itself failed
    CHECKED = "checked"                # the fastest engines that passed serve


@dataclass
class Serving:
    """Which path answers requests, and why (the facts panel words it: ui/messages.serving_reason)."""

    engine: str                     # "onnx-int8", "onnx-fp32" or "pytorch": answers single pairs and small requests
    route: Route
    checks: list[Check] = field(default_factory=list)
    data: str = ""
    seconds: float = 0.0
    cached: bool = False
    batch_engine: str = ""          # answers requests of BATCH_ROUTE_PAIRS or more; "" = the same engine
    batch_backend: object = field(default=None, repr=False, compare=False)
    bf16_ok: bool | None = None     # the bf16 check's verdict (None: not checked); PyTorch's own bf16 autocast obeys it
    detail: str = ""                # the device or the error's class, for the routes that name one

    @property
    def title(self) -> str:
        return engines.title(self.engine)

    @property
    def batch_title(self) -> str:
        return engines.title(self.batch_engine or self.engine)

    def to_json(self) -> dict:
        return ({k: v for k, v in vars(self).items() if k != "batch_backend"}
                | {"checks": [asdict(c) for c in self.checks], "route": self.route.value})


# --- the validation pairs -----------------------------------------------------------------------
def _text_column(names: list[str], wanted: str, slot: int) -> str:
    """The dataset column holding text `slot` (0 or 1): the task's own name, else the studio's usual names."""
    usual = ("sentence1", "sentence2")[slot:slot + 1] + (("sentence", "text") if slot == 0 else ())
    found = next((c for c in (wanted, *usual) if c in names), None)
    if found is None:
        raise KeyError(f"no text column {wanted!r} among {names}")
    return found


def _from_dataset(dd, source: str, task: TaskSpec = MRPC, labelled: bool = True) -> GatePairs:
    """The first MAX_GATE_PAIRS validation examples, read as the model reads them (one text or two)."""
    val = dd["validation"]
    n = min(len(val), MAX_GATE_PAIRS)
    val = val.select(range(n))
    names = list(val.column_names)
    firsts = list(val[_text_column(names, task.text_columns[0], 0)])
    seconds = list(val[_text_column(names, task.text_columns[1], 1)]) if task.pair else None
    labels = [int(x) for x in val["label"]] if labelled and "label" in names else None
    if labels is not None and any(not 0 <= y < task.num_labels for y in labels):
        labels = None  # labels from another task: agreement is still a fair check, accuracy is not
    return GatePairs(firsts, seconds, labels, source)


def _second_column(cfg: dict) -> str:
    """The run's second text column; an empty one (kept as "") means the run read single sentences."""
    value = cfg.get("sentence2_column", "sentence2")
    return "" if value is None else str(value)


def validation_pairs(folder: Path | None, record: RunRecord | None, task: TaskSpec = MRPC) -> GatePairs:
    """The run's own validation split when it can be found again, else the bundled sample's (and say so). For a
    model of another task than MRPC the sample's texts are used without its paraphrase labels: only agreement with
    PyTorch is checked on them."""
    if folder is not None and (folder / "run_config.json").is_file():  # runs started from the app
        try:
            cfg = json.loads((folder / "run_config.json").read_text(encoding="utf-8"))
            loaded = data.load_data(cfg.get("dataset") or "auto", cfg.get("sentence1_column") or "sentence1",
                                    _second_column(cfg), cfg.get("label_column") or "label",
                                    max_eval_samples=cfg.get("max_eval_samples") or None,
                                    token=settings.hub_read_token(None))  # never the owner's token on a Space
            return _from_dataset(loaded.dataset, f"the run's validation split ({loaded.name})", task)
        except Exception:  # noqa: BLE001 - the data may have moved or need the network: fall through
            pass
    described = (record.data if record else None) or ""
    # CLI runs: the record names the folder; only trusted for checkpoints on this machine, never for a Hub repo's facts
    if folder is not None and described.startswith("local MRPC folder "):
        path = described.removeprefix("local MRPC folder ").rsplit(" (", 1)[0]
        try:
            return _from_dataset(data.from_mrpc_folder(path), f"the run's validation split (MRPC folder {path})",
                                 task)
        except Exception:  # noqa: BLE001 - the folder may have moved: the sample's pairs are the fallback, said so
            pass
    if described.startswith("bundled sample") and task.is_mrpc:
        return _from_dataset(data.sample(), "the run's validation split (the bundled sample)", task)
    pairs = _from_dataset(data.sample(), "the bundled sample's validation split", task, labelled=task.is_mrpc)
    pairs.source += (" (this checkpoint's own validation data is not recorded beside it or cannot be read "
                     "here)")
    if not task.is_mrpc:
        pairs.source += "; its paraphrase labels do not fit this model, so only agreement was checked"
    return pairs


# --- the gate -----------------------------------------------------------------------------------
def argmax(rows: list[list[float]]) -> list[int]:
    """Each row's class: the index of its largest probability (any number of classes)."""
    return [max(range(len(r)), key=r.__getitem__) for r in rows]


def _failed(engine: str, pairs: int, err: Exception) -> Check:
    """The record of an engine that could not be built or run: it is simply not used."""
    return Check(engine, 0.0, 0.0, 0.0, pairs, False, f"{err.__class__.__name__}: {err}"[:200])


def check(engine: str, backend, pairs: GatePairs, reference: list[int], score: Scorer) -> Check:
    """Agreement with the PyTorch answers and the accuracy change on the validation pairs, and how fast: the pairs
    as one batch job, and a few of them sent one at a time."""
    try:
        score(*pairs.head(2), backend)  # warm-up: the first call of a session is slower
        start = time.perf_counter()
        got = argmax(score(pairs.firsts, pairs.seconds, backend))
        speed = len(got) / max(time.perf_counter() - start, 1e-9)
        probes = [pairs.one(i) for i in range(min(SINGLE_PROBES, len(pairs)))]
        for a, b in probes:  # untimed first: OpenVINO prepares its kernels once per new input shape
            score(a, b, backend)
        alone = []
        for a, b in probes:
            # each timed pair follows a PyTorch call, as in this process (Explain, batches, other visitors): PyTorch's
            # OpenMP threads spin on the cores for a moment afterwards, which cost OpenVINO ~3 ms a pair on 2 cores
            # and ONNX Runtime ~1 ms, so the engine timed alone as fastest was not the fastest in use
            score(a, b, PYTORCH_FP32)
            start = time.perf_counter()
            score(a, b, backend)
            alone.append(time.perf_counter() - start)
        single_ms = 1000 * sorted(alone)[len(alone) // 2] if alone else 0.0
    except Exception as err:  # noqa: BLE001 - a failing engine is simply not used
        return _failed(engine, len(reference), err)
    n = max(len(reference), 1)
    agreement = sum(a == b for a, b in zip(got, reference)) / n
    accuracy = ref_accuracy = None
    if pairs.labels is not None:
        accuracy = sum(a == y for a, y in zip(got, pairs.labels)) / n
        ref_accuracy = sum(a == y for a, y in zip(reference, pairs.labels)) / n
    drop_ok = accuracy is None or ref_accuracy - accuracy <= MAX_ACCURACY_DROP + 1e-12
    passed = agreement >= MIN_AGREEMENT and drop_ok
    return Check(engine, agreement, accuracy, ref_accuracy, len(reference), passed, pairs_per_s=speed,
                 single_ms=single_ms)


def _unavailable(wanted: str, device: str) -> Serving | None:
    """Why there is no fast path to check here at all (PyTorch serves), or None."""
    if wanted == "off":
        return Serving("pytorch", Route.OFF)
    if device != "cpu":
        return Serving("pytorch", Route.ON_ACCELERATOR, detail=device)
    try:
        import onnxruntime  # noqa: F401 - only asks whether it is installed
    except ImportError:
        return Serving("pytorch", Route.NO_ONNXRUNTIME)
    return None


@dataclass
class _Gate:
    """One checkpoint's engines being opened and checked (each opened once, shared by the check and the verdict)."""

    ctx: engine.BuildContext
    backends: dict[str, object] = field(default_factory=dict)

    @property
    def pairs(self) -> GatePairs:
        return self.ctx.pairs

    def opened(self, name: str):
        if name not in self.backends:
            self.backends[name] = engines.open_engine(name, self.ctx)
        return self.backends[name]

    def checked(self, name: str, reference: list[int]) -> Check:
        try:
            backend = self.opened(name)
        except Exception as err:  # noqa: BLE001 - an engine that cannot be built (say, no OpenVINO) is not used
            return _failed(name, len(reference), err)
        result = check(name, backend, self.pairs, reference, self.ctx.score)
        result.detail = getattr(backend, "detail", "")
        return result

    def run(self, candidates: list[str], extra: list[str]) -> list[Check]:
        """The candidates in order until one that settles passes (slower ones need no check), then every extra
        engine. An engine that does not settle (int8 with close calls in fp32: faster than fp32 only while few rows
        are close calls) is checked and timed beside the next ones."""
        reference = argmax(self.ctx.score(self.pairs.firsts, self.pairs.seconds, PYTORCH_FP32))
        checks: list[Check] = []
        for name in candidates:
            checks.append(self.checked(name, reference))
            if checks[-1].passed and getattr(engines.get(name), "settles", True):
                break
        return checks + [self.checked(name, reference) for name in extra]

    def keep_winners(self, checks: list[Check]) -> None:
        """Only the engines that passed keep their files: 1-2 models per checkpoint."""
        winners = [f for c in checks if c.passed and c.engine in self.backends
                   for f in engine.files(self.backends[c.engine])]
        for leftover in self.ctx.folder.glob("*.onnx"):
            if leftover not in winners:
                leftover.unlink(missing_ok=True)


def _remembered(gate_file: Path, key: dict) -> list[Check] | None:
    """The checks saved for these weights, when they were made the same way (key) as now."""
    saved = engine.remembered(gate_file, key)
    return [Check(**c) for c in saved["checks"]] if saved else None


def _verdict(gate: _Gate, checks: list[Check], seconds: float, cached: bool) -> tuple[object | None, Serving]:
    """The single-pair engine (fastest single pair) and the batch engine (most pairs/s) among those that passed."""
    source = gate.pairs.source
    bf16_check = next((c for c in checks if c.engine == BF16), None)
    bf16_ok = bf16_check.passed if bf16_check else None
    passed = [c for c in checks if c.passed]
    if not passed:
        return None, Serving("pytorch", Route.NONE_PASSED, checks, source, seconds, cached, bf16_ok=bf16_ok)
    single = min(passed, key=lambda c: c.single_ms)
    batch = max(passed, key=lambda c: c.pairs_per_s)
    try:
        backend, batch_backend = gate.opened(single.engine), gate.opened(batch.engine)
    except Exception as err:  # noqa: BLE001 - a remembered winner whose files went missing
        return None, Serving("pytorch", Route.REOPEN_FAILED, checks, source, bf16_ok=bf16_ok,
                             detail=err.__class__.__name__)
    serving = Serving(single.engine, Route.CHECKED, checks, source, seconds, cached, bf16_ok=bf16_ok)
    if batch.engine != single.engine:
        serving.batch_engine, serving.batch_backend = batch.engine, batch_backend
    return backend, serving


def choose(model, tokenizer, record: RunRecord | None, folder: Path | None, device: str, threads: int, score: Scorer,
           progress: Progress | None = None, bf16: bool = False, task: TaskSpec = MRPC) -> tuple[object | None, Serving]:
    """Export, check and pick the fastest engine that passes; (None, why) means PyTorch serves.

    With `bf16` (the CPU computes bf16 natively and the settings allow it) the native-bf16 engines are checked too.
    Among the engines that passed, the one with the fastest single pair answers single pairs and small requests,
    and the one with the most pairs per second on the check's batch answers requests of BATCH_ROUTE_PAIRS or more.
    Returns (single backend or None, Serving); `Serving.batch_backend` holds the other."""
    progress = progress or (lambda f, d: None)
    wanted = mode()
    why_not = _unavailable(wanted, device)
    if why_not:
        return None, why_not
    candidates = engines.candidates(wanted)
    extra = engines.native_bf16() if bf16 else []  # bf16 engines: only where the CPU computes bf16 natively
    start = time.perf_counter()
    folder_out = engine.export_dir(engine.weights_digest(model))
    folder_out.mkdir(parents=True, exist_ok=True)
    os.utime(folder_out)
    engine.prune_exports(folder_out)
    pairs = validation_pairs(folder, record, task)
    gate = _Gate(engine.BuildContext(model, tokenizer, folder_out, threads, pairs, score, progress))
    gate_file = folder_out / "gate.json"
    key = {"version": GATE_VERSION, "source": pairs.source, "pairs": len(pairs), "engines": candidates + extra,
           "threshold": [MIN_AGREEMENT, MAX_ACCURACY_DROP]}
    checks = _remembered(gate_file, key)
    cached = checks is not None
    if checks is None:
        try:
            progress(0.92, "Fast path: exporting to ONNX")
            engine_onnx.export(model, tokenizer, folder_out)
        except Exception as err:  # noqa: BLE001 - an architecture the exporter cannot handle keeps PyTorch
            return None, Serving("pytorch", Route.EXPORT_FAILED, detail=err.__class__.__name__)
        progress(0.95, f"Fast path: checking it against PyTorch on {len(pairs)} validation examples")
        checks = gate.run(candidates, extra)
        gate_file.write_text(json.dumps({"key": key, "checks": [asdict(c) for c in checks]}), encoding="utf-8")
        gate.keep_winners(checks)
    return _verdict(gate, checks, time.perf_counter() - start, cached)
