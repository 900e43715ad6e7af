"""Finished runs written straight into the app's run store, for browser tests and README screenshots."""
from __future__ import annotations

import math
import time

from trainer_backend.runs.store import RunStore

SAMPLE_VALIDATION = (40, 40)  # the bundled sample's 80 validation pairs: (not paraphrase, paraphrase)


def write_run(store: RunStore | None = None, label: str = "Quick look", accuracy_curve: tuple[float, ...] = (),
              confusion: list[list[int]] | None = None, seed: int = 42, loss_from: float = 0.69,
              loss_to: float = 0.69, steps: int = 100, f1_curve: tuple[float, ...] = ()) -> str:
    """A completed run with a loss curve, evaluations and a final confusion matrix; returns its id."""
    store = store or RunStore()
    run_id = store.create({"seed": seed, "dataset": "sample", "model_name_or_path": "auto"}, label=label,
                          status="completed")
    now = time.time()
    for step in range(5, steps + 1, 5):
        frac = step / steps
        wiggle = 0.004 * math.sin(step * 2.3) * math.cos(step * 0.37)  # logged losses jitter a little
        store.log_metrics(run_id, step, frac, {"loss": loss_from + (loss_to - loss_from) * frac + wiggle})
    evals = accuracy_curve or (0.5,)
    for i, acc in enumerate(evals, 1):
        step = round(steps * i / len(evals))
        store.log_metrics(run_id, step, i / len(evals), {"eval_loss": loss_from + (loss_to - loss_from) * i
                                                         / len(evals) + 0.02, "eval_accuracy": acc,
                                                         "eval_f1": f1_curve[i - 1] if f1_curve
                                                         else min(1.0, acc + 0.05)})
    confusion = confusion or [[0, SAMPLE_VALIDATION[0]], [0, SAMPLE_VALIDATION[1]]]
    (tn, fp), (fn, tp) = confusion
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    store.update(run_id, step=steps, max_steps=steps, epoch=1.0, started=now - 60, finished=now,
                 model="all-MiniLM-L6-v2 (packaged)", data="bundled sample", device="cpu", precision="fp32",
                 samples_per_second=20.0,
                 final_metrics={"eval_accuracy": (tp + tn) / sum(map(sum, confusion)), "eval_f1": f1,
                                "confusion": confusion})
    return run_id


def write_floor_run(store: RunStore | None = None, seed: int = 7) -> str:
    """A run that stayed at chance: it answers "paraphrase" for all 80 balanced validation pairs (accuracy 0.50)."""
    return write_run(store, "Quick look", (0.5, 0.5, 0.5), [[0, 40], [0, 40]], seed=seed,
                     f1_curve=(2 / 3, 2 / 3, 2 / 3))


def write_good_run(store: RunStore | None = None, seed: int = 42) -> str:
    """A run that learned: 66 of 80 validation pairs right (accuracy 0.825)."""
    return write_run(store, "Seed recipe", (0.64, 0.76, 0.825), [[33, 7], [7, 33]], seed=seed, loss_from=0.69,
                     loss_to=0.35)


def write_runs_with_predictions(store: RunStore | None = None) -> tuple[str, str]:
    """Two 'seed' runs on the sample's 80 validation pairs, wrong on different (overlapping) pairs."""
    import random

    from trainer_backend.data import load_data
    from trainer_backend.runs import predictions

    validation = load_data("sample").dataset["validation"]
    labels = [int(x) for x in validation["label"]]
    store, ids = store or RunStore(), []
    rng = random.Random(3)
    wrong_sets = [set(rng.sample(range(80), 16))]
    wrong_sets.append(set(list(wrong_sets[0])[:6]) | set(rng.sample(sorted(set(range(80)) - wrong_sets[0]), 5)))
    for seed, wrong in zip((1, 2), wrong_sets):
        matrix = [[0, 0], [0, 0]]
        rows = []
        for i, label in enumerate(labels):
            predicted = 1 - label if i in wrong else label
            matrix[label][predicted] += 1
            rows.append(predictions.Prediction(i, label, predicted, round(rng.uniform(0.52, 0.99), 3),
                                               validation["sentence1"][i], validation["sentence2"][i]))
        acc = (matrix[0][0] + matrix[1][1]) / 80
        run_id = write_run(store, "Seed recipe", (acc - 0.1, acc - 0.03, acc), matrix, seed=seed, loss_to=0.35)
        predictions.save(store, run_id, rows, 80, predictions.fingerprint(validation), "sample")
        store.update(run_id, config={**store.get(run_id).config, "dataset": "sample"})
        ids.append(run_id)
    return ids[0], ids[1]


def open_mistakes(page, app_url: str, run_id: str) -> None:
    """In a browser page: the Train tab with `run_id` viewed and its mistakes section open, its table filled."""
    page.goto(app_url)
    page.get_by_role("tab", name="Train", exact=True).click()
    picker = page.locator("#train-view-run input")
    picker.wait_for(timeout=60_000)
    picker.fill(run_id)
    picker.press("Enter")
    page.locator("#train-mistakes").get_by_text("Mistakes of this run").first.click()
    page.locator("#train-mistakes-summary").get_by_text("Click a row").wait_for(timeout=60_000)
