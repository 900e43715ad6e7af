"""The engines that can answer Predict besides the plain PyTorch model: ONNX Runtime (fp32, int8, int8 in blocks,
int8 in the least-disturbed layers), OpenVINO at bf16 and a bf16 copy of the PyTorch model; exporting, quantizing
and opening them. Whether one may serve is decided by the gate in fastpath.py."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from trainer_backend import settings

BF16 = "pytorch-bf16"     # a bf16 copy of the PyTorch model (CPUs with native bf16): checked like the others
OPENVINO_BF16 = "openvino-bf16"  # the exported model in OpenVINO's CPU runtime at bf16 precision (native bf16 only)
KEEP_EXPORTS = 4           # exported models kept on disk (least recently used go first)
SENSITIVITY_PAIRS = 128    # validation pairs used to rank layers by how much int8 moves their answers
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
INT8_BLOCK = 64           # rows of a weight matrix (and values of an activation row) that share one int8 scale
GATE_VERSION = 9  # bump when the export or quantization recipe or the gate's record changes

# (firsts, seconds, engine) -> probability rows; engine is "pytorch-fp32" or a backend object
Scorer = Callable[[Sequence[str], Sequence[str], object], list[list[float]]]
Progress = Callable[[float, str], None]


@dataclass
class GatePairs:
    """Validation pairs an engine is checked (and, for the mixed model, ranked) on, and where they came from."""

    firsts: list[str]
    seconds: list[str]
    labels: list[int]
    source: str


class Bf16Backend:
    """The PyTorch model with its weights cast to bf16 once (not autocast, which casts them again on every call):
    on a CPU with native bf16 it answers batches faster than ONNX Runtime fp32, and is checked like any engine."""

    def __init__(self, model) -> None:
        import copy

        import torch

        self.model = copy.deepcopy(model).to(torch.bfloat16).eval()
        detail = "weights cast to bf16 once"
        if hasattr(self.model, "set_attn_implementation"):
            try:  # PyTorch's CPU flash-attention kernel spent a quarter of a bf16 batch on MRPC-length pairs
                self.model.set_attn_implementation("eager")  # plain matmuls: 3-5% more pairs/s on MiniLM
                detail += ", matmul attention"
            except Exception:  # noqa: BLE001 - the model's default attention is the fallback
                pass
        self.engine, self.path, self.detail = BF16, None, detail
        self.bytes = sum(t.numel() * t.element_size() for t in self.model.parameters())

    def logits(self, arrays: dict) -> np.ndarray:
        return torch_logits(self.model, arrays)


def torch_logits(model, rows: dict, device: str = "cpu", context=None) -> np.ndarray:
    """One padded batch through a PyTorch classifier (no gradients; `context`: e.g. an autocast), float32 logits.
    The Predictor's own PyTorch paths and the bf16 copy both answer through this."""
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


class OpenVinoBackend:
    """The exported ONNX model compiled by OpenVINO for this CPU with bf16 inference precision.

    On CPUs that compute bf16 natively its fused BERT kernels (attention, layer norm, GELU in the matmuls) beat both
    the bf16 PyTorch copy and ONNX Runtime fp32: on the MiniLM MRPC checkpoint, 2 cores, ~550 pairs/s against
    ~430 and ~290, and ~4.1 ms for a single pair against ~6.4 and ~6.1. Checked by the same gate as every engine.
    One inference request is reused under a lock (a request must not serve two calls at once)."""

    def __init__(self, path: Path, threads: int) -> None:
        import threading

        import openvino as ov

        core = ov.Core()
        config = {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_NUM_THREADS": max(1, threads)}
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.request = self.compiled.create_infer_request()
        self.output = self.compiled.outputs[0]
        self.inputs = [port.get_any_name() for port in self.compiled.inputs]
        self.lock = threading.Lock()
        self.engine, self.path, self.detail = OPENVINO_BF16, path, f"OpenVINO {ov.__version__.split('-')[0]}"
        self.bytes = path.stat().st_size // 2  # the weights, held at bf16

    def logits(self, arrays: dict) -> np.ndarray:
        feed = {name: np.asarray(arrays[name], dtype=np.int64) for name in self.inputs}
        with self.lock:
            return np.array(self.request.infer(feed)[self.output], dtype=np.float32)  # a copy, made under the lock


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


def prune_exports(keep: Path) -> None:
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


@contextlib.contextmanager
def _quieter(logger: logging.Logger, level: int):
    """Raise one logger's level for the duration (ONNX Runtime's quantizers log advice and every node)."""
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)


def quantize_int8(fp32_path: Path, path: Path, nodes: Sequence[str] | None = None) -> Path:
    """Dynamic int8 quantization of the weight matrices (activations quantized per call); nodes: only these."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # the quantizer logs advice about static pre-processing to the root logger
    with _quieter(logging.getLogger(), logging.ERROR):
        # only the weight matrices (MatMul with a constant side): quantizing the embedding lookups (Gather) too
        # cost agreement on MRPC validation (99.3% vs 99.75% for a 1-epoch MiniLM) and bought no speed
        quantize_dynamic(str(fp32_path), str(path), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=list(nodes or []),
                         extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": True})
    return path


def quantize_int8_blocks(fp32_path: Path, path: Path) -> Path:
    """int8 with a scale per block of INT8_BLOCK values (ONNX Runtime's MatMulNBits, 8 bits, accuracy_level 4:
    the activations are quantized per block too and multiplied in int8).

    Dynamic int8 gives each activation matrix a single scale, so one large value coarsens the whole matrix; on a
    MiniLM MRPC checkpoint that moved 2% of the answers (98.0% agreement, below the gate's 99.5%), while blocks
    of 64 kept 99.5-99.75% and still answered a single pair about 15-20% faster than fp32 ONNX."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    # it logs a line per graph node at INFO
    with _quieter(logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer"), logging.WARNING):
        config = DefaultWeightOnlyQuantConfig(block_size=INT8_BLOCK, is_symmetric=True, accuracy_level=4, bits=8,
                                              op_types_to_quantize=("MatMul",))
        quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32_path)), algo_config=config)
        quantizer.process()
        quantizer.model.save_model_to_file(str(path), use_external_data_format=False)
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


def _mixed(fp32: Path, folder: Path, threads: int, pairs: GatePairs, score: Scorer,
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


QUANTIZED = {"onnx-int8": ("model-int8", quantize_int8), "onnx-int8-block": ("model-int8-block", quantize_int8_blocks)}


def open_engine(engine: str, model, tokenizer, folder: Path, threads: int, pairs: GatePairs, score: Scorer,
                progress: Progress) -> OrtBackend | OpenVinoBackend:
    """The engine's runtime session; models are made once per weights, kept in folder, re-made if missing."""
    detail = ""
    if engine == OPENVINO_BF16:
        return OpenVinoBackend(export(model, tokenizer, folder), threads)
    if engine == "onnx-fp32":
        path = export(model, tokenizer, folder)
    elif engine in QUANTIZED:  # one file per recipe, made from the fp32 export once
        stem, quantize = QUANTIZED[engine]
        path = folder / f"{stem}-v{GATE_VERSION}.onnx"
        if not path.is_file():
            quantize(export(model, tokenizer, folder), folder / f"{stem}.tmp.onnx").replace(path)
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
