"""OpenVINO at bf16: the exported ONNX model compiled for this CPU, checked only where the CPU computes bf16
natively."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer_backend.serving.engine import BuildContext, EngineSpec
from trainer_backend.serving.engine_onnx import export

NAME = "openvino-bf16"


class OpenVinoBackend:
    """The exported ONNX model compiled by OpenVINO for this CPU with bf16 inference precision.

    On CPUs that compute bf16 natively its fused BERT kernels (attention, layer norm, GELU in the matmuls) beat both
    the bf16 PyTorch copy and ONNX Runtime fp32 on batches (the figures: README, Predict). Checked by the same gate
    as every engine.
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
        self.engine, self.path, self.detail = NAME, path, f"OpenVINO {ov.__version__.split('-')[0]}"
        self.bytes = path.stat().st_size // 2  # the weights, held at bf16

    def logits(self, arrays: dict) -> np.ndarray:
        feed = {name: np.asarray(arrays[name], dtype=np.int64) for name in self.inputs}
        with self.lock:
            return np.array(self.request.infer(feed)[self.output], dtype=np.float32)  # a copy, made under the lock



def _open(ctx: BuildContext) -> OpenVinoBackend:
    return OpenVinoBackend(export(ctx.model, ctx.tokenizer, ctx.folder), ctx.threads)


OPENVINO_BF16 = EngineSpec(NAME, "OpenVINO, bf16", "OpenVINO bf16", _open, native_bf16=True)
