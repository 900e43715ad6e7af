"""A bf16 copy of the PyTorch model (weights cast once), checked only where the CPU computes bf16 natively."""
from __future__ import annotations

import numpy as np

from trainer_backend.serving.engine import BuildContext, EngineSpec, torch_logits

NAME = "pytorch-bf16"


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
                self.model.set_attn_implementation("eager")  # plain matmuls: faster here (README: Predict)
                detail += ", matmul attention"
            except Exception:  # noqa: BLE001 - the model's default attention is the fallback
                pass
        self.engine, self.path, self.detail = NAME, None, detail
        self.bytes = sum(t.numel() * t.element_size() for t in self.model.parameters())

    def logits(self, arrays: dict) -> np.ndarray:
        return torch_logits(self.model, arrays)



def _open(ctx: BuildContext) -> Bf16Backend:
    return Bf16Backend(ctx.model)


BF16 = EngineSpec(NAME, "PyTorch with bf16 weights", "PyTorch with bf16 weights", _open, native_bf16=True)
