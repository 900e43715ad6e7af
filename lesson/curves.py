"""Learning curves: the seed article's 3-epoch run as data, or any run in the store, plus a plain reading."""
from __future__ import annotations

from dataclasses import dataclass, field

from lesson import floor as floors
from lesson import live
from trainer_backend.runs.store import RunStore
from trainer_backend.runs.summary import run_name

ARTICLE = "article"
ARTICLE_TITLE = "bert-base on MRPC, 3 epochs, Trainer defaults (the seed article's run)"
STEPS_PER_EPOCH = 459  # 3,668 pairs / batch 8, rounded up; 1,377 steps in 3 epochs
# (step, training loss) as logged every 500 steps, and (epoch, validation loss, accuracy, F1) after each epoch.
ARTICLE_TRAIN = [(500, 0.5335), (1000, 0.3401)]
ARTICLE_EVAL = [(1.0, 0.365379, 0.835784, 0.884283), (2.0, 0.435071, 0.850490, 0.898164),
                (3.0, 0.565466, 0.855392, 0.900840)]


@dataclass
class Curves:
    """Training loss points and evaluation points, both against epochs."""

    title: str
    train: list[tuple[float, float]] = field(default_factory=list)                   # (epoch, loss)
    evals: list[tuple[float, float, float, float]] = field(default_factory=list)     # (epoch, loss, acc, f1)
    floor: floors.DataFloor | None = None   # majority-class floor of the data these scores were measured on

    def rows(self) -> list[list]:
        """Epoch | training loss (latest logged) | validation loss | accuracy | F1."""
        out = []
        for epoch, loss, acc, f1 in self.evals:
            logged = [v for e, v in self.train if e <= epoch + 1e-9]
            out.append([round(epoch, 2), round(logged[-1], 4) if logged else "no log yet", round(loss, 4),
                        round(acc, 4), round(f1, 4)])
        return out


def article() -> Curves:
    """The figures reported by the seed article, as data."""
    return Curves(ARTICLE_TITLE, [(s / STEPS_PER_EPOCH, v) for s, v in ARTICLE_TRAIN], list(ARTICLE_EVAL),
                  floors.mrpc())


def from_store(run_id: str, store=None) -> Curves:
    """A run's curves from the run store (training loss and every evaluation, by epoch)."""
    store = store or RunStore()
    run = store.get(run_id)
    if run is None:
        raise KeyError(f"No run {run_id!r} in the run store.")
    by_step: dict[int, dict] = {}
    train = []
    for m in store.metrics(run_id, ["loss", "eval_loss", "eval_accuracy", "eval_f1"]):
        if m["name"] == "loss":
            train.append((m["epoch"] or 0.0, m["value"]))
        else:
            by_step.setdefault(m["step"], {"epoch": m["epoch"] or 0.0})[m["name"]] = m["value"]
    evals = [(e["epoch"], e["eval_loss"], e.get("eval_accuracy", float("nan")), e.get("eval_f1", float("nan")))
             for _, e in sorted(by_step.items()) if "eval_loss" in e]

    return Curves(f"your run {run_name(run)}", train, evals, live.run_floor(run))


def run_choices(limit: int = 20, store=None) -> list[tuple[str, str]]:
    """(name, run id) for runs in the store that evaluated at least twice; names tell runs apart (label, start
    time, short id, seed, status)."""
    try:
        store = store or RunStore()
        runs = store.list(limit=limit)
        return [(f"{run_name(r)} · seed {r.config.get('seed', '?')} · {r.status}", r.id) for r in runs
                if len(store.metrics(r.id, ["eval_loss"])) >= 2]
    except Exception:  # noqa: BLE001 - no store yet: only the article's curves
        return []


def load(source: str = ARTICLE) -> Curves:
    """'article' or a run id."""
    return article() if not source or source == ARTICLE else from_store(source)


