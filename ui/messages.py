"""The words the UI shows for facts the backend returns (the backend returns typed results; the sentences live here)."""
from __future__ import annotations

from trainer_backend.runs.control import Control, Outcome
from trainer_backend.serving import engines
from trainer_backend.serving.fastpath import BATCH_ROUTE_PAIRS, MAX_ACCURACY_DROP, MIN_AGREEMENT, Check, Route, Serving

_CONTROL = {
    Outcome.NO_SUCH_RUN: "No such run.",
    Outcome.NOT_YOURS: ("This run belongs to another visitor: you can watch it, but only its owner can stop, resume, "
                        "push, download or delete it."),
    Outcome.CANCELLED: "Run {label} was waiting and is now cancelled.",
    Outcome.NOT_RUNNING: "Run {label} is not running (it is {status}).",
    Outcome.ALREADY_STOPPING: "Run {label} is already stopping ({detail}).",
    Outcome.STOPPING: ("Stopping {label}: while training it saves a checkpoint after the current step; while loading "
                       "or evaluating it ends now; after {grace_seconds:g} s it is ended regardless."),
    Outcome.STOPPING_GPU_CALL: ("Stopping {label}: it saves a checkpoint after the current step; if it is loading "
                                "or evaluating, it stops at its next step, and after {grace_seconds:g} s it reads "
                                "stopped regardless."),
    Outcome.NOT_RESUMABLE: ("Run {label} is {status}; only interrupted, stopped, failed or not started runs can be "
                            "resumed."),
    Outcome.NO_CHECKPOINT: "Run {label} has no checkpoint to resume from; start it again instead.",
    Outcome.QUEUE_FULL: "{detail}",
    Outcome.RESUMING: "Run {label} is queued to resume from {detail}.",
    Outcome.NOT_FINISHED: "Run {label} is {status}; stop it before deleting it.",
    Outcome.DELETED: "Run {label} and its files are deleted.",
}


def control_message(result: Control) -> str:
    """What a Stop, Resume or Delete did, in a sentence (plain text: the caller escapes it)."""
    return _CONTROL[result.outcome].format(label=result.label, status=result.status, detail=result.detail,
                                           grace_seconds=result.grace_seconds)


def check_line(check: Check) -> str:
    """One engine's accuracy check, in a sentence."""
    if check.error:
        return f"{engines.title(check.engine)} failed to run ({check.error})"
    verdict = "passed" if check.passed else "failed"
    detail = f" ({check.detail})" if check.detail else ""
    accuracy = (f"accuracy {check.accuracy:.3f} vs {check.reference_accuracy:.3f} (may drop ≤ "
                f"{MAX_ACCURACY_DROP * 100:.1f} points)" if check.accuracy is not None
                else "accuracy not compared (no labels that fit this model's classes)")
    return (f"{engines.title(check.engine)}{detail} {verdict}: same answer as PyTorch on {check.agreement:.1%} of "
            f"{check.pairs} pairs (needs ≥ {MIN_AGREEMENT:.1%}), {accuracy}")


_ROUTE = {
    Route.OFF: "the fast path is turned off (PREDICT_FASTPATH=off)",
    Route.ON_ACCELERATOR: ("on {detail} the PyTorch model already runs on the accelerator; the ONNX Runtime fast path "
                           "is for CPUs"),
    Route.NO_ONNXRUNTIME: "onnxruntime is not installed, so there is no fast path",
    Route.EXPORT_FAILED: "the checkpoint could not be exported to ONNX ({detail}), so PyTorch serves",
    Route.NONE_PASSED: "no fast path passed the accuracy check on {data}: {lines}",
    Route.REOPEN_FAILED: "the fast path that passed its check could not be opened again ({detail}), so PyTorch serves",
    Route.CHECK_CRASHED: "the check of the faster engines failed, so PyTorch serves",
    Route.CHECKED: "checked on {data}: {lines}",
}


def serving_reason(serving: Serving) -> str:
    """Why this engine serves, in words (the facts panel, the bench's report)."""
    lines = "; ".join(check_line(c) for c in serving.checks)
    text = _ROUTE[serving.route].format(detail=serving.detail, data=serving.data, lines=lines)
    if serving.route is not Route.CHECKED:
        return text
    single = next(c for c in serving.checks if c.engine == serving.engine and c.passed)
    text += (f". Single pairs: {engines.title(single.engine)} ({single.single_ms:.1f} ms per pair sent alone, the "
             "fastest that passed)")
    batch = next((c for c in serving.checks if serving.batch_engine and c.engine == serving.batch_engine), None)
    if batch is not None:
        text += (f"; requests of {BATCH_ROUTE_PAIRS}+ pairs: {engines.title(batch.engine)} ({batch.pairs_per_s:.0f} "
                 f"pairs/s on the check's {batch.pairs} pairs against {single.pairs_per_s:.0f})")
    return text
