"""Data sources -> DatasetDict(sentence1, sentence2, label) with train, validation (and test when present)."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from trainer_backend import hub_data, settings
from trainer_backend.errors import AccessError

LABEL_NAMES = ["not_paraphrase", "paraphrase"]
FEATURES = Features({"sentence1": Value("string"), "sentence2": Value("string"),
                     "label": ClassLabel(names=LABEL_NAMES)})
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
VALIDATION_FRACTION = 0.1
SPLIT_SEED = 42
_TRUE = {"1", "1.0", "yes", "y", "true", "t", "paraphrase", "equivalent", "positive", "same"}
_FALSE = {"0", "0.0", "no", "n", "false", "f", "not_paraphrase", "not paraphrase", "not-paraphrase",
          "not_equivalent", "negative", "different"}


SNIPPET_CHARS = 40


class DataError(ValueError):
    """Data that cannot be used for training; the message names the problem."""


def snippet(value: object, limit: int = SNIPPET_CHARS) -> str:
    """A cell or column name as an error may quote it: at most `limit` characters, control characters escaped
    (repr), and how long it really was when cut. Markdown/HTML escaping stays with the UI that shows it."""
    text = str(value)
    shown = repr(text[:limit])
    return shown if len(text) <= limit else f"{shown}… ({len(text):,} characters)"


def _column(name: object) -> str:
    """A column name for a message: as is when short and plain, else a snippet."""
    text = str(name)
    return text if re.fullmatch(r"[\w .#-]{1,40}", text) else snippet(text)


@dataclass
class LoadedData:
    """A ready DatasetDict plus a human sentence saying what it is and why it was chosen."""

    dataset: DatasetDict
    name: str
    reason: str

    def summary(self) -> str:
        sizes = ", ".join(f"{k} {len(v):,}" for k, v in self.dataset.items())
        return f"{self.name} ({sizes})"


def normalize_label(value: object, row: int | str = "?") -> int:
    """Map 0/1, yes/no, true/false, paraphrase/not_paraphrase … to 0 or 1; anything else is an error."""
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise DataError(f"Row {row}: label {snippet(value)} is not binary. Use 0/1, yes/no, true/false or "
                    "paraphrase/not_paraphrase.")


def _decode(raw: bytes, name: str) -> str:
    if not raw.strip():
        raise DataError(f"{name} is empty.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{name} is not valid UTF-8: byte 0x{raw[err.start]:02x} on line {line}. "
                        "Save the file as UTF-8 and upload it again.") from None


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataError(f"File not found: {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(f"{path.name} is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB.")
    return path.read_bytes()


# The data file types the app accepts, everywhere (Train's upload, Predict's pairs file, the loader), and how each
# is read: JSON lines, comma- or tab-separated. FILE_TYPES_SHOWN is how messages name them.
FILE_TYPES = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}
FILE_TYPES_SHOWN = ".csv, .tsv or .jsonl"


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Read a CSV, TSV or JSONL file into rows of strings; every problem becomes a DataError."""
    path = Path(path)
    text = _decode(_read_bytes(path), path.name)
    suffix = path.suffix.lower()
    rows: list[dict[str, str]]
    kind = FILE_TYPES.get(suffix)
    if kind == "jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path.name}, line {number}: not valid JSON ({err.msg}).") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path.name}, line {number}: each line must be a JSON object.")
            rows.append(obj)
    elif kind in ("csv", "tsv"):
        delimiter = "\t" if kind == "tsv" else ","
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        try:
            reader = csv.DictReader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
            rows = [dict(r) for r in reader]
        except csv.Error as err:
            raise DataError(f"{path.name} could not be parsed as {suffix[1:].upper()}: {err}") from None
    else:
        raise DataError(f"{path.name}: unsupported file type {suffix or '(none)'}; use {FILE_TYPES_SHOWN}.")
    if not rows:
        raise DataError(f"{path.name} has a header but no rows.")
    if len(rows) > MAX_ROWS:
        raise DataError(f"{path.name} has {len(rows):,} rows; the limit is {MAX_ROWS:,}.")
    return rows


def rows_to_pairs(rows: list[dict], s1: str = "sentence1", s2: str = "sentence2", label: str = "label",
                  source: str = "data", require_label: bool = True) -> dict[str, list]:
    """Pick and clean the three columns; names missing columns and bad rows."""
    columns = list(rows[0].keys())
    missing = [c for c in (s1, s2) + ((label,) if require_label else ()) if c not in columns]
    if missing:
        shown = ", ".join(_column(c) for c in columns[:10]) + (f" and {len(columns) - 10:,} more" if len(columns) > 10
                                                                else "")
        raise DataError(f"{source}: missing column(s) {', '.join(_column(c) for c in missing)}. Columns found: "
                        f"{shown}. Map your columns to sentence1, sentence2 and label.")
    out: dict[str, list] = {"sentence1": [], "sentence2": [], "label": []}
    for number, row in enumerate(rows, 2):
        a, b = row.get(s1), row.get(s2)
        if a is None or b is None or not str(a).strip() or not str(b).strip():
            raise DataError(f"{source}, row {number}: a sentence is empty.")
        out["sentence1"].append(str(a).strip())
        out["sentence2"].append(str(b).strip())
        out["label"].append(normalize_label(row.get(label), number) if require_label else -1)
    return out