def reading(curves: Curves) -> list[str]:
    """What the curves say, sentence by sentence."""
    evals = curves.evals
    if len(evals) < 2:
        return ["There are fewer than two evaluations, so there is no trend to read yet. Set an evaluation "
                "strategy (`eval_strategy`) and train for longer."]
    out = []
    if len(curves.train) >= 2:
        first, last = curves.train[0][1], curves.train[-1][1]
        if abs(last - first) < 0.02 * first:
            out.append(f"Training loss barely moved ({first:.3f} → {last:.3f}): the model is not fitting the "
                       "training pairs yet.")
        else:
            out.append(f"Training loss went from {first:.3f} to {last:.3f}: the model fits the training pairs "
                       f"{'better and better' if last < first else 'no better'}.")
    best = min(range(len(evals)), key=lambda i: evals[i][1])
    e_best, l_best, acc_best, _ = evals[best]
    e_last, l_last, acc_last, f1_last = evals[-1]
    stuck = bool(curves.floor and curves.floor.at_floor(acc_last))  # at chance: no overfitting story to tell
    if not stuck and best < len(evals) - 1 and l_last > l_best * 1.02:
        out.append(f"Validation loss was lowest at epoch {e_best:g} ({l_best:.3f}) and then climbed to "
                   f"{l_last:.3f} (+{l_last / l_best - 1:.0%}) by epoch {e_last:g}.")
        if acc_last >= acc_best:
            out.append(f"Yet accuracy still crept from {acc_best:.3f} to {acc_last:.3f}. Both can be true: the "
                       "loss punishes confident mistakes heavily, so a few pairs the model now gets wrong with "
                       "great certainty raise it, while a few more pairs land on the right side of 0.5.")
        else:
            out.append(f"Accuracy fell too ({acc_best:.3f} → {acc_last:.3f}): the model is memorising the "
                       "training pairs rather than learning the task.")
        out.append("This is the first sign of overfitting. Keep the checkpoint with the best validation score "
                   "(`load_best_model_at_end=True` with `metric_for_best_model=\"accuracy\"` and `save_strategy` "
                   "equal to `eval_strategy`; without a metric it keeps the lowest validation loss), or train "
                   "for fewer epochs.")
    elif not stuck:
        out.append(f"Validation loss is still at or near its lowest ({l_last:.3f} at epoch {e_last:g}): no sign "
                   f"of overfitting yet; accuracy {acc_last:.3f}, F1 {f1_last:.3f}.")
    out.append(floors.reading(acc_last, f1_last, curves.floor))
    return out


def figure(curves: Curves):
    """Two panels: training vs. validation loss; validation accuracy and F1."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Validation accuracy and F1"))
    if curves.train:
        fig.add_scatter(x=[e for e, _ in curves.train], y=[v for _, v in curves.train], mode="lines+markers",
                        name="training loss", line=dict(color="#4f46e5"), row=1, col=1)
    epochs = [e[0] for e in curves.evals]
    fig.add_scatter(x=epochs, y=[e[1] for e in curves.evals], mode="lines+markers", name="validation loss",
                    line=dict(color="#ef4444", dash="dash"), row=1, col=1)
    fig.add_scatter(x=epochs, y=[e[2] for e in curves.evals], mode="lines+markers", name="accuracy",
                    line=dict(color="#10b981"), row=1, col=2)
    fig.add_scatter(x=epochs, y=[e[3] for e in curves.evals], mode="lines+markers", name="F1",
                    line=dict(color="#f59e0b", dash="dot"), row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    if curves.floor:  # the floor of the data in use, so a flat line at chance reads as one
        fig.add_hline(y=curves.floor.accuracy, line=dict(color="#9ca3af", dash="dot", width=1), row=1, col=2,
                      annotation_text=f"floor {curves.floor.accuracy:.2f}", annotation_position="bottom right")
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    # The title sits above the plot area and the controls run down the right edge, so they never overlap.
    fig.update_layout(title=dict(text=curves.title, font=dict(size=14)), template="plotly_white", height=380,
                      margin=dict(l=50, r=40, t=80, b=40), legend=dict(orientation="h", y=-0.25),
                      modebar=dict(orientation="v"))
    return fig
