"""The ONNX Runtime engines: the checkpoint exported to ONNX once (fp32), three int8 recipes made from that file
(dynamic int8, int8 with a scale per block, int8 in the encoder layers it disturbs least), and dynamic int8 whose
close calls are answered again in fp32."""
from __future__ import annotations

import contextlib
import json
import logging
import re
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from trainer_backend.serving.engine import (
    GATE_VERSION,
    PYTORCH_FP32,
    BuildContext,
    EngineSpec,
    GatePairs,
    Progress,
    Scorer,
    remembered,
)

SENSITIVITY_PAIRS = 128    # validation pairs used to rank layers by how much int8 moves their answers
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
INT8_BLOCK = 64           # rows of a weight matrix (and values of an activation row) that share one int8 scale
CLOSE_CALL_SAFETY = 1.5   # a close call: an int8 margin within this many times the largest shift int8 was seen to make
MIN_CALIBRATION_PAIRS = 32  # fewer validation pairs than this say too little about how far int8 can move an answer


class OrtBackend:
    """An ONNX Runtime session for one exported checkpoint: padded int64 rows in, logits out."""

    def __init__(self, path: Path, engine: str, threads: int, detail: str = "") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between calls: on a shared CPU spinning threads slow everything else (PyTorch included)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.engine, self.path, self.detail = engine, path, detail
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.bytes = path.stat().st_size

    def logits(self, arrays: dict) -> np.ndarray:
        feed = {name: np.asarray(arrays[name], dtype=np.int64) for name in self.inputs}
        return self.session.run(None, feed)[0].astype(np.float32)


