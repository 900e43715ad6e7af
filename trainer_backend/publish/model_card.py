"""The model card (README.md), loss-curve image and public run summary that travel with a pushed or zipped model.

Everything here is public: the card and studio_run.json never carry a server path, an upload's file name or
unescaped text from a checkpoint, a data file or the run settings (see textsafe.md_escape).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from trainer_backend import settings, tasks
from trainer_backend.runs.record import RunRecord
from trainer_backend.tasks import TaskSpec
from trainer_backend.textsafe import md_escape

LOSS_IMAGE = "loss_curve.png"
PACKAGED_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
WIDGET_PAIR = ("The museum will open its new wing to visitors next spring.",
               "Next spring, visitors will be able to walk through the museum's new wing.")
# An absolute path: starts the text or follows a space, quote, bracket, '=', ':' or ',' (so "</s>" is no path).
_PATH = re.compile(r"(?<![^\s'\"(\[=:,])(?:[A-Za-z]:)?(?:[\\/][^\s\\/()]+)+[\\/]?")
_SIZES = re.compile(r"\s*\((?:[\w-]+ [\d,]+)(?:, [\w-]+ [\d,]+)*\)\s*$")  # data.summary(): " (train 36, ...)"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(?:/[\w.-]{1,96})?")
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LOCAL_MODEL = "a local model"
PUBLIC_DATA_NAMES = ("a local MRPC folder", "an uploaded file", "the bundled sample", "a Hub dataset",
                     "a local data source", "not recorded")
# studio_run.json keys that may leave the server; anything else the run records stays home.
PUBLIC_RUN_KEYS = ("base_model", "data", "precision", "hyperparameters", "metrics", "confusion", "loss_curve",
                   "head_swap", "created", "task", "text_columns", "label_names")
HEAD_SWAP_SHOWN = 6  # weight names listed per group in the card
LIMITATIONS = [
    "MRPC pairs come from English news stories, so other languages, styles or domains may be judged poorly.",
    "The label says whether annotators saw the two sentences as equivalent in meaning; it is neither "
    "entailment nor fact checking, and a fluent pair can still be wrong.",
    "Scores on the small validation set move by about a point from one random seed to the next; short "
    "runs or the bundled sample data make a teaching model, not a production one.",
    "Pairs longer than the training length are cut off before they are classified.",
    "Do not use it alone for decisions that affect people.",
]
TASK_LIMITATIONS = [
    "It knows only the classes and the kind of text it was trained on; other languages, styles or domains may be "
    "judged poorly.",
    *LIMITATIONS[2:],
]


def public_text(text: object) -> str:
    """Replace local file paths with their last component, so free text never reveals a machine's folders."""
    return _PATH.sub(lambda m: m.group(0).rstrip("\\/").replace("\\", "/").rsplit("/", 1)[-1], str(text or ""))


def _looks_local(text: str) -> bool:
    if text.startswith(("/", "\\", ".", "~")) or re.match(r"[A-Za-z]:[\\/]", text) or "\\" in text:
        return True
    try:
        return Path(text).expanduser().exists()
    except (OSError, ValueError):
        return False


def base_model_hub_id(base_model: str | None) -> str | None:
    """The Hub id of the base model for the card's metadata, or None when it was a local folder."""
    if not base_model:
        return None
    if base_model == settings.PACKAGED_MODEL_NAME or "all-MiniLM-L6-v2" in base_model:
        return PACKAGED_HUB_ID
    if _PATH.fullmatch(base_model) or _looks_local(base_model) or not _HUB_ID.fullmatch(base_model):
        return None
    try:
        from huggingface_hub.utils import validate_repo_id

        validate_repo_id(base_model)
    except Exception:  # noqa: BLE001 - not a Hub id: leave it out of the metadata
        return None
    return base_model


