"""The fast CPU serving path: the checkpoint in ONNX Runtime (int8, else fp32), used only after an accuracy gate."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from trainer_backend import settings
from trainer_backend.runs.record import RunRecord

MIN_AGREEMENT = 0.995      # share of validation pairs where the fast path must give the PyTorch answer
MAX_ACCURACY_DROP = 0.005  # 0.5 accuracy points
MAX_GATE_PAIRS = 1000      # bounds the check's cost on large validation sets
KEEP_EXPORTS = 4           # exported models kept on disk (least recently used go first)
CANDIDATES = ("onnx-int8", "onnx-int8-mixed", "onnx-fp32")  # fastest first; the first to pass serves
MODES = {"auto": CANDIDATES, "int8": ("onnx-int8", "onnx-int8-mixed"), "fp32": ("onnx-fp32",)}
BF16 = "pytorch-bf16"     # a bf16 copy of the PyTorch model (CPUs with native bf16): checked like the others
BATCH_ROUTE_PAIRS = 64     # requests of at least this many pairs go to the engine that was fastest on the gate's batch
SINGLE_PROBES = 24         # pairs sent one at a time during the check, to time single-pair answers
GATE_VERSION = 5  # bump when the export or quantization recipe or the gate's record changes
TITLES = {"onnx-int8": "ONNX Runtime, int8 (dynamic quantization)",
          "onnx-int8-mixed": "ONNX Runtime, int8 in the layers quantization disturbs least, fp32 in the others",
          "onnx-fp32": "ONNX Runtime, fp32", "pytorch": "PyTorch", BF16: "PyTorch with bf16 weights"}
SENSITIVITY_PAIRS = 128    # validation pairs used to rank layers by how much int8 moves their answers
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")

# (firsts, seconds, engine) -> probability rows; engine is "pytorch-fp32" or a backend object
Scorer = Callable[[Sequence[str], Sequence[str], object], list[list[float]]]
Progress = Callable[[float, str], None]


def mode() -> str:
    """PREDICT_FASTPATH: auto (int8, mixed int8, fp32: the first to pass the gate), int8, fp32, or off."""
    value = settings.predict_settings().fastpath
    return value if value in {*MODES, "off"} else "auto"


@dataclass
class Check:
    """One candidate's result on the validation pairs against the PyTorch fp32 model."""

    engine: str
    agreement: float
    accuracy: float
    reference_accuracy: float
    pairs: int
    passed: bool
    error: str | None = None
    detail: str = ""
    pairs_per_s: float = 0.0   # its speed on the gate's pairs (one large, length-sorted batch job)
    single_ms: float = 0.0     # median time of one pair sent alone (SINGLE_PROBES of them)


@dataclass
class Serving:
    """Which path answers requests, and why (shown in the facts panel)."""

    engine: str                     # "onnx-int8", "onnx-fp32" or "pytorch": answers single pairs and small requests
    reason: str
    checks: list[Check] = field(default_factory=list)
    data: str = ""
    seconds: float = 0.0
    cached: bool = False
    batch_engine: str = ""          # answers requests of BATCH_ROUTE_PAIRS or more; "" = the same engine
    batch_backend: object = field(default=None, repr=False, compare=False)
    bf16_ok: bool | None = None     # the bf16 check's verdict (None: not checked); PyTorch's own bf16 autocast obeys it

    @property
    def title(self) -> str:
        return TITLES.get(self.engine, self.engine)

    @property
    def batch_title(self) -> str:
        return TITLES.get(self.batch_engine or self.engine, self.batch_engine)

    def to_json(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "batch_backend"} | {"checks": [asdict(c) for c in self.checks]}


class Bf16Backend:
    """The PyTorch model with its weights cast to bf16 once (not autocast, which casts them again on every call):
    on a CPU with native bf16 it answers batches faster than ONNX Runtime fp32, and is checked like any engine."""

    def __init__(self, model) -> None:
        import copy

        import torch

        self.model = copy.deepcopy(model).to(torch.bfloat16).eval()
        self.engine, self.path, self.detail = BF16, None, "weights cast to bf16 once"
        self.bytes = sum(t.numel() * t.element_size() for t in self.model.parameters())

    def logits(self, arrays: dict) -> np.ndarray:
        return torch_logits(self.model, arrays)


