"""Which checkpoint Predict serves: the default model, the menu of runs and pushed repos, a chosen value."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer_backend import settings
from trainer_backend.runs.store import RunStore
from trainer_backend.runs.summary import at_floor, run_name
from web.access import AccessError, Visitor, check_model, reader

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
NO_MODEL_MESSAGE = (
    "There is no fine-tuned model yet. Train one in the Train tab (a short run is enough to try this "
    "tab), or set the environment variable PREDICT_MODEL_ID to a Hub model id or a checkpoint folder. "
    "The packaged all-MiniLM-L6-v2 is not offered here on its own: its paraphrase head would be brand new "
    "and random, so its answers would mean nothing until it is trained.")


class InferenceError(RuntimeError):
    """A model or an input that cannot be used for prediction; the message says why and what to do."""


@dataclass
class ModelRef:
    """Which checkpoint to use: a Hub id or a folder, how to show it, and a local copy to fall back on."""

    spec: str
    title: str
    source: str  # "env", "pushed", "run", "run-skipped", "run-at-floor" or "chosen"
    fallback: str | None = None


def has_weights(folder: str | Path | None) -> bool:
    return bool(folder) and any((Path(folder) / name).is_file() for name in WEIGHT_FILES)


def _run_title(run) -> str:
    """Tells runs apart: label, start time and short id (summary.run_name), seed, base model, accuracy."""
    acc = run.final_metrics.get("eval_accuracy")
    score = f" · accuracy {acc:.3f}" if isinstance(acc, (int, float)) else ""
    seed = f" · seed {run.config['seed']}" if "seed" in run.config else ""
    return f"run {run_name(run)}{seed} · {run.model or 'unknown base'}{score}"


def _own_runs(store: RunStore | None, statuses: tuple[str, ...], viewer: Visitor | None) -> list:
    """Finished runs this reader may use: all of them off a Space; on a Space only the visitor's own (another
    visitor's model is their work, even when only used to answer)."""
    return (store or RunStore()).list(statuses, owner=reader(viewer).runs_owner)


def default_model(store: RunStore | None = None, viewer: Visitor | None = None) -> ModelRef | None:
    """PREDICT_MODEL_ID, else the viewer's last pushed run, else their latest completed local run, else None."""
    env = settings.predict_settings().model_id
    if env:
        return ModelRef(env, env, "env")
    runs = _own_runs(store, ("completed",), viewer)
    for run in runs:
        if run.hub_repo:
            return ModelRef(run.hub_repo, f"{run.hub_repo} (pushed from run {run.label})", "pushed",
                            fallback=run.output_dir if has_weights(run.output_dir) else None)
    usable = [run for run in runs if has_weights(run.output_dir)]
    learned = [run for run in usable if not at_floor(run)]
    if learned:
        skipped = len(usable[:usable.index(learned[0])])
        return ModelRef(learned[0].output_dir, _run_title(learned[0]), "run" if not skipped else "run-skipped")
    if usable:  # every finished run sits at the majority floor: still usable, but said plainly
        return ModelRef(usable[0].output_dir, _run_title(usable[0]), "run-at-floor")
    return None


def model_choices(store: RunStore | None = None, viewer: Visitor | None = None) -> list[tuple[str, str]]:
    """(title, value) for every pushed repo and every finished local run that saved a model (the viewer's own
    on a Space)."""
    choices: list[tuple[str, str]] = []
    for run in _own_runs(store, ("completed", "stopped"), viewer):
        if run.hub_repo and (run.hub_repo, run.hub_repo) not in choices:
            choices.append((f"{run.hub_repo} (Hub)", run.hub_repo))
        if has_weights(run.output_dir):
            choices.append((_run_title(run), f"run:{run.id}"))
    return choices


def resolve_choice(value: str | None, store: RunStore | None = None, viewer: Visitor | None = None) -> ModelRef:
    """Turn a dropdown value (empty = default, run:<id>, Hub id, or folder) into a ModelRef.

    On a Space a visitor may name only their own runs and Hub ids, never a server folder; another visitor's run
    gets the same sentence as a run that does not exist (no oracle for other people's run ids)."""
    value = (value or "").strip()
    who = reader(viewer)
    if not value or value.startswith("("):
        ref = default_model(store, who)
        if ref is None:
            raise InferenceError(NO_MODEL_MESSAGE)
        return ref
    if value.startswith("run:"):
        run = (store or RunStore()).get(value[4:])
        if run is None or not who.owns(run.owner) or not has_weights(run.output_dir):
            raise InferenceError(f"Run {value[4:]!r} has no saved model you can use (it may have been deleted).")
        return ModelRef(run.output_dir, _run_title(run), "run")
    if who.space:
        try:
            check_model(value, who)
        except AccessError as err:  # one sentence whether or not such a path exists: no file-system oracle
            raise InferenceError(str(err)) from None
    return ModelRef(value, value, "chosen")