def _split_off_validation(train: Dataset, fraction: float = VALIDATION_FRACTION) -> DatasetDict:
    parts = train.train_test_split(test_size=fraction, seed=SPLIT_SEED, stratify_by_column="label")
    return DatasetDict(train=parts["train"], validation=parts["test"])


def _to_dataset(pairs: dict[str, list]) -> Dataset:
    return Dataset.from_dict(pairs, features=FEATURES)


def from_file(path: str | Path, s1: str = "sentence1", s2: str = "sentence2", label: str = "label") -> DatasetDict:
    """An uploaded CSV/TSV/JSONL. A `split` column (train/validation/test) is honoured; else 10% is held out."""
    path = Path(path)
    rows = read_table(path)
    if "split" in rows[0]:
        groups: dict[str, list[dict]] = {}
        for row in rows:
            name = {"dev": "validation", "valid": "validation"}.get(str(row["split"]).strip().lower(),
                                                                     str(row["split"]).strip().lower())
            groups.setdefault(name, []).append(row)
        unknown = set(groups) - {"train", "validation", "test"}
        if unknown or "train" not in groups:
            found = ", ".join(snippet(g) for g in sorted(groups)[:5])
            raise DataError(f"{path.name}: split column must hold train/validation/test, found {found}.")
        dd = DatasetDict({k: _to_dataset(rows_to_pairs(v, s1, s2, label, path.name)) for k, v in groups.items()})
        if "validation" not in dd:
            dd.update(_split_off_validation(dd["train"]))
    else:
        dd = _split_off_validation(_to_dataset(rows_to_pairs(rows, s1, s2, label, path.name)))
    _check_binary(dd, path.name)
    return dd


def _check_binary(dd: DatasetDict, source: str) -> None:
    labels = set(dd["train"]["label"])
    if len(labels) < 2:
        raise DataError(f"{source}: the training split has only label {labels.pop()}; both 0 and 1 are needed.")
    if len(dd["train"]) < 4 or len(dd["validation"]) < 2:
        raise DataError(f"{source}: too few pairs to train and validate ({len(dd['train'])} / {len(dd['validation'])}).")


def _read_msr(path: Path) -> dict[str, list]:
    """The MSR layout: Quality, #1 ID, #2 ID, #1 String, #2 String (tab-separated, UTF-8 with BOM, header optional)."""
    text = _decode(_read_bytes(path), path.name)
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or (number == 1 and line.lower().startswith(("quality", "index"))):
            continue
        parts = line.split("\t")
        if len(parts) != 5:
            raise DataError(f"{path.name}, line {number}: expected 5 tab-separated fields, found {len(parts)}.")
        rows.append({"label": parts[0], "sentence1": parts[3], "sentence2": parts[4]})
    if not rows:
        raise DataError(f"{path.name} has no pairs.")
    return rows_to_pairs(rows, source=path.name)


