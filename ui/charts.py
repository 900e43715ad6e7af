"""Plotly figures for runs: training loss, evaluation metrics, seed spread (mean ± std), confusion matrix."""
from __future__ import annotations

import statistics
from collections import defaultdict

import plotly.graph_objects as go

from trainer_backend.runs.store import Run, RunStore
from trainer_backend.runs.summary import run_name

PALETTE = ["#4f46e5", "#f59e0b", "#10b981", "#ef4444", "#0ea5e9", "#a855f7", "#84cc16", "#ec4899"]
EVAL_NAMES = ("eval_loss", "eval_accuracy", "eval_f1", "eval_matthews_correlation")
MCC = "Matthews correlation"  # CoLA's score, shown where F1 would be (a run has one or the other)
MRPC_SHOWN = ("not paraphrase", "paraphrase")  # MRPC's classes as the tabs name them
TABLE_HEADERS = ["Epoch", "Training Loss", "Validation Loss", "Accuracy", "F1"]


def _layout(fig: go.Figure, title: str, y_title: str, revision: str, score: bool = False,
            waiting: str = "Waiting for the first logged step…") -> go.Figure:
    fig.update_layout(title=title, xaxis_title="step", yaxis_title=y_title, uirevision=revision,
                      template="plotly_white", height=330, margin=dict(l=50, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.25), modebar=dict(orientation="v"))
    if score:
        fig.update_yaxes(range=[0, 1.02])  # accuracy and F1 live in [0, 1]: never an axis up to 4
    steps = {x for trace in fig.data for x in (trace.x or ())}
    if len(steps) == 1:  # one evaluation: plotly would zoom to step ±1 (an axis of 124–126); show it from step 0
        fig.update_xaxes(range=[0, max(steps.pop(), 1) * 1.1], rangemode="tozero")
    if not fig.data:  # an empty chart says what it waits for instead of showing meaningless axes
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.add_annotation(text=waiting, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                           font=dict(size=14, color="#6b7280"))
    return fig


def series(store: RunStore, run_id: str, name: str) -> list[tuple[int, float]]:
    return [(m["step"], m["value"]) for m in store.metrics(run_id, [name])]


def loss_figure(store: RunStore, runs: list[Run], revision: str = "loss") -> go.Figure:
    """Training loss per logging step, one line per run; eval loss as dashed markers."""
    fig = go.Figure()
    for i, run in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        train = series(store, run.id, "loss")
        if train:
            fig.add_trace(go.Scatter(x=[s for s, _ in train], y=[v for _, v in train], mode="lines",
                                     name=f"{run_name(run)} · train", line=dict(color=color)))
        evals = series(store, run.id, "eval_loss")
        if evals:
            fig.add_trace(go.Scatter(x=[s for s, _ in evals], y=[v for _, v in evals], mode="lines+markers",
                                     name=f"{run_name(run)} · validation", line=dict(color=color, dash="dash")))
    return _layout(fig, "Loss", "cross-entropy", revision)


def eval_figure(store: RunStore, runs: list[Run], revision: str = "eval") -> go.Figure:
    """Validation accuracy and F1 at each evaluation."""
    fig = go.Figure()
    lowest = 0.0
    for i, run in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        for name, dash in (("eval_accuracy", "solid"), ("eval_f1", "dot"), ("eval_matthews_correlation", "dashdot")):
            points = series(store, run.id, name)
            if points:
                lowest = min(lowest, *(v for _, v in points))
                fig.add_trace(go.Scatter(x=[s for s, _ in points], y=[v for _, v in points], mode="lines+markers",
                                         name=f"{run_name(run)} · {name[5:]}", line=dict(color=color, dash=dash)))
    title = ("Validation accuracy and Matthews correlation" if any("matthews" in (t.name or "") for t in fig.data)
             else "Validation accuracy and F1")
    fig = _layout(fig, title, "score", revision, score=True, waiting="Waiting for the first evaluation…")
    if lowest < 0:  # a Matthews correlation runs from -1 to 1
        fig.update_yaxes(range=[max(-1.02, lowest - 0.05), 1.02])
    return fig


