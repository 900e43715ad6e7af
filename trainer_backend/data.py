"""Data sources -> DatasetDict(sentence1[, sentence2], label) with train, validation (and test when present).

Every source is mapped to the same columns: `sentence1` (and `sentence2` for a pair task) and `label`, a ClassLabel
whose names are the task's classes; `LoadedData.task` says which columns of the source they came from (tasks.py)."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from trainer_backend import hub_data, settings, tasks
from trainer_backend.errors import AccessError, DataError, snippet
from trainer_backend.labels import check_classes, classes_of, known_ids, normalize_label
from trainer_backend.tasks import MRPC_LABELS, NamedTask, TaskSpec

LABEL_NAMES = list(MRPC_LABELS)
TEXT = ("sentence1", "sentence2")  # the columns one or two texts of any source are mapped to


def features(n_texts: int = 2, label_names: tuple[str, ...] | list[str] = MRPC_LABELS) -> Features:
    """The columns of a mapped split: one or two texts and a ClassLabel with the task's class names."""
    return Features({**{c: Value("string") for c in TEXT[:n_texts]}, "label": ClassLabel(names=list(label_names))})


FEATURES = features()
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
VALIDATION_FRACTION = 0.1
SPLIT_SEED = 42


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
    task: TaskSpec = field(default=tasks.MRPC)

    def summary(self) -> str:
        sizes = ", ".join(f"{k} {len(v):,}" for k, v in self.dataset.items())
        return f"{self.name} ({sizes})"


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
    """Hold `fraction` of the rows out for validation, every class in proportion (at least one row of each)."""
    classes = len(set(train["label"]))
    size: float | int = fraction if len(train) * fraction >= classes else classes
    if len(train) < 2 * classes:
        raise DataError(f"Too few rows ({len(train)}) to hold out a validation row of each of {classes} classes "
                        "and still train on every class.")
    parts = train.train_test_split(test_size=size, seed=SPLIT_SEED, stratify_by_column="label")
    return DatasetDict(train=parts["train"], validation=parts["test"])


def _to_dataset(pairs: dict[str, list]) -> Dataset:
    return Dataset.from_dict(pairs, features=FEATURES)


def text_columns(s1: str = "sentence1", s2: str = "sentence2") -> tuple[str, ...]:
    """The source columns to read: two for a pair task, one when the second is left empty."""
    return (s1, s2) if str(s2 or "").strip() else (s1,)


def _missing(columns: list, wanted: tuple[str, ...], source: str) -> DataError:
    shown = ", ".join(_column(c) for c in columns[:10]) + (f" and {len(columns) - 10:,} more" if len(columns) > 10
                                                            else "")
    missing = [c for c in wanted if c not in columns]
    hint = ("Map your columns to sentence1, sentence2 and label." if len(wanted) == 3 else
            "Name the text column and the label column.")
    return DataError(f"{source}: missing column(s) {', '.join(_column(c) for c in missing)}. Columns found: "
                     f"{shown}. {hint}")


def _texts(rows: list[tuple[int, dict]], columns: tuple[str, ...], source: str) -> dict[str, list[str]]:
    """The text columns of numbered rows, stripped, under the names sentence1[/sentence2]; a column that is empty
    in every row, or an empty cell, is named."""
    for column in columns:
        if all(row.get(column) is None or not str(row.get(column)).strip() for _, row in rows):
            raise DataError(f"{source}: the text column {_column(column)} is empty in every row.")
    out: dict[str, list[str]] = {name: [] for name in TEXT[:len(columns)]}
    for number, row in rows:
        values = [row.get(c) for c in columns]
        if any(v is None or not str(v).strip() for v in values):
            what = "a sentence is empty" if len(columns) == 2 else "the text is empty"
            raise DataError(f"{source}, row {number}: {what}.")
        for name, value in zip(TEXT, values):
            out[name].append(str(value).strip())
    return out