# --- exporting and quantizing -----------------------------------------------------------------
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
        # cost agreement with PyTorch on MRPC validation and bought no speed (README: Predict)
        quantize_dynamic(str(fp32_path), str(path), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=list(nodes or []),
                         extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": True})
    return path


def quantize_int8_blocks(fp32_path: Path, path: Path) -> Path:
    """int8 with a scale per block of INT8_BLOCK values (ONNX Runtime's MatMulNBits, 8 bits, accuracy_level 4:
    the activations are quantized per block too and multiplied in int8).

    Dynamic int8 gives each activation matrix a single scale, so one large value coarsens the whole matrix; on a
    MiniLM MRPC checkpoint that moved enough answers to fail the gate, while blocks of 64 kept them and still
    answered a single pair faster than fp32 ONNX (the figures: README, Predict)."""
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
    firsts, seconds = pairs.head(SENSITIVITY_PAIRS)
    reference = np.array(score(firsts, seconds, PYTORCH_FP32))
    shift: dict[int, float] = {}
    probe = folder / "probe-int8.onnx"
    for k, (layer, nodes) in enumerate(sorted(groups.items())):
        progress(0.95, f"Fast path: how much int8 moves layer {layer}'s answers ({k + 1}/{len(groups)})")
        quantize_int8(fp32, probe, nodes)
        got = np.array(score(firsts, seconds, OrtBackend(probe, "probe", threads)))
        # how far the class probabilities moved (total variation: |ΔP(class 1)| for two classes, any number of classes)
        shift[layer] = float(np.abs(got - reference).sum(-1).mean() / 2)
    probe.unlink(missing_ok=True)
    chosen = sorted(sorted(shift, key=shift.get)[:len(groups) // 2])
    path = folder / f"model-int8-mixed-v{GATE_VERSION}.onnx"
    quantize_int8(fp32, path, [name for layer in chosen for name in groups[layer]])
    detail = f"int8 in layers {', '.join(map(str, chosen))} of {len(groups)} (counting from 0)"
    (folder / "mixed.json").write_text(json.dumps({"detail": detail, "shift": shift}), encoding="utf-8")
    return path, detail


def _quantized(name: str, stem: str, quantize) -> Callable[[BuildContext], OrtBackend]:
    """An opener for an int8 recipe: one file per recipe, made from the fp32 export once."""
    def open_(ctx: BuildContext) -> OrtBackend:
        path = ctx.folder / f"{stem}-v{GATE_VERSION}.onnx"
        if not path.is_file():
            quantize(export(ctx.model, ctx.tokenizer, ctx.folder), ctx.folder / f"{stem}.tmp.onnx").replace(path)
        return OrtBackend(path, name, ctx.threads)
    return open_


class CheckedBackend:
    """Dynamic int8 answers every row; a row whose int8 answer is a close call is answered again in fp32.

    Why: dynamic int8 is the fastest engine here (about half fp32's time for a single pair), but the answers it
    changes are pairs near the decision boundary (18 of 408 MRPC validation answers of a 3-epoch MiniLM checkpoint,
    which failed the gate), and fp32 ONNX gives PyTorch's answer. So int8 is measured once per checkpoint on
    calibration pairs: how far it moves the gap between any two classes' logits (`shift`), alone and in batches (a
    batch's rows share one activation scale, so a row moves differently in a batch than alone). A row whose int8 margin (top
    logit minus the runner-up) exceeds CLOSE_CALL_SAFETY times the largest shift seen keeps its int8 answer: int8
    would have to move it further than on any calibration pair to change it. The others go through fp32. The gate
    still checks the result like any engine, and times it, so it serves only where it is faster than fp32 alone.
    The confidence shown for an int8 answer may differ from PyTorch's by a little; the answer is the same one.
    Hand-rolled: ONNX Runtime has no fallback between two sessions, and the rule is a few lines."""

    def __init__(self, fast: OrtBackend, exact: OrtBackend, single_shift: float, batch_shift: float,
                 calibrated_on: int) -> None:
        self.fast, self.exact = fast, exact
        self.single_shift, self.batch_shift, self.calibrated_on = single_shift, batch_shift, calibrated_on
        self.engine, self.path, self.paths = CHECKED.name, fast.path, (fast.path, exact.path)
        self.bytes = fast.bytes + exact.bytes
        self.rows = self.rechecked = 0  # how many rows came in, and how many fp32 answered (approximate under threads)
        self.detail = (f"margins within {CLOSE_CALL_SAFETY:g}x the largest int8 shift on {calibrated_on} validation "
                       f"pairs ({single_shift:.2f} logits alone, {batch_shift:.2f} in batches) are answered in fp32")

    def close_calls(self, logits: np.ndarray) -> np.ndarray:
        """The rows whose int8 answer the fp32 model must give instead (indices)."""
        largest = self.single_shift if len(logits) == 1 else self.batch_shift
        top = np.sort(logits, axis=-1)
        margin = top[:, -1] - top[:, -2] if logits.shape[-1] > 1 else np.full(len(logits), np.inf)
        return np.flatnonzero(margin <= CLOSE_CALL_SAFETY * largest)

    def logits(self, arrays: dict) -> np.ndarray:
        out = self.fast.logits(arrays)
        close = self.close_calls(out)
        self.rows += len(out)
        self.rechecked += len(close)
        if close.size:
            rows = {name: np.asarray(value)[close] for name, value in arrays.items()}
            mask = rows.get("attention_mask")
            if mask is not None and mask.size:  # right-padded rows: the close ones may need fewer columns
                width = int(mask.sum(-1).max())
                if not mask[:, width:].any():
                    rows = {name: value[:, :width] for name, value in rows.items()}
            out[close] = self.exact.logits(rows)
        return out


def shift(moved: Sequence[Sequence[float]], reference: Sequence[Sequence[float]]) -> np.ndarray:
    """Per row, how far one engine moved the gap between any two classes' logits against another, from their
    probabilities (a row's log-probabilities are its logits less one constant, which the gaps do not see)."""
    change = np.log(np.clip(np.asarray(moved, np.float64), 1e-38, None)) - np.log(
        np.clip(np.asarray(reference, np.float64), 1e-38, None))
    return change.max(-1) - change.min(-1) if change.size else np.zeros(0)


def _open_checked(ctx: BuildContext) -> CheckedBackend:
    if len(ctx.pairs) < MIN_CALIBRATION_PAIRS:
        raise ValueError(f"{len(ctx.pairs)} validation examples are too few to measure how far int8 moves an answer "
                         f"(at least {MIN_CALIBRATION_PAIRS})")
    int8, fp32 = INT8.open(ctx), FP32.open(ctx)  # the two engines' own files, shared with them
    saved = ctx.folder / "checked.json"
    key = {"version": GATE_VERSION, "source": ctx.pairs.source, "pairs": len(ctx.pairs)}
    bounds = remembered(saved, key)
    if bounds is None:
        firsts, seconds = ctx.pairs.head(SENSITIVITY_PAIRS)
        ctx.progress(0.95, f"Fast path: how far int8 moves the answers of {len(firsts)} validation examples")
        batch = shift(ctx.score(firsts, seconds, int8), ctx.score(firsts, seconds, fp32))
        alone = [shift(ctx.score(*ctx.pairs.one(i), int8), ctx.score(*ctx.pairs.one(i), fp32))
                 for i in range(len(firsts))]
        bounds = {"key": key, "single": float(np.concatenate(alone).max(initial=0.0)),
                  "batch": float(batch.max(initial=0.0)), "pairs": len(firsts)}
        saved.write_text(json.dumps(bounds), encoding="utf-8")
    return CheckedBackend(int8, fp32, bounds["single"], bounds["batch"], bounds["pairs"])


def _open_fp32(ctx: BuildContext) -> OrtBackend:
    return OrtBackend(export(ctx.model, ctx.tokenizer, ctx.folder), "onnx-fp32", ctx.threads)


def _open_mixed(ctx: BuildContext) -> OrtBackend:
    path = ctx.folder / f"model-int8-mixed-v{GATE_VERSION}.onnx"
    if path.is_file() and (ctx.folder / "mixed.json").is_file():
        detail = json.loads((ctx.folder / "mixed.json").read_text(encoding="utf-8"))["detail"]
    else:
        path, detail = _mixed(export(ctx.model, ctx.tokenizer, ctx.folder), ctx.folder, ctx.threads, ctx.pairs,
                              ctx.score, ctx.progress)
    return OrtBackend(path, "onnx-int8-mixed", ctx.threads, detail)


INT8 = EngineSpec("onnx-int8", "ONNX Runtime, int8 (dynamic quantization)", "ONNX Runtime int8",
                  _quantized("onnx-int8", "model-int8", quantize_int8), frozenset({"auto", "int8"}))
INT8_BLOCKS = EngineSpec("onnx-int8-block",
                         f"ONNX Runtime, int8 with a scale per block of {INT8_BLOCK} values (MatMulNBits)",
                         f"ONNX Runtime, int8 in blocks of {INT8_BLOCK}",
                         _quantized("onnx-int8-block", "model-int8-block", quantize_int8_blocks), frozenset({"auto", "int8"}))
INT8_MIXED = EngineSpec("onnx-int8-mixed",
                        "ONNX Runtime, int8 in the layers quantization disturbs least, fp32 in the others",
                        "ONNX Runtime, int8 in half the layers", _open_mixed, frozenset({"auto", "int8"}))
CHECKED = EngineSpec("onnx-int8-checked", "ONNX Runtime, int8, with close calls answered again in fp32",
                     "ONNX Runtime int8, close calls in fp32", _open_checked, frozenset({"auto", "int8"}),
                     settles=False)
FP32 = EngineSpec("onnx-fp32", "ONNX Runtime, fp32", "ONNX Runtime fp32", _open_fp32, frozenset({"auto", "fp32"}))