def spread_figure(store: RunStore, runs: list[Run], name: str = "eval_accuracy",
                  revision: str = "spread") -> go.Figure:
    """Mean ± std across runs (e.g. the same settings with several seeds), per evaluation step."""
    by_step: dict[int, list[float]] = defaultdict(list)
    for run in runs:
        for step, value in series(store, run.id, name):
            by_step[step].append(value)
    steps = sorted(s for s, vals in by_step.items() if len(vals) >= 2)
    fig = go.Figure()
    if steps:
        mean = [statistics.mean(by_step[s]) for s in steps]
        std = [statistics.stdev(by_step[s]) for s in steps]
        fig.add_trace(go.Scatter(x=steps + steps[::-1], y=[m + d for m, d in zip(mean, std)] +
                                 [m - d for m, d in zip(mean, std)][::-1], fill="toself", line=dict(width=0),
                                 fillcolor="rgba(79,70,229,0.18)", name="± 1 std", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=steps, y=mean, mode="lines+markers", name=f"mean {name[5:]} ({len(runs)} runs)",
                                 line=dict(color=PALETTE[0])))
    return _layout(fig, f"Spread across runs: {name[5:]}", "score", revision, score=True,
                   waiting="Waiting for two runs to reach the same evaluation…")


def class_names(names: tuple[str, ...] | list[str] | None, n: int = 2) -> list[str]:
    """How the tabs name a run's classes: MRPC's in words, any other task's as its data names them."""
    names = tuple(names or ())
    if not names or names == ("not_paraphrase", "paraphrase"):
        names = MRPC_SHOWN if n == 2 else ()
    return [names[i] if i < len(names) else str(i) for i in range(n)]


def confusion_figure(matrix: list[list[int]] | None, title: str = "Confusion matrix (validation)",
                     labels: tuple[str, ...] | list[str] | None = None) -> go.Figure:
    """n x n heatmap, rows = true label, columns = predicted label; `labels`: the run's class names."""
    matrix = matrix or [[0, 0], [0, 0]]
    shown = class_names(labels, len(matrix))
    fig = go.Figure(go.Heatmap(z=matrix, x=[f"predicted {l}" for l in shown], y=[f"true {l}" for l in shown],
                               text=[[str(v) for v in row] for row in matrix], texttemplate="%{text}",
                               colorscale="Blues", showscale=False))
    fig.update_layout(title=title, template="plotly_white", height=300 + 40 * max(0, len(matrix) - 2),
                      margin=dict(l=40, r=20, t=50, b=40), yaxis=dict(autorange="reversed"))
    return fig


def table_headers(metric: str = "mrpc") -> list[str]:
    """The results table's columns for a run scored by the `glue` config `metric`: its last is the task's second
    score, F1, or Matthews correlation for CoLA."""
    return TABLE_HEADERS[:-1] + [MCC if metric == "cola" else "F1"]


def results_table(store: RunStore, run_id: str, floor: tuple[float, float] | None = None) -> list[list]:
    """Rows of Epoch | Training Loss | Validation Loss | Accuracy | F1 (or Matthews correlation: see table_headers),
    one per evaluation, then the majority-class floor of the data (when known) so a result can be read against it
    (answering one class always scores a Matthews correlation of 0)."""
    rows = store.metrics(run_id, ["loss", *EVAL_NAMES])
    last_loss = None
    table: dict[int, dict] = {}
    for m in rows:
        if m["name"] == "loss":
            last_loss = m["value"]
            continue
        entry = table.setdefault(m["step"], {"epoch": m["epoch"], "loss": last_loss})
        entry[m["name"]] = m["value"]

    def fmt(v: float | None, digits: int = 4) -> str:
        return "—" if v is None else f"{v:.{digits}f}"

    mcc = any("eval_matthews_correlation" in e for e in table.values())
    second = "eval_matthews_correlation" if mcc else "eval_f1"
    out = [[fmt(e["epoch"], 2), fmt(e["loss"]), fmt(e.get("eval_loss")), fmt(e.get("eval_accuracy")),
            fmt(e.get(second))] for _, e in sorted(table.items())]
    if floor is not None:
        out.append(["majority floor", "—", "—", fmt(floor[0]), fmt(0.0 if mcc else floor[1])])
    return out
