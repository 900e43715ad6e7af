"""Bench helpers: what this machine is (CPU name and flags), its measured matmul peak, and a run's model FLOPs."""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def was_quiet(loads: list[float], cores: int) -> bool:
    """Whether a bench ran alone: the load averages it logged never exceeded its own threads (about the core
    count) by more than half a core. The README tables say "quiet" or "shared" from this one rule."""
    return max(loads) <= cores + 0.5


def cpu_name() -> str:
    """The CPU's model name as /proc/cpuinfo (or platform) reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def describe_machine(device: str = "cpu") -> dict:
    """Name, cores, threads torch uses, and the SIMD flags that decide fp32/bf16 speed (detected, not assumed)."""
    import torch

    flags = cpu_flags()
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cpu_flags": [f for f in SHOWN_FLAGS if f in flags], "bf16_native": bool(set(BF16_FLAGS) & flags),
            "torch": torch.__version__}
    if device == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["bf16_native"] = torch.cuda.is_bf16_supported()
    return info


def matmul_peak(dtype: str = "fp32", device: str = "cpu", seconds: float = 1.5, sizes=(1024, 2048)) -> float:
    """Best GFLOP/s of square matmuls in `dtype` over a few sizes and repeats (the best, since the machine is shared)."""
    import torch

    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=torch_dtype)
        b = torch.randn(n, n, device=device, dtype=torch_dtype)
        a @ b
        for _ in range(3):
            reps, start = 0, time.perf_counter()
            while True:
                a @ b
                reps += 1
                if device == "cuda":
                    torch.cuda.synchronize()
                elapsed = time.perf_counter() - start
                if elapsed > seconds / (3 * len(sizes)):
                    break
            best = max(best, reps * 2 * n**3 / elapsed / 1e9)
    return best


def layer_parameters(config: dict) -> int:
    """Weights used in matmuls by one encoder layer (Q, K, V, output, and the two feed-forward matrices)."""
    h = config.get("hidden_size", 768)
    return 4 * h * h + 2 * h * config.get("intermediate_size", 4 * h)


def train_flops_per_token(config: dict, trainable_layers: int, seq_len: float) -> float:
    """Matmul FLOPs one real token costs in a training step: forward through every layer, backward through the
    trainable ones (2x forward each). Attention scores add 4·seq_len·hidden per layer forward. Embedding look-ups
    and the 2-way head are negligible. With every layer trainable this is the usual 6·N·T."""
    layers, h = config.get("num_hidden_layers", 12), config.get("hidden_size", 768)
    per_layer_forward = 2 * layer_parameters(config) + 4 * seq_len * h
    return per_layer_forward * layers + 2 * per_layer_forward * trainable_layers


def inference_flops_per_token(config: dict, seq_len: float) -> float:
    """Matmul FLOPs one real token costs in a forward pass (every layer, no backward)."""
    layers, h = config.get("num_hidden_layers", 12), config.get("hidden_size", 768)
    return layers * (2 * layer_parameters(config) + 4 * seq_len * h)


def int8_matmul_peak(seconds: float = 1.5, rows: int = 4096, hidden: int = 384) -> float:
    """Best int8 GOP/s of an encoder-shaped matmul (rows × hidden → 4·hidden) with PyTorch's dynamically quantized
    Linear (fbgemm: VNNI where the CPU has it, else AVX2), activation quantization included. The same shape in fp32
    for comparison is `linear_peak("fp32")`."""
    import torch

    layer = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(hidden, 4 * hidden)),
                                                   {torch.nn.Linear}, dtype=torch.qint8)
    return _best_rate(lambda x: layer(x), torch.randn(rows, hidden), 2 * rows * hidden * 4 * hidden, seconds)


def linear_peak(dtype: str = "fp32", seconds: float = 1.5, rows: int = 4096, hidden: int = 384) -> float:
    """Best GFLOP/s of the same encoder-shaped matmul as int8_matmul_peak, in fp32 (or bf16)."""
    import torch

    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    layer = torch.nn.Linear(hidden, 4 * hidden).to(torch_dtype)
    with torch.inference_mode():
        return _best_rate(layer, torch.randn(rows, hidden, dtype=torch_dtype), 2 * rows * hidden * 4 * hidden, seconds)


def _best_rate(fn, x, ops: float, seconds: float) -> float:
    import torch

    best = 0.0
    with torch.inference_mode():
        fn(x)
        for _ in range(3):
            reps, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 3:
                fn(x)
                reps += 1
            best = max(best, reps * ops / (time.perf_counter() - start) / 1e9)
    return best