def public_base_model(base_model: object) -> str:
    """The packaged model's name or a Hub id as given; a local folder becomes "<folder> (a local model)"."""
    text = str(base_model or "").strip()
    if not text:
        return "an unknown base model"
    if text == settings.PACKAGED_MODEL_NAME:
        return text
    if base_model_hub_id(text) == text:
        return text
    if text == LOCAL_MODEL or (text.endswith(f" ({LOCAL_MODEL})")  # already public: keep (idempotent)
                               and _FOLDER_NAME.fullmatch(text.removesuffix(f" ({LOCAL_MODEL})"))):
        return text
    folder = re.split(r"[\\/]", text.rstrip("\\/"))[-1]
    return f"{folder} ({LOCAL_MODEL})" if _FOLDER_NAME.fullmatch(folder) else LOCAL_MODEL


def public_data(data: object) -> str:
    """data.summary() without server paths or file names: "local MRPC folder /x (…)" -> "a local MRPC folder (…)"."""
    text = str(data or "").strip()
    match = _SIZES.search(text)
    sizes, name = (match.group(0).strip(), text[:match.start()].strip()) if match else ("", text)
    if not name:
        name = "not recorded"
    elif name in PUBLIC_DATA_NAMES:
        pass  # already public (a summary read back from a pushed or zipped run)
    elif name.startswith("local MRPC folder"):
        name = "a local MRPC folder"
    elif name.startswith("file "):
        name = "an uploaded file"
    elif name.startswith("bundled sample"):
        name = "the bundled sample"
    elif name.startswith("Hub dataset "):
        hub = name.removeprefix("Hub dataset ").strip()
        name = f"Hub dataset {hub}" if _HUB_ID.fullmatch(hub) and not _looks_local(hub) else "a Hub dataset"
    elif name.startswith("Hub dataset") or name.lower().startswith("glue"):
        name = public_text(name)
    else:
        name = "a local data source"  # an unknown description may name anything on the server
    return f"{name} {sizes}".strip()


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _scalar(value: Any) -> Any:
    """A hyperparameter value fit for the public summary: numbers, booleans, None, short path-free strings."""
    if value is None or isinstance(value, bool) or _number(value) is not None:
        return value
    return public_text(str(value))[:80]


def public_run(run: RunRecord | dict[str, Any] | None) -> dict[str, Any]:
    """The run summary that may leave the server: allow-listed keys only, no paths, no file names.

    Takes the run's record or a decoded studio_run.json (possibly someone else's): both are reduced the same way."""
    if isinstance(run, RunRecord):
        run = run.model_dump(mode="json", exclude_none=True)
    run = run if isinstance(run, dict) else {}
    out: dict[str, Any] = {}
    if "base_model" in run:
        out["base_model"] = public_base_model(run["base_model"])
    if "data" in run:
        out["data"] = public_data(run["data"])
    if run.get("precision") is not None:
        out["precision"] = public_text(str(run["precision"]))[:40]
    hyper = run.get("hyperparameters")
    if isinstance(hyper, dict):
        out["hyperparameters"] = {public_text(str(k))[:60]: _scalar(v) for k, v in hyper.items()}
    metrics = run.get("metrics")
    if isinstance(metrics, dict):
        out["metrics"] = {public_text(str(k))[:60]: v for k, v in metrics.items() if _number(v) is not None}
    matrix = run.get("confusion")
    if (isinstance(matrix, list) and 2 <= len(matrix) <= 100
            and all(isinstance(row, list) and len(row) == len(matrix) and all(_number(x) is not None for x in row)
                    for row in matrix)):
        out["confusion"] = [[int(x) for x in row] for row in matrix]
    for key, most in (("text_columns", 2), ("label_names", 100)):
        names = run.get(key)
        if isinstance(names, list) and 0 < len(names) <= most:
            out[key] = [public_text(str(n))[:60] for n in names]
    if run.get("task"):
        out["task"] = public_data(run["task"]) if str(run["task"]).startswith(("/", "file")) else \
            public_text(str(run["task"]))[:80]
    curve = run.get("loss_curve")
    if isinstance(curve, list):
        out["loss_curve"] = [[p[0], p[1]] for p in curve if isinstance(p, (list, tuple)) and len(p) == 2
                             and _number(p[0]) is not None and _number(p[1]) is not None]
    swap = run.get("head_swap")
    if isinstance(swap, dict):
        out["head_swap"] = {key: [str(n)[:200] for n in swap.get(key) or [] if n is not None][:500]
                            for key in ("dropped", "new", "mismatched") if isinstance(swap.get(key), list)}
    if run.get("created"):
        out["created"] = public_text(str(run["created"]))[:40]
    return out


