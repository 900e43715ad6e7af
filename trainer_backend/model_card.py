"""The model card (README.md) and loss-curve image that travel with a pushed or zipped checkpoint."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trainer_backend import settings

LOSS_IMAGE = "loss_curve.png"
PACKAGED_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
WIDGET_PAIR = ("The museum will open its new wing to visitors next spring.",
               "Next spring, visitors will be able to walk through the museum's new wing.")
_PATH = re.compile(r"(?<![\w.-])(?:[A-Za-z]:)?(?:[\\/][^\s\\/()]+)+[\\/]?")
LIMITATIONS = [
    "MRPC pairs come from English news stories, so other languages, styles or domains may be judged poorly.",
    "The label says whether annotators saw the two sentences as equivalent in meaning; it is neither "
    "entailment nor fact checking, and a fluent pair can still be wrong.",
    "Scores on the small validation set move by about a point from one random seed to the next; short "
    "runs or the bundled sample data make a teaching model, not a production one.",
    "Pairs longer than the training length are cut off before they are classified.",
    "Do not use it alone for decisions that affect people.",
]


def public_text(text: object) -> str:
    """Replace local file paths with their last component, so a card never reveals a machine's folders."""
    return _PATH.sub(lambda m: m.group(0).rstrip("\\/").replace("\\", "/").rsplit("/", 1)[-1], str(text or ""))


def base_model_hub_id(base_model: str | None) -> str | None:
    """The Hub id of the base model for the card's metadata, or None when it was a local folder."""
    if not base_model:
        return None
    if base_model == settings.PACKAGED_MODEL_NAME or "all-MiniLM-L6-v2" in base_model:
        return PACKAGED_HUB_ID
    if _PATH.fullmatch(base_model) or base_model.startswith((".", "~")):
        return None
    try:
        from huggingface_hub.utils import validate_repo_id

        validate_repo_id(base_model)
    except Exception:  # noqa: BLE001 - not a Hub id: leave it out of the metadata
        return None
    return base_model


def _metadata(run: dict[str, Any], repo_id: str, sep: str) -> str:
    import yaml

    metrics = run.get("metrics") or {}
    data = public_text(run.get("data", ""))
    on_glue = "glue" in data.lower()
    meta: dict[str, Any] = {"library_name": "transformers", "pipeline_tag": "text-classification",
                            "tags": ["text-classification", "paraphrase-detection", "mrpc", "fine-tuning-studio"],
                            "language": ["en"]}
    base = base_model_hub_id(run.get("base_model"))
    if base:
        meta["base_model"] = base
    if on_glue:
        meta["datasets"] = ["nyu-mll/glue"]
    meta["metrics"] = ["accuracy", "f1"]
    meta["widget"] = [{"text": f"{WIDGET_PAIR[0]} {sep} {WIDGET_PAIR[1]}", "example_title": "A paraphrase pair"}]
    results = [{"type": k, "value": round(float(metrics[f"eval_{k}"]), 4)}
               for k in ("accuracy", "f1") if isinstance(metrics.get(f"eval_{k}"), (int, float))]
    if results:
        meta["model-index"] = [{"name": repo_id.split("/")[-1], "results": [{
            "task": {"type": "text-classification", "name": "Paraphrase detection"},
            "dataset": {"name": "GLUE MRPC" if on_glue else data[:80] or "sentence pairs",
                        "type": "nyu-mll/glue" if on_glue else "custom",
                        **({"config": "mrpc"} if on_glue else {}), "split": "validation"},
            "metrics": results}]}]
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text.split(".", 1)[1].lower() if text.startswith("SchedulerType.") else text


def render_card(run: dict[str, Any], repo_id: str, sep: str = "[SEP]", has_image: bool = True) -> str:
    """README.md text: metadata, how to use it, validation results, training setup, loss curve, limitations."""
    metrics = run.get("metrics") or {}
    base = public_text(run.get("base_model") or "an unknown base model")
    hyper = run.get("hyperparameters") or {}
    lines = [_metadata(run, repo_id, sep), f"# {repo_id.split('/')[-1]}", "",
             f"`{base}` fine-tuned to decide whether two sentences mean the same thing (paraphrase or not, "
             "the GLUE MRPC task). It was trained with the Fine-tuning Studio, a small app that teaches the "
             "🤗 Trainer workflow.", "", "## Use it", "", "```python", "from transformers import pipeline", "",
             f'classifier = pipeline("text-classification", model="{repo_id}")',
             f'classifier({{"text": "{WIDGET_PAIR[0]}",', f'            "text_pair": "{WIDGET_PAIR[1]}"}})',
             "```", "",
             f"The labels are `not_paraphrase` (0) and `paraphrase` (1). The hosted widget can only send one "
             f"text, so its example joins the two sentences with `{sep}`; the pipeline call above passes them "
             "as a real pair and is the faithful way to use the model.", "", "## Validation results", ""]
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {k.removeprefix('eval_')} | {_fmt(v)} |" for k, v in metrics.items()]
    else:
        lines.append("No validation metrics were recorded for this run.")
    matrix = run.get("confusion")
    if matrix and len(matrix) == 2:
        lines += ["", "Confusion matrix (rows: true label, columns: predicted):", "",
                  "| | not_paraphrase | paraphrase |", "|---|---|---|",
                  f"| not_paraphrase | {matrix[0][0]} | {matrix[0][1]} |",
                  f"| paraphrase | {matrix[1][0]} | {matrix[1][1]} |"]
    lines += ["", "## Training", "", f"- Base model: `{base}`",
              f"- Data: {public_text(run.get('data') or 'not recorded')}",
              f"- Precision: {run.get('precision', 'not recorded')}"]
    if run.get("created"):
        lines.append(f"- Finished: {run['created']}")
    if hyper:
        lines += ["", "| hyperparameter | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in hyper.items()]
    lines += ["", "## Training loss", ""]
    lines.append(f"![Training loss by optimizer step]({LOSS_IMAGE})" if has_image
                 else "No training loss was logged for this run.")
    lines += ["", "## Limitations", ""] + [f"- {item}" for item in LIMITATIONS]
    return "\n".join(lines) + "\n"


def draw_loss_curve(points: list, path: str | Path) -> Path | None:
    """Save the loss curve as a PNG: plotly + kaleido when installed, else a plain Pillow drawing."""
    pts = [(float(s), float(v)) for s, v in points or [] if v == v]  # drop NaN
    if not pts:
        return None
    path = Path(path)
    try:
        import kaleido  # noqa: F401 - only the presence matters
        import plotly.graph_objects as go

        fig = go.Figure(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers"))
        fig.update_layout(title="Training loss", xaxis_title="step", yaxis_title="loss", width=640, height=360)
        fig.write_image(str(path))
        return path
    except Exception:  # noqa: BLE001 - kaleido missing or unable to start a browser: draw it ourselves
        return _draw_with_pillow(pts, path)


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