def from_mrpc_folder(folder: str | Path) -> DatasetDict:
    """A local MRPC folder in the MSR layout (msr_paraphrase_*.txt) or the GLUE layout (train.tsv/dev.tsv)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"Folder not found: {folder}")
    layouts = [("msr_paraphrase_train.txt", None, "msr_paraphrase_test.txt"), ("train.tsv", "dev.tsv", None)]
    for train_name, dev_name, test_name in layouts:
        if (folder / train_name).is_file():
            dd = DatasetDict(train=_to_dataset(_read_msr(folder / train_name)))
            if dev_name and (folder / dev_name).is_file():
                dd["validation"] = _to_dataset(_read_msr(folder / dev_name))
            else:
                dd.update(_split_off_validation(dd["train"]))
            if test_name and (folder / test_name).is_file():
                dd["test"] = _to_dataset(_read_msr(folder / test_name))
            _check_binary(dd, folder.name)
            return dd
    raise DataError(f"{folder} holds neither msr_paraphrase_train.txt (MSR layout) nor train.tsv (GLUE layout).")


def from_hub(target: str, s1: str = "sentence1", s2: str = "sentence2", label: str = "label",
             token: str | bool | None = None) -> DatasetDict:
    """A Hub dataset (or `glue/mrpc`, a folder of nyu-mll/glue) read from its own data files only, at the commit its
    size check pinned (trainer_backend.hub_data); never `load_dataset(<the id>)`, so its README is never obeyed."""
    try:
        local, ext, _ = hub_data.fetch(target, token)
    except (AccessError, hub_data.HubDataError) as err:
        raise DataError(str(err)) from None
    except Exception as err:  # noqa: BLE001 - not found, private, gated, network: one plain sentence
        raise DataError(f"The Hub dataset {target} could not be loaded: it may not exist, be private or gated "
                        f"(sign in to use your own), or the Hub is unreachable ({err.__class__.__name__}).") from None
    try:
        raw = hub_data.load_files(local, ext)
    except Exception as err:  # noqa: BLE001 - a file its format builder cannot parse
        raise DataError(f"The Hub dataset {target}: its {ext[1:]} files could not be read "
                        f"({err.__class__.__name__}).") from None
    dd = DatasetDict()
    for split, ds in raw.items():
        if len(ds) > MAX_ROWS:
            raise DataError(f"{target}:{split} has {len(ds):,} rows; the limit is {MAX_ROWS:,}.")
        name = "validation" if split in {"dev", "valid", "validation"} else split
        unlabelled = name == "test" and label in ds.column_names and not set(ds[label]) - {-1}
        if not unlabelled:
            dd[name] = _to_dataset(rows_to_pairs(ds.to_list(), s1, s2, label, f"{target}:{split}"))
    if "train" not in dd:
        raise DataError(f"The Hub dataset {target} has no training split (a file named train…).")
    if "validation" not in dd:
        dd.update(_split_off_validation(dd["train"]))
    return dd


def sample() -> DatasetDict:
    """The bundled offline sample: MRPC-style pairs we wrote ourselves (assets/mrpc_sample.tsv)."""
    return from_file(settings.SAMPLE_DATA_FILE)


def resolve_dataset(spec: str) -> tuple[str, str]:
    """Turn 'auto' into a concrete source and say why; returns (spec, reason)."""
    if spec != "auto":
        return spec, "chosen in the settings"
    reason = settings.offline_reason()
    if reason is None:
        return "glue/mrpc", "the Hub is reachable, so the real GLUE MRPC is used"
    local = settings.local_mrpc_dirs()
    if local:
        return str(local[0]), f"{reason}; a local MRPC folder was found"
    return "sample", f"{reason}; using the bundled sample (480 pairs)"


def _source_kind(spec: str) -> tuple[str, str]:
    """('sample' | 'folder' | 'file' | 'hub', what to read). 'hub:<id>' never touches the file system."""
    if spec.startswith("hub:"):
        return "hub", spec[4:]
    if spec == "sample":
        return "sample", spec
    path = Path(spec).expanduser()
    if path.is_dir():
        return "folder", str(path)
    if path.suffix.lower() in FILE_TYPES or path.is_file():
        return "file", str(path)
    return "hub", spec


def load_data(spec: str = "auto", s1: str = "sentence1", s2: str = "sentence2", label: str = "label",
              max_train_samples: int | None = None, max_eval_samples: int | None = None,
              token: str | bool | None = None) -> LoadedData:
    """Load any supported source into train/validation(/test) pairs.

    'hub:<id>' is always a Hub dataset, never a local path (what a Space visitor's Hub ids become)."""
    spec, reason = resolve_dataset(spec)
    kind, target = _source_kind(spec)
    if kind == "sample":
        dd, name = sample(), "bundled sample (assets/mrpc_sample.tsv)"
    elif kind == "folder":
        dd, name = from_mrpc_folder(target), f"local MRPC folder {target}"
    elif kind == "file":
        dd, name = from_file(target, s1, s2, label), f"file {Path(target).name}"
    else:
        offline = settings.offline_reason()
        if offline:
            raise DataError(f"Cannot load {target!r} from the Hub: {offline}. Use 'sample', a local MRPC folder "
                            "or a data file instead.")
        dd, name = from_hub(target, s1, s2, label, token=token), f"Hub dataset {target}"
    if max_train_samples:
        dd["train"] = dd["train"].select(range(min(max_train_samples, len(dd["train"]))))
    if max_eval_samples:
        dd["validation"] = dd["validation"].select(range(min(max_eval_samples, len(dd["validation"]))))
    return LoadedData(dd, name, reason)


def tokenize(dd: DatasetDict, tokenizer, max_length: int = 128) -> DatasetDict:
    """Tokenize each pair as one input ([CLS] a [SEP] b [SEP]); no padding here — the collator pads per batch."""

    def encode(batch: dict[str, list]) -> dict:
        return tokenizer(batch["sentence1"], batch["sentence2"], truncation=True, max_length=max_length)

    return dd.map(encode, batched=True, desc="Tokenizing")
