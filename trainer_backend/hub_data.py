"""Hub datasets read from the repo's own files only: listed at a pinned commit, size-checked, loaded by format builders."""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from trainer_backend.hub_check import HubRepo, check_hub_repo, safe_path

# Named choices that live in another repo: the app's 'glue/<config>' is a folder of nyu-mll/glue (parquet files).
GLUE_REPO = "nyu-mll/glue"
# Extension -> (datasets format builder, its options), in the order one is preferred when a repo holds several.
FORMATS = {".parquet": ("parquet", {}), ".csv": ("csv", {}), ".tsv": ("csv", {"sep": "\t"}),
           ".jsonl": ("json", {}), ".json": ("json", {})}
MAX_FILES = 64  # data files one Hub dataset may bring (each is one download request)
NOT_DATA = {"readme.md", "config.json", "dataset_info.json", "dataset_infos.json", "dataset_dict.json",
            "state.json"}


class HubDataError(ValueError):
    """A Hub dataset the app cannot or will not read; the message is one plain sentence."""


def repo_and_folder(target: str) -> tuple[str, str]:
    """('nyu-mll/glue', 'mrpc/') for 'glue/mrpc', else (the id, '') — the repo to list and the folder to read."""
    if target.startswith("glue/") and target.count("/") == 1:
        return GLUE_REPO, target.split("/", 1)[1] + "/"
    return target, ""


def split_files(paths: list[str], folder: str = "") -> dict[str, list[str]]:
    """{split: repo paths} chosen from a repo listing, by datasets' own split-name conventions (train/validation/dev/
    test in file or folder names, data/<split>-00000-of-00001 shards), among files of one format under `folder`.

    Anything the repo's README says is ignored; paths that are absolute, escape with '..' or carry a scheme are
    never candidates. Hand-rolled only in the matching: datasets resolves its patterns on a file system, and here
    they are matched against a listing the app already holds (fsspec's glob_translate, the same glob semantics)."""
    from datasets.data_files import _get_data_files_patterns
    from fsspec.utils import glob_translate

    candidates = [p for p in paths if p.startswith(folder) and safe_path(p)
                  and PurePosixPath(p).suffix.lower() in FORMATS and PurePosixPath(p).name.lower() not in NOT_DATA]
    if not candidates:
        return {}
    ext = next(e for e in FORMATS if any(p.lower().endswith(e) for p in candidates))
    relative = {p[len(folder):]: p for p in candidates if p.lower().endswith(ext)}

    def resolve(pattern: str) -> list[str]:
        match = re.compile(glob_translate(pattern)).match
        return [r for r in relative if match(r)]

    try:
        patterns = _get_data_files_patterns(resolve)
    except (FileNotFoundError, ValueError):
        return {}
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    for split, split_patterns in patterns.items():
        files = sorted({relative[r] for pattern in split_patterns for r in resolve(pattern)} - taken)
        if files:
            out[str(split)] = files
            taken.update(files)
    return out


GLUE_FILE = re.compile(r"(?P<split>train|validation(?:_matched|_mismatched)?)-\d{5}-of-\d{5}\.parquet")


def glue_splits(paths: list[str], folder: str) -> dict[str, list[str]]:
    """{split: repo paths} of one task folder of nyu-mll/glue, by its file names (`<split>-00000-of-00001.parquet`):
    the training split and every validation split, named as GLUE names them (MNLI's validation_matched and
    validation_mismatched stay apart). Test splits are left out: GLUE's carry no labels (-1)."""
    out: dict[str, list[str]] = {}
    for path in sorted(paths):
        match = GLUE_FILE.fullmatch(path[len(folder):]) if path.startswith(folder) and safe_path(path) else None
        if match:
            out.setdefault(match["split"], []).append(path)
    return out


def _splits(paths: list[str], folder: str) -> dict[str, list[str]]:
    return glue_splits(paths, folder) if folder else split_files(paths)


def _chooser(folder: str):
    def choose(listed: dict[str, int | None]) -> list[str]:
        return [p for files in _splits(list(listed), folder).values() for p in files]
    return choose


def fetch(target: str, token: str | bool | None = None) -> tuple[dict[str, list[str]], str, HubRepo]:
    """Download the chosen data files of a Hub dataset at its pinned commit; ({split: local paths}, format, repo).

    Raises HubDataError (refused, not found, nothing readable) or AccessError (the size check)."""
    from huggingface_hub import hf_hub_download

    repo_id, folder = repo_and_folder(target)
    repo = check_hub_repo(repo_id, "dataset", token, choose=_chooser(folder))
    if repo is None:
        raise HubDataError(f"The Hub dataset {target} could not be listed: it may not exist, be private or gated "
                           "(sign in to use your own), or the Hub is unreachable.")
    splits = _splits(list(repo.files), folder)
    if not splits:
        raise HubDataError(f"The Hub dataset {target} holds no data files this app reads (.parquet, .csv, .tsv, "
                           ".jsonl or .json files named by split, e.g. train.csv); its README settings are not used.")
    if sum(map(len, splits.values())) > MAX_FILES:
        raise HubDataError(f"The Hub dataset {target} splits its data into more than {MAX_FILES} files; this app "
                           "reads at most that many.")
    ext = PurePosixPath(next(iter(splits.values()))[0]).suffix.lower()
    local: dict[str, list[str]] = {}
    for split, files in splits.items():
        for path in files:
            got = hf_hub_download(repo_id, path, repo_type="dataset", revision=repo.revision, token=token)
            if Path(got).stat().st_size != repo.files[path]:
                raise HubDataError(f"The Hub dataset {target} sent a file whose size differs from its listing; "
                                   "it is not used.")
            local.setdefault(split, []).append(got)
    return local, ext, repo


def load_files(local: dict[str, list[str]], ext: str):
    """The downloaded files as a DatasetDict, read by the datasets format builder for their extension."""
    from datasets import load_dataset

    builder, options = FORMATS[ext]
    return load_dataset(builder, data_files=local, **options)