def _clean_repo_id(repo_id: str) -> str:
    """Only Hub-id characters survive (the id also goes into a code block and the YAML header)."""
    cleaned = re.sub(r"[^\w./-]+", "-", str(repo_id or "")).strip("-./")
    return cleaned[:200] or "model"


def task_of_run(run: dict[str, Any]) -> TaskSpec:
    """The task a public run summary records (RunRecord.task_spec: MRPC when it records none)."""
    return RunRecord.coerce({k: run[k] for k in ("task", "text_columns", "label_names") if k in run}).task_spec


def card_data(run: RunRecord | dict[str, Any], repo_id: str, sep: str = "[SEP]"):
    """The card's YAML metadata as huggingface_hub's ModelCardData (model-index built from EvalResults)."""
    run = public_run(run)
    task = task_of_run(run)
    if not task.is_mrpc:
        return _task_card_data(run, repo_id, task)
    from huggingface_hub import EvalResult, ModelCardData

    metrics = run.get("metrics") or {}
    data = run.get("data", "")
    on_glue = "glue" in data.lower()
    name = _clean_repo_id(repo_id).split("/")[-1]
    dataset = {"dataset_type": "nyu-mll/glue", "dataset_name": "GLUE MRPC", "dataset_config": "mrpc"} if on_glue \
        else {"dataset_type": "custom", "dataset_name": (_SIZES.sub("", data) or "sentence pairs")[:80]}
    results = [EvalResult(task_type="text-classification", task_name="Paraphrase detection",
                          metric_type=key, metric_value=round(float(metrics[f"eval_{key}"]), 4),
                          dataset_split="validation", **dataset)
               for key in ("accuracy", "f1") if f"eval_{key}" in metrics]
    return ModelCardData(
        base_model=base_model_hub_id(run.get("base_model")),
        datasets=["nyu-mll/glue"] if on_glue else None,
        language=["en"], library_name="transformers", pipeline_tag="text-classification",
        tags=["text-classification", "paraphrase-detection", "mrpc", "fine-tuning-studio"],
        metrics=["accuracy", "f1"],
        eval_results=results or None, model_name=name if results else None,
        widget=[{"text": f"{WIDGET_PAIR[0]} {sep} {WIDGET_PAIR[1]}", "example_title": "A paraphrase pair"}],
    )


def _task_card_data(run: dict[str, Any], repo_id: str, task: TaskSpec):
    """The metadata of a model trained on another task than MRPC: its GLUE config when it is a named GLUE task."""
    from huggingface_hub import EvalResult, ModelCardData

    metrics = run.get("metrics") or {}
    named = tasks.named(task.name)
    config = named.glue_config if named else None
    dataset = ({"dataset_type": "nyu-mll/glue", "dataset_name": f"GLUE {config.upper()}", "dataset_config": config}
               if config else {"dataset_type": "custom", "dataset_name": (_SIZES.sub("", run.get("data", ""))
                                                                          or "text classification")[:80]})
    keys = [k for k in ("accuracy", "f1", "matthews_correlation") if f"eval_{k}" in metrics]
    results = [EvalResult(task_type="text-classification", task_name="Text classification", metric_type=key,
                          metric_value=round(float(metrics[f"eval_{key}"]), 4), dataset_split="validation", **dataset)
               for key in keys]
    name = _clean_repo_id(repo_id).split("/")[-1]
    return ModelCardData(
        base_model=base_model_hub_id(run.get("base_model")), datasets=["nyu-mll/glue"] if config else None,
        language=["en"], library_name="transformers", pipeline_tag="text-classification",
        tags=["text-classification", *([config] if config else []), "fine-tuning-studio"],
        metrics=keys or ["accuracy"], eval_results=results or None, model_name=name if results else None)


