"""The registry of serving engines: every engine the accuracy gate may check, in the order it checks them
(fastest first among the ONNX ones; the native-bf16 engines after). The gate, Compare, the Predict tab and the bench
tables read names and titles from here.

Adding an engine: write a module that defines an `engine.Engine` (an `EngineSpec` is the easy way: name, titles,
modes, an opener returning a `Backend`) and add one line to ENGINES below."""
from __future__ import annotations

import contextlib
from typing import Iterator

from trainer_backend.serving import engine_bf16, engine_onnx, engine_openvino
from trainer_backend.serving.engine import (
    PYTORCH,
    PYTORCH_FP32,
    Backend,
    BuildContext,
    Engine,
)

ENGINES: list[Engine] = [
    engine_onnx.INT8,
    engine_onnx.CHECKED,
    engine_onnx.INT8_BLOCKS,
    engine_onnx.INT8_MIXED,
    engine_onnx.FP32,
    engine_openvino.OPENVINO_BF16,
    engine_bf16.BF16,
]
MODES = ("auto", "int8", "fp32")  # PREDICT_FASTPATH values besides "off"
_PLAIN = {PYTORCH: ("PyTorch", "PyTorch"), PYTORCH_FP32: ("PyTorch fp32", "PyTorch fp32")}


def get(name: str) -> Engine:
    for engine in ENGINES:
        if engine.name == name:
            return engine
    raise ValueError(f"unknown engine {name}")


def title(name: str) -> str:
    """The engine's title for a learner's eyes (the plain model included); an unknown name is shown as it is."""
    if name in _PLAIN:
        return _PLAIN[name][0]
    return next((e.title for e in ENGINES if e.name == name), name)


def short_title(name: str) -> str:
    """The engine's name in the README's bench tables."""
    if name in _PLAIN:
        return _PLAIN[name][1]
    return next((e.short for e in ENGINES if e.name == name), name)


def candidates(mode: str) -> list[str]:
    """The engines a PREDICT_FASTPATH mode checks on every CPU, in the order they are checked."""
    return [e.name for e in ENGINES if mode in e.modes]


def native_bf16() -> list[str]:
    """The engines checked besides the candidates where the CPU computes bf16 natively."""
    return [e.name for e in ENGINES if e.native_bf16]


def open_engine(name: str, ctx: BuildContext) -> Backend:
    """Open (building its files once, kept in ctx.folder) the engine called `name` for this checkpoint."""
    return get(name).open(ctx)


@contextlib.contextmanager
def registered(engine: Engine) -> Iterator[Engine]:
    """An extra engine in the registry for the duration (how a test, or a plug-in, adds one)."""
    ENGINES.append(engine)
    try:
        yield engine
    finally:
        ENGINES.remove(engine)
