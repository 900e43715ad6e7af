"""The one size check for Hub repos (models and datasets): pinned to a commit, every file it may fetch, closed on a Space."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from trainer_backend import settings
from trainer_backend.errors import AccessError

# Weight copies for other frameworks or runtimes: from_pretrained (PyTorch) never downloads them.
FOREIGN_WEIGHTS = (".h5", ".msgpack", ".ot", ".onnx", ".onnx_data", ".tflite", ".mlmodel", ".gguf", ".ggml",
                   ".pb", ".nemo", ".npz", ".keras")
TORCH_BIN = (".bin", ".pt", ".pth", ".ckpt")
# A repo path the app will accept: plain segments, no '..', no scheme, no leading '/' (the stand-in Hub may lie).
SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._ -]{0,199}(/[A-Za-z0-9_][A-Za-z0-9._ -]{0,199}){0,8}$")

Chooser = Callable[[dict[str, int | None]], list[str]]


@dataclass(frozen=True)
class HubRepo:
    """A Hub repo pinned to one commit, and the files (path -> bytes) the app will download from it."""

    repo_id: str
    repo_type: str
    revision: str
    files: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())


def safe_path(path: str) -> bool:
    """True for a repo file path the app may download: relative, no '..' segment, no scheme or backslash."""
    return bool(SAFE_PATH.match(path)) and ".." not in path.split("/")


def model_files(files: dict[str, int | None]) -> list[str]:
    """Every file from_pretrained may fetch from a model repo: the root files (config, tokenizer, weights, card…),
    without weight copies for other frameworks, and without .bin weights when safetensors are there (transformers
    then reads only those). Counting the whole repo instead would refuse bert-base-uncased (3 GB of TF, Flax, Rust,
    ONNX and Core ML copies beside 440 MB of safetensors) although a load downloads none of them."""
    root = [p for p in files if "/" not in p and safe_path(p) and not p.endswith(FOREIGN_WEIGHTS)]
    if any(p.endswith(".safetensors") for p in root):
        root = [p for p in root if not p.endswith(TORCH_BIN)]
    return root


def limit_bytes(repo_type: str) -> int:
    """This app's limit for a Hub model or dataset (settings.Limits)."""
    lim = settings.limits()
    return lim.hub_dataset_bytes if repo_type == "dataset" else lim.hub_model_bytes


def _info(repo_id: str, repo_type: str, token: str | bool | None):
    from huggingface_hub import HfApi

    api = HfApi()
    if repo_type == "dataset":
        return api.dataset_info(repo_id, files_metadata=True, token=token)
    return api.model_info(repo_id, files_metadata=True, token=token)


def _unknown(repo_id: str, why: str) -> AccessError:
    return AccessError(f"The Hub could not tell how big {repo_id} is ({why}), so this app does not download it; "
                       "try again later or choose another.")


def check_hub_repo(repo_id: str, repo_type: str, token: str | bool | None,
                   choose: Chooser | None = None) -> HubRepo | None:
    """Pin a Hub repo to its current commit and refuse it when the files the app would download pass the limit.

    `choose` picks those files from {path: size} (default: model_files). Returns the pinned HubRepo, whose
    `revision` every download that follows must use; None when the Hub is not asked (offline: only the local cache
    is read) or, off a Space, when it cannot answer (the local user decides, as before). On a Space every doubt
    refuses: no answer, no commit, a file of unknown size. Raises AccessError with one sentence."""
    if settings.is_offline():
        return None
    space = settings.on_space()
    try:
        info = _info(repo_id, repo_type, token)
    except Exception as err:  # noqa: BLE001 - the Hub's own errors (not found, gated, network) become one sentence
        from huggingface_hub.errors import RepositoryNotFoundError

        if not space:
            return None
        if isinstance(err, RepositoryNotFoundError):
            raise AccessError(f"The Hub {repo_type} {repo_id} could not be found: it may not exist, be private or "
                              "gated (sign in to use your own).") from None
        raise _unknown(repo_id, err.__class__.__name__) from None
    listed = {s.rfilename: s.size for s in info.siblings or []}
    chosen = (choose or model_files)(listed)
    sizes = {p: listed.get(p) for p in chosen}
    if not info.sha or any(size is None for size in sizes.values()):
        if space:
            raise _unknown(repo_id, "no commit" if not info.sha else "a file without a size")
        return None
    repo = HubRepo(repo_id, repo_type, info.sha, {p: int(s or 0) for p, s in sizes.items()})
    limit = limit_bytes(repo_type)
    if repo.total_bytes > limit:
        raise AccessError(f"{repo_id} is {repo.total_bytes / 2**20:,.0f} MB, above this app's "
                          f"{limit / 2**20:,.0f} MB limit for Hub {repo_type}s.")
    return repo


def pinned_revision(repo: HubRepo | None) -> str | None:
    """The commit a download must use after check_hub_repo (None: whatever the cache or the Hub has)."""
    return repo.revision if repo is not None else None