def _task_intro(base: str, repo_id: str, task: TaskSpec) -> list[str]:
    """What the model does and how to call it, for a task other than MRPC: its classes and its one or two texts."""
    classes = ", ".join(f"`{md_escape(n)}` ({i})" for i, n in enumerate(task.label_names))
    columns = " and ".join(f"`{md_escape(c)}`" for c in task.text_columns)
    named = tasks.named(task.name)
    what = f"the GLUE {named.glue_config.upper()} task" if named and named.glue_config else "its own data"
    call = (['classifier({"text": "first text", "text_pair": "second text"})'] if task.pair
            else ['classifier("a text to classify")'])
    return [f"{base} fine-tuned to sort {'pairs of texts' if task.pair else 'single texts'} into "
            f"{task.num_labels} classes ({what}). It was trained with the Fine-tuning Studio, a small app that "
            "teaches the 🤗 Trainer workflow.", "", "## Use it", "", "```python", "from transformers import pipeline",
            "", f'classifier = pipeline("text-classification", model="{repo_id}")', *call, "```", "",
            f"The labels are {classes}. It reads {columns} from its training data, in that order.", ""]


def _confusion_lines(matrix: list[list[int]], names: tuple[str, ...]) -> list[str]:
    shown = [md_escape(names[i]) if i < len(names) else str(i) for i in range(len(matrix))]
    return ["", "Confusion matrix (rows: true label, columns: predicted):", "",
            "| | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|",
            *[f"| {shown[i]} | " + " | ".join(str(x) for x in row) + " |" for i, row in enumerate(matrix)]]


def _metadata(run: dict[str, Any], repo_id: str, sep: str) -> str:
    return "---\n" + card_data(run, repo_id, sep).to_yaml() + "\n---\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text.split(".", 1)[1].lower() if text.startswith("SchedulerType.") else text


def _head_swap_lines(swap: dict[str, list[str]]) -> list[str]:
    groups = (("new", "Newly initialised (the classification head)"),
              ("dropped", "Dropped from the checkpoint (its pretraining head)"),
              ("mismatched", "Re-initialised because the shape did not match"))
    lines = []
    for key, label in groups:
        names = swap.get(key) or []
        if names:
            shown = ", ".join(md_escape(n) for n in names[:HEAD_SWAP_SHOWN])
            more = f" and {len(names) - HEAD_SWAP_SHOWN} more" if len(names) > HEAD_SWAP_SHOWN else ""
            lines.append(f"- {label}, {len(names)}: {shown}{more}")
    return lines


def render_card(run: RunRecord | dict[str, Any], repo_id: str, sep: str = "[SEP]", has_image: bool = True) -> str:
    """README.md text: metadata, how to use it, validation results, training setup, loss curve, limitations.

    `run` may be the run's record or a raw studio_run.json: it is reduced with public_run first, and every value taken from it
    (or from the checkpoint, like `sep`) is escaped with md_escape.
    """
    run = public_run(run)
    sep = str(sep or "[SEP]")[:32]
    repo_id = _clean_repo_id(repo_id)
    metrics = run.get("metrics") or {}
    base = md_escape(run.get("base_model") or "an unknown base model")
    hyper = run.get("hyperparameters") or {}
    task = task_of_run(run)
    if not task.is_mrpc:
        lines = [_metadata(run, repo_id, sep), f"# {md_escape(repo_id.split('/')[-1])}", "",
                 *_task_intro(base, repo_id, task), "## Validation results", ""]
        return _card_rest(run, lines, metrics, hyper, base, has_image, task)
    lines = [_metadata(run, repo_id, sep), f"# {md_escape(repo_id.split('/')[-1])}", "",
             f"{base} fine-tuned to decide whether two sentences mean the same thing (paraphrase or not, "
             "the GLUE MRPC task). It was trained with the Fine-tuning Studio, a small app that teaches the "
             "🤗 Trainer workflow.", "", "## Use it", "", "```python", "from transformers import pipeline", "",
             f'classifier = pipeline("text-classification", model="{repo_id}")',
             f'classifier({{"text": "{WIDGET_PAIR[0]}",', f'            "text_pair": "{WIDGET_PAIR[1]}"}})',
             "```", "",
             f"The labels are `not_paraphrase` (0) and `paraphrase` (1). The hosted widget can only send one "
             f"text, so its example joins the two sentences with {md_escape(sep)}; the pipeline call above "
             "passes them as a real pair and is the faithful way to use the model.", "",
             "## Validation results", ""]
    return _card_rest(run, lines, metrics, hyper, base, has_image, task)