def build(groups: dict[str, list[tuple[int, dict]]], columns: tuple[str, ...], label: str, source: str,
          names: tuple[str, ...] | None = None) -> DatasetDict:
    """Map numbered rows, grouped by split, to sentence1[/sentence2]/label splits with one set of classes for all:
    `names` when the classes are known, else as the data names them (classes_of). Missing columns and bad rows are
    named; a validation split is held out of training when there is none."""
    found = list(next((rows[0][1] for rows in groups.values() if rows), {}).keys())
    if any(c not in found for c in (*columns, label)):
        raise _missing(found, (*columns, label), source)
    texts = {split: _texts(rows, columns, source) for split, rows in groups.items()}
    everything = [(n, row.get(label)) for rows in groups.values() for n, row in rows]
    numbers, values = [n for n, _ in everything], [v for _, v in everything]
    if names is None:
        names, ids = classes_of(values, numbers, len(columns) == 2, source)
    else:
        ids = known_ids(values, numbers, names, source)
    dd, at = DatasetDict(), 0
    for split, rows in groups.items():
        dd[split] = Dataset.from_dict({**texts[split], "label": ids[at:at + len(rows)]},
                                      features=features(len(columns), names))
        at += len(rows)
    if "validation" not in dd:
        dd.update(_split_off_validation(dd.pop("train")))
    return dd


def from_file(path: str | Path, s1: str = "sentence1", s2: str = "sentence2", label: str = "label") -> DatasetDict:
    """An uploaded CSV/TSV/JSONL. A `split` column (train/validation/test) is honoured; else 10% is held out.
    An empty `s2` reads single sentences from `s1`."""
    path = Path(path)
    rows = list(enumerate(read_table(path), 2))
    groups: dict[str, list[tuple[int, dict]]] = {"train": rows}
    if "split" in rows[0][1]:
        groups = {}
        for number, row in rows:
            name = {"dev": "validation", "valid": "validation"}.get(str(row["split"]).strip().lower(),
                                                                     str(row["split"]).strip().lower())
            groups.setdefault(name, []).append((number, row))
        unknown = set(groups) - {"train", "validation", "test"}
        if unknown or "train" not in groups:
            found = ", ".join(snippet(g) for g in sorted(groups)[:5])
            raise DataError(f"{path.name}: split column must hold train/validation/test, found {found}.")
    dd = build(groups, text_columns(s1, s2), label, path.name)
    check_classes(dd, path.name)
    return dd


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
            check_classes(dd, folder.name)
            return dd
    raise DataError(f"{folder} holds neither msr_paraphrase_train.txt (MSR layout) nor train.tsv (GLUE layout).")


def _hub_groups(raw, target: str, label: str, task: NamedTask | None,
                max_train_samples: int | None) -> dict[str, list[tuple[int, dict]]]:
    """The Hub files' splits as numbered rows under the names this app uses (validation; MNLI's matched split
    becomes it and its mismatched one is kept by name); unlabelled test splits (GLUE's -1) are dropped."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    for split, ds in raw.items():
        if task is not None and split == task.validation or split in {"dev", "valid", "validation"}:
            name = "validation"
        elif task is not None and split == task.also_validate:
            name = split
        elif split in ("train", "test"):
            name = split
        else:
            continue
        if name == "train" and max_train_samples and len(ds) > max_train_samples:
            ds = ds.select(range(max_train_samples))
        if len(ds) > MAX_ROWS:
            raise DataError(f"{target}:{split} has {len(ds):,} rows; the limit is {MAX_ROWS:,}"
                            + (" (set a cap on training pairs)." if name == "train" else "."))
        unlabelled = name == "test" and label in ds.column_names and not set(ds[label]) - {-1}
        if not unlabelled:
            groups[name] = list(enumerate(ds.to_list(), 1))
    if "train" not in groups:
        raise DataError(f"The Hub dataset {target} has no training split (a file named train…).")
    return groups


def from_hub(target: str, s1: str = "sentence1", s2: str = "sentence2", label: str = "label",
             token: str | bool | None = None, max_train_samples: int | None = None) -> DatasetDict:
    """A Hub dataset (or a named GLUE task such as `glue/sst2`, a folder of nyu-mll/glue) read from its own data
    files only, at the commit its size check pinned (trainer_backend.hub_data); never `load_dataset(<the id>)`, so
    its README is never obeyed. A named task brings its columns and classes; other datasets use the columns given
    and a ClassLabel's names where their files carry one."""
    task = tasks.named(target)
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
    groups = _hub_groups(raw, target, label, task, max_train_samples)
    columns, names = text_columns(s1, s2), None
    if task is not None:
        columns, names = task.spec.text_columns, task.spec.label_names
    else:
        feature = next(iter(raw.values())).features.get(label)
        names = tuple(feature.names) if isinstance(feature, ClassLabel) else None
    dd = build(groups, columns, label, target, names)
    check_classes(dd, target)
    return dd