def torch_logits(model, rows: dict, device: str = "cpu", context=None) -> np.ndarray:
    """One padded batch through a PyTorch classifier (no gradients; `context`: e.g. an autocast), float32 logits.
    The Predictor's own PyTorch paths and the bf16 copy both answer through this."""
    import contextlib

    import torch

    inputs = {k: torch.as_tensor(v, dtype=torch.long, device=device) for k, v in rows.items()}
    with torch.inference_mode(), (context or contextlib.nullcontext()):
        return model(**inputs).logits.float().cpu().numpy()


class OrtBackend:
    """An ONNX Runtime session for one exported checkpoint: padded int64 rows in, logits out."""

    def __init__(self, path: Path, engine: str, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between calls: on a shared CPU spinning threads slow everything else (PyTorch included)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.engine, self.path, self.detail = engine, path, ""
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.bytes = path.stat().st_size

    def logits(self, arrays: dict) -> np.ndarray:
        feed = {name: np.asarray(arrays[name], dtype=np.int64) for name in self.inputs}
        return self.session.run(None, feed)[0].astype(np.float32)


# --- exporting ----------------------------------------------------------------------------------
def weights_digest(model) -> str:
    """A content hash of the weights: a retrained or re-downloaded checkpoint gets a new export."""
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def export_dir(digest: str) -> Path:
    return settings.data_dir() / "fastpath" / digest


def _prune(keep: Path) -> None:
    """Keep the KEEP_EXPORTS most recently used exports on disk."""
    folders = sorted((p for p in keep.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[KEEP_EXPORTS:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def _logits_module(model, with_types: bool):
    """The classifier as a module taking int64 inputs and returning only the logits (what gets exported)."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {"token_type_ids": token_type_ids} if with_types else {}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits

    return Logits().eval()  # eval: the exporter restores the wrapper's mode onto the model afterwards


def export_fp32(model, tokenizer, path: Path) -> Path:
    """torch.onnx (TorchScript exporter, no extra packages) with dynamic batch and sequence axes."""
    import copy

    import torch

    clone = copy.deepcopy(model).float().cpu().eval()
    if hasattr(clone, "set_attn_implementation"):
        try:  # the eager attention traces into plain MatMul/Softmax that ONNX Runtime fuses itself
            clone.set_attn_implementation("eager")
        except Exception:  # noqa: BLE001 - exporting with the default attention is the fallback
            pass
    sample = tokenizer(["A short first sentence.", "Two"], ["A second one.", "Three words here"],
                       padding=True, return_tensors="pt")
    with_types = "token_type_ids" in sample
    names = [n for n in INPUT_NAMES if n in sample]
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python conditions on shapes: checked by the gate
        torch.onnx.export(_logits_module(clone, with_types), tuple(sample[n] for n in names), str(path),
                          input_names=names, output_names=["logits"], dynamic_axes=axes, opset_version=17,
                          do_constant_folding=True, dynamo=False)
    model.eval()
    return path


def quantize_int8(fp32_path: Path, path: Path, nodes: Sequence[str] | None = None) -> Path:
    """Dynamic int8 quantization of the weight matrices (activations quantized per call); nodes: only these."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice about static pre-processing to the root logger
    try:
        # only the weight matrices (MatMul with a constant side): quantizing the embedding lookups (Gather) too
        # cost agreement on MRPC validation (99.3% vs 99.75% for a 1-epoch MiniLM) and bought no speed
        quantize_dynamic(str(fp32_path), str(path), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=list(nodes or []),
                         extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": True})
    finally:
        root.setLevel(level)
    return path


def export(model, tokenizer, folder: Path) -> Path:
    """The fp32 ONNX model for these weights, exported once."""
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model-fp32.onnx"
    if not fp32.is_file():
        tmp = folder / "model-fp32.tmp.onnx"
        export_fp32(model, tokenizer, tmp)
        tmp.replace(fp32)
    return fp32


def layer_nodes(fp32: Path) -> dict[int, list[str]]:
    """Weight MatMul nodes grouped by encoder layer ("…/layer.3/…"), from the exported graph."""
    import onnx

    graph = onnx.load(str(fp32), load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    groups: dict[int, list[str]] = {}
    for node in graph.node:
        found = re.search(r"[./_]layers?[./_](\d+)[./_]", node.name)
        if node.op_type == "MatMul" and found and any(i in weights for i in node.input):
            groups.setdefault(int(found.group(1)), []).append(node.name)
    return groups


def _mixed(fp32: Path, folder: Path, threads: int, pairs: "GatePairs", score: Scorer,
           progress: Progress) -> tuple[Path, str]:
    """int8 for the half of the encoder layers whose answers int8 moves least (measured one layer at a time)."""
    groups = layer_nodes(fp32)
    if len(groups) < 2:
        raise ValueError("no encoder layers found in the exported graph")
    n = min(SENSITIVITY_PAIRS, len(pairs.labels))
    firsts, seconds = pairs.firsts[:n], pairs.seconds[:n]
    reference = np.array(score(firsts, seconds, "pytorch-fp32"))
    shift: dict[int, float] = {}
    probe = folder / "probe-int8.onnx"
    for k, (layer, nodes) in enumerate(sorted(groups.items())):
        progress(0.95, f"Fast path: how much int8 moves layer {layer}'s answers ({k + 1}/{len(groups)})")
        quantize_int8(fp32, probe, nodes)
        got = np.array(score(firsts, seconds, OrtBackend(probe, "probe", threads)))
        shift[layer] = float(np.abs(got[:, 1] - reference[:, 1]).mean())
    probe.unlink(missing_ok=True)
    chosen = sorted(sorted(shift, key=shift.get)[:len(groups) // 2])
    path = folder / f"model-int8-mixed-v{GATE_VERSION}.onnx"
    quantize_int8(fp32, path, [name for layer in chosen for name in groups[layer]])
    detail = f"int8 in layers {', '.join(map(str, chosen))} of {len(groups)} (counting from 0)"
    (folder / "mixed.json").write_text(json.dumps({"detail": detail, "shift": shift}), encoding="utf-8")
    return path, detail


def open_engine(engine: str, model, tokenizer, folder: Path, threads: int, pairs: "GatePairs", score: Scorer,
                progress: Progress) -> OrtBackend:
    """The engine's ONNX Runtime session; models are made once per weights, kept in folder, re-made if missing."""
    detail = ""
    if engine == "onnx-fp32":
        path = export(model, tokenizer, folder)
    elif engine == "onnx-int8":
        path = folder / f"model-int8-v{GATE_VERSION}.onnx"
        if not path.is_file():
            quantize_int8(export(model, tokenizer, folder), folder / "model-int8.tmp.onnx").replace(path)
    elif engine == "onnx-int8-mixed":
        path = folder / f"model-int8-mixed-v{GATE_VERSION}.onnx"
        if path.is_file() and (folder / "mixed.json").is_file():
            detail = json.loads((folder / "mixed.json").read_text(encoding="utf-8"))["detail"]
        else:
            path, detail = _mixed(export(model, tokenizer, folder), folder, threads, pairs, score, progress)
    else:
        raise ValueError(f"unknown engine {engine}")
    backend = OrtBackend(path, engine, threads)
    backend.detail = detail
    return backend


# --- the validation pairs -----------------------------------------------------------------------
@dataclass
class GatePairs:
    firsts: list[str]
    seconds: list[str]
    labels: list[int]
    source: str


def _from_dataset(dd, source: str) -> GatePairs:
    val = dd["validation"]
    n = min(len(val), MAX_GATE_PAIRS)
    val = val.select(range(n))
    return GatePairs(list(val["sentence1"]), list(val["sentence2"]), [int(x) for x in val["label"]], source)


def validation_pairs(folder: Path | None, record: RunRecord | None) -> GatePairs:
    """The run's own validation split when it can be found again, else the bundled sample's (and say so)."""
    from trainer_backend import data

    if folder is not None and (folder / "run_config.json").is_file():  # runs started from the app
        try:
            cfg = json.loads((folder / "run_config.json").read_text(encoding="utf-8"))
            loaded = data.load_data(cfg.get("dataset") or "auto", cfg.get("sentence1_column") or "sentence1",
                                    cfg.get("sentence2_column") or "sentence2", cfg.get("label_column") or "label",
                                    max_eval_samples=cfg.get("max_eval_samples") or None,
                                    token=settings.hub_read_token(None))  # never the owner's token on a Space
            return _from_dataset(loaded.dataset, f"the run's validation split ({loaded.name})")
        except Exception:  # noqa: BLE001 - the data may have moved or need the network: fall through
            pass
    described = (record.data if record else None) or ""
    # CLI runs: the record names the folder; only trusted for checkpoints on this machine, never for a Hub repo's facts
    if folder is not None and described.startswith("local MRPC folder "):
        path = described.removeprefix("local MRPC folder ").rsplit(" (", 1)[0]
        try:
            return _from_dataset(data.from_mrpc_folder(path), f"the run's validation split (MRPC folder {path})")
        except Exception:  # noqa: BLE001
            pass
    if described.startswith("bundled sample"):
        return _from_dataset(data.sample(), "the run's validation split (the bundled sample)")
    pairs = _from_dataset(data.sample(), "the bundled sample's validation split")
    pairs.source += (" (this checkpoint's own validation data is not recorded beside it or cannot be read "
                     "here)")
    return pairs


# --- the gate -----------------------------------------------------------------------------------
def _argmax(rows: list[list[float]]) -> list[int]:
    return [int(r[1] > r[0]) for r in rows]


def check(engine: str, backend, pairs: GatePairs, reference: list[int], score: Scorer) -> Check:
    """Agreement with the PyTorch answers and the accuracy change on the validation pairs, and how fast: the pairs
    as one batch job, and a few of them sent one at a time."""
    try:
        score(pairs.firsts[:2], pairs.seconds[:2], backend)  # warm-up: the first call of a session is slower
        start = time.perf_counter()
        got = _argmax(score(pairs.firsts, pairs.seconds, backend))
        speed = len(got) / max(time.perf_counter() - start, 1e-9)
        alone = []
        for a, b in list(zip(pairs.firsts, pairs.seconds))[:SINGLE_PROBES]:
            start = time.perf_counter()
            score([a], [b], backend)
            alone.append(time.perf_counter() - start)
        single_ms = 1000 * sorted(alone)[len(alone) // 2] if alone else 0.0
    except Exception as err:  # noqa: BLE001 - a failing engine is simply not used
        return Check(engine, 0.0, 0.0, 0.0, len(reference), False, f"{err.__class__.__name__}: {err}"[:200])
    n = max(len(reference), 1)
    agreement = sum(a == b for a, b in zip(got, reference)) / n
    accuracy = sum(a == y for a, y in zip(got, pairs.labels)) / n
    ref_accuracy = sum(a == y for a, y in zip(reference, pairs.labels)) / n
    passed = agreement >= MIN_AGREEMENT and ref_accuracy - accuracy <= MAX_ACCURACY_DROP + 1e-12
    return Check(engine, agreement, accuracy, ref_accuracy, len(reference), passed, pairs_per_s=speed,
                 single_ms=single_ms)


def describe(check_: Check) -> str:
    if check_.error:
        return f"{TITLES[check_.engine]} failed to run ({check_.error})"
    verdict = "passed" if check_.passed else "failed"
    detail = f" ({check_.detail})" if check_.detail else ""
    return (f"{TITLES[check_.engine]}{detail} {verdict}: same answer as PyTorch on {check_.agreement:.1%} of "
            f"{check_.pairs} pairs (needs ≥ {MIN_AGREEMENT:.1%}), accuracy {check_.accuracy:.3f} vs "
            f"{check_.reference_accuracy:.3f} (may drop ≤ {MAX_ACCURACY_DROP * 100:.1f} points)")


def choose(model, tokenizer, record: RunRecord | None, folder: Path | None, device: str, threads: int, score: Scorer,
           progress: Progress | None = None, bf16: bool = False) -> tuple[object | None, Serving]:
    """Export, check and pick the fastest engine that passes; (None, why) means PyTorch serves.

    With `bf16` (the CPU computes bf16 natively and the settings allow it) a bf16 copy of the PyTorch model is
    checked too. Among the engines that passed, the one with the fastest single pair answers single pairs and small
    requests, and the one with the most pairs per second on the check's batch answers requests of
    BATCH_ROUTE_PAIRS or more. Returns (single backend or None, Serving); `Serving.batch_backend` holds the other."""
    progress = progress or (lambda f, d: None)
    wanted = mode()
    if wanted == "off":
        return None, Serving("pytorch", "the fast path is turned off (PREDICT_FASTPATH=off)")
    if device != "cpu":
        return None, Serving("pytorch", f"on {device} the PyTorch model already runs on the accelerator; the "
                                        "ONNX Runtime fast path is for CPUs")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None, Serving("pytorch", "onnxruntime is not installed, so there is no fast path")
    engines = list(MODES[wanted])
    extra = [BF16] if bf16 else []
    start = time.perf_counter()
    folder_out = export_dir(weights_digest(model))
    folder_out.mkdir(parents=True, exist_ok=True)
    os.utime(folder_out)
    _prune(folder_out)
    pairs = validation_pairs(folder, record)
    gate_file = folder_out / "gate.json"
    key = {"version": GATE_VERSION, "source": pairs.source, "pairs": len(pairs.labels), "engines": engines + extra,
           "threshold": [MIN_AGREEMENT, MAX_ACCURACY_DROP]}
    checks: list[Check] = []
    backends: dict[str, object] = {}
    cached = False
    try:
        saved = json.loads(gate_file.read_text(encoding="utf-8")) if gate_file.is_file() else None
    except (OSError, ValueError):
        saved = None

    def opened(engine: str):
        if engine == BF16 and engine not in backends:
            backends[engine] = Bf16Backend(model)
        if engine not in backends:
            backends[engine] = open_engine(engine, model, tokenizer, folder_out, threads, pairs, score, progress)
        return backends[engine]

    if saved and saved.get("key") == key:
        checks, cached = [Check(**c) for c in saved["checks"]], True
    else:
        try:
            progress(0.92, "Fast path: exporting to ONNX")
            export(model, tokenizer, folder_out)
        except Exception as err:  # noqa: BLE001 - an architecture the exporter cannot handle keeps PyTorch
            return None, Serving("pytorch", f"the checkpoint could not be exported to ONNX "
                                            f"({err.__class__.__name__}), so PyTorch serves")
        progress(0.95, f"Fast path: checking it against PyTorch on {len(pairs.labels)} validation pairs")
        reference = _argmax(score(pairs.firsts, pairs.seconds, "pytorch-fp32"))
        for engine in engines:
            try:
                backend = opened(engine)
            except Exception as err:  # noqa: BLE001 - an engine that cannot be built is simply not used
                checks.append(Check(engine, 0.0, 0.0, 0.0, len(reference), False,
                                    f"{err.__class__.__name__}: {err}"[:200]))
                continue
            checks.append(check(engine, backend, pairs, reference, score))
            checks[-1].detail = getattr(backend, "detail", "")
            if checks[-1].passed:
                break  # the fastest passing engine wins; slower ones need no check
        for engine in extra:  # the same check, same pairs, for the bf16 copy of the PyTorch model
            checks.append(check(engine, opened(engine), pairs, reference, score))
            checks[-1].detail = backends[engine].detail
        gate_file.write_text(json.dumps({"key": key, "checks": [asdict(c) for c in checks]}), encoding="utf-8")
        winners = [backends[c.engine].path for c in checks if c.passed and c.engine in backends]  # ONNX files
        for leftover in folder_out.glob("*.onnx"):  # keep only what serves: disk stays ~1 model per checkpoint
            if leftover not in winners:
                leftover.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    bf16_check = next((c for c in checks if c.engine == BF16), None)
    bf16_ok = bf16_check.passed if bf16_check else None
    passed = [c for c in checks if c.passed]
    lines = "; ".join(describe(c) for c in checks)
    if not passed:
        return None, Serving("pytorch", f"no fast path passed the accuracy check on {pairs.source}: {lines}",
                             checks, pairs.source, seconds, cached, bf16_ok=bf16_ok)
    single = min(passed, key=lambda c: c.single_ms)
    batch = max(passed, key=lambda c: c.pairs_per_s)
    try:
        backend, batch_backend = opened(single.engine), opened(batch.engine)
    except Exception as err:  # noqa: BLE001 - a remembered winner whose files went missing
        return None, Serving("pytorch", f"the fast path that passed its check could not be opened again "
                                        f"({err.__class__.__name__}), so PyTorch serves", checks, pairs.source,
                             bf16_ok=bf16_ok)
    reason = (f"checked on {pairs.source}: {lines}. Single pairs: {TITLES[single.engine]} "
              f"({single.single_ms:.1f} ms per pair alone, the fastest that passed)")
    serving = Serving(single.engine, reason, checks, pairs.source, seconds, cached, bf16_ok=bf16_ok)
    if batch.engine != single.engine:
        serving.batch_engine, serving.batch_backend = batch.engine, batch_backend
        serving.reason += (f"; requests of {BATCH_ROUTE_PAIRS}+ pairs: {TITLES[batch.engine]} "
                           f"({batch.pairs_per_s:.0f} pairs/s on the check's {batch.pairs} pairs against "
                           f"{single.pairs_per_s:.0f})")
    return backend, serving