def _card_rest(run: dict[str, Any], lines: list[str], metrics: dict[str, Any], hyper: dict[str, Any], base: str,
               has_image: bool, task: TaskSpec) -> str:
    """The card from its results on: metrics, confusion matrix, training setup, head swap, loss, limitations."""
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {md_escape(k.removeprefix('eval_'))} | {md_escape(_fmt(v))} |" for k, v in metrics.items()]
    else:
        lines.append("No validation metrics were recorded for this run.")
    matrix = run.get("confusion")
    if matrix:
        lines += _confusion_lines(matrix, task.label_names)
    lines += ["", "## Training", "", f"- Base model: {base}",
              f"- Data: {md_escape(run.get('data') or 'not recorded')}",
              f"- Precision: {md_escape(run.get('precision', 'not recorded'))}"]
    easy = hyper.get("easy_pair_ratio")
    if isinstance(easy, (int, float)) and easy > 0:
        lines.append(f"- Mixed into the training pairs: {easy:g} made-up easy pair(s) per real one (a sentence beside "
                     "itself as a paraphrase, two unrelated sentences as not), so a short run learns to compare the "
                     "two texts early; the results above are on real validation pairs only")
    if run.get("created"):
        lines.append(f"- Finished: {md_escape(run['created'])}")
    if hyper:
        lines += ["", "| hyperparameter | value |", "|---|---|"]
        lines += [f"| {md_escape(k)} | {md_escape(_fmt(v))} |" for k, v in hyper.items()]
    swap = _head_swap_lines(run.get("head_swap") or {})
    if swap:
        lines += ["", "## Head swap", "",
                  "Loading the base model for classification changed these weights "
                  "(the new head starts random; training is what teaches it):", ""] + swap
    lines += ["", "## Training loss", ""]
    lines.append(f"![Training loss by optimizer step]({LOSS_IMAGE})" if has_image
                 else "No training loss was logged for this run.")
    limits = LIMITATIONS if task.is_mrpc else TASK_LIMITATIONS
    lines += ["", "## Limitations", ""] + [f"- {item}" for item in limits]
    return "\n".join(lines) + "\n"


def draw_loss_curve(points: list, path: str | Path) -> Path | None:
    """Save the loss curve as a PNG drawn with Pillow (plotly's image export would need kaleido and a browser,
    which the app does not ship); None when there are no points."""
    pts = [(float(s), float(v)) for s, v in points or [] if v == v]  # drop NaN
    if not pts:
        return None
    return _draw_with_pillow(pts, Path(path))


def _draw_with_pillow(pts: list[tuple[float, float]], path: Path) -> Path:
    from PIL import Image, ImageDraw

    width, height, left, right, top, bottom = 640, 360, 60, 20, 36, 40
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def at(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (width - left - right),
                height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom))

    draw.rectangle([left, top, width - right, height - bottom], outline="#999999")
    draw.text((left, 10), "Training loss", fill="black")
    draw.text((width // 2 - 12, height - 22), "step", fill="black")
    for value in (y0, y1):
        draw.text((6, at(x0, value)[1] - 6), f"{value:.3g}", fill="black")
    for value in (x0, x1):
        draw.text((at(value, y0)[0] - 8, height - bottom + 4), f"{value:g}", fill="black")
    line = [at(x, y) for x, y in pts]
    if len(line) > 1:
        draw.line(line, fill="#4f46e5", width=3)
    for x, y in line:
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill="#4f46e5")
    img.save(path, format="PNG")
    return path