def sample() -> DatasetDict:
    """The bundled offline sample: MRPC-style pairs we wrote ourselves (assets/mrpc_sample.tsv)."""
    return from_file(settings.SAMPLE_DATA_FILE)


def sentiment_sample() -> DatasetDict:
    """The bundled single-sentence sample: short reviews we wrote, negative or positive
    (assets/sentiment_sample.tsv), the offline stand-in for SST-2."""
    return from_file(settings.SENTIMENT_SAMPLE_FILE, "sentence", "", "label")


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
    if spec in ("sample", tasks.SENTIMENT_SAMPLE):
        return "sample", spec
    path = Path(spec).expanduser()
    if path.is_dir():
        return "folder", str(path)
    if path.suffix.lower() in FILE_TYPES or path.is_file():
        return "file", str(path)
    return "hub", spec


def offline_fallback(target: str) -> str:
    """What to use instead of a Hub dataset when the Hub cannot be reached: a named task's bundled stand-in."""
    task = tasks.named(target)
    if task is not None and task.offline == tasks.SENTIMENT_SAMPLE:
        return (f"Use '{tasks.SENTIMENT_SAMPLE}' (bundled single sentences, positive or negative) or a data file "
                "of your own instead.")
    return "Use 'sample', a local MRPC folder or a data file instead."


def load_data(spec: str = "auto", s1: str = "sentence1", s2: str = "sentence2", label: str = "label",
              max_train_samples: int | None = None, max_eval_samples: int | None = None,
              token: str | bool | None = None) -> LoadedData:
    """Load any supported source into train/validation(/test) splits, and say which task they are.

    'hub:<id>' is always a Hub dataset, never a local path (what a Space visitor's Hub ids become). An empty `s2`
    reads single sentences from `s1` (files and Hub datasets; named tasks bring their own columns)."""
    spec, reason = resolve_dataset(spec)
    kind, target = _source_kind(spec)
    columns = text_columns(s1, s2)
    if kind == "sample" and target == tasks.SENTIMENT_SAMPLE:
        dd, name = sentiment_sample(), "bundled sentiment sample (assets/sentiment_sample.tsv)"
        task = tasks.named(target).spec
    elif kind == "sample":
        dd, name, task = sample(), "bundled sample (assets/mrpc_sample.tsv)", TaskSpec(tasks.SAMPLE_TASK)
    elif kind == "folder":
        dd, name, task = from_mrpc_folder(target), f"local MRPC folder {target}", TaskSpec("mrpc-folder")
    elif kind == "file":
        dd, name = from_file(target, s1, s2, label), f"file {Path(target).name}"
        task = TaskSpec("file", columns, tuple(dd["train"].features["label"].names))
    else:
        offline = settings.offline_reason()
        if offline:
            raise DataError(f"Cannot load {target!r} from the Hub: {offline}. {offline_fallback(target)}")
        dd, name = from_hub(target, s1, s2, label, token=token, max_train_samples=max_train_samples), \
            f"Hub dataset {target}"
        named = tasks.named(target)
        task = named.spec if named else TaskSpec(target, columns, tuple(dd["train"].features["label"].names))
    if max_train_samples:
        dd["train"] = dd["train"].select(range(min(max_train_samples, len(dd["train"]))))
    if max_eval_samples:
        for split in [s for s in dd if s.startswith("validation")]:
            dd[split] = dd[split].select(range(min(max_eval_samples, len(dd[split]))))
    return LoadedData(dd, name, reason, task)


def tokenize(dd: DatasetDict, tokenizer, max_length: int = 128) -> DatasetDict:
    """Tokenize each example as one input ([CLS] a [SEP] b [SEP] for a pair, [CLS] a [SEP] for one text); no
    padding here — the collator pads per batch."""

    def encode(batch: dict[str, list]) -> dict:
        second = batch["sentence2"] if "sentence2" in batch else None
        return tokenizer(batch["sentence1"], second, truncation=True, max_length=max_length)

    return dd.map(encode, batched=True, desc="Tokenizing")
