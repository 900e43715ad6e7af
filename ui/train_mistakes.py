"""The Train tab's view of a finished run's mistakes, and the paired comparison of overlaid runs.

Read from the predictions a run keeps at the end of training (trainer_backend/runs/predictions.py): no model is
loaded and nothing is predicted here. A row of the mistakes table, clicked, sends its pair and the run's model to
Predict and explains it there (AppContext.link_pair_to_predict).

On a Space a visitor sees only their own runs' examples: another visitor's validation pairs may come from an
upload of theirs. The paired comparison, too, is made only between the visitor's own runs.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from trainer_backend import paired
from trainer_backend.runs import predictions, summary
from trainer_backend.runs.store import Run
from trainer_backend.textsafe import md_escape
from ui import charts, train_view
from ui.common import TAB_IDS, AppContext, by_component, error_toast
from ui.services import Services, bound
from web.access import Visitor

ALL = "all"                 # the cell menu's value for "every mistake"
SHOWN_ROWS = 200            # rows the table shows (the run keeps up to predictions.MAX_ROWS)
SHOWN_CHARS = 120           # characters of each sentence in the table (the full kept text goes to Predict)
COLUMNS = ["#", "True", "Predicted", "Confidence", "Sentence 1", "Sentence 2"]
LABEL_NAMES = {0: "not paraphrase", 1: "paraphrase"}  # MRPC's classes, as Predict names them
ENDED = ("completed", "stopped")
NOT_YOURS = ("This is another visitor's run: its validation pairs may come from their own upload, so only its "
             "owner sees them.")


def label_name(label: int, names: list[str] | None = None) -> str:
    """A class as the table names it: the run's own class names (charts.class_names), MRPC's by default."""
    if names:
        return names[int(label)] if 0 <= int(label) < len(names) else str(label)
    return LABEL_NAMES.get(int(label), str(label))


def run_classes(run: Run) -> list[str]:
    """The run's class names in id order, as the tabs show them (MRPC's for runs that recorded none)."""
    spec = run.record.task_spec
    return charts.class_names(spec.label_names, spec.num_labels)


def _cell_value(true: int, predicted: int) -> str:
    return f"{true}>{predicted}"


def _parse_cell(value: Any) -> tuple[int, int] | None:
    try:
        true, predicted = str(value).split(">")
        return int(true), int(predicted)
    except ValueError:
        return None


def cell_choices(rows: list[predictions.Prediction], names: list[str] | None = None) -> list[tuple[str, str]]:
    """'All mistakes', then every cell of the confusion matrix (true × predicted) with its count."""
    labels = sorted({p.label for p in rows} | {p.predicted for p in rows})
    counts: dict[tuple[int, int], int] = {}
    for p in rows:
        counts[(p.label, p.predicted)] = counts.get((p.label, p.predicted), 0) + 1
    wrong = sum(1 for p in rows if not p.correct)
    out = [(f"All mistakes ({wrong})", ALL)]
    for t in labels:
        for q in labels:
            kind = "right" if t == q else "wrong"
            out.append((f"true {label_name(t, names)} → predicted {label_name(q, names)} ({counts.get((t, q), 0)}, "
                        f"{kind})",
                        _cell_value(t, q)))
    return out


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def _readable(run: Run | None, visitor: Visitor) -> str | None:
    """Why this visitor sees no examples of this run (None: they may)."""
    if run is None:
        return ""
    if not visitor.owns(run.owner):
        return NOT_YOURS
    if run.status not in ENDED:
        return ""
    if predictions.meta(run.info) is None:
        return ("This run kept no per-example predictions (it finished before the app kept them, or they could "
                "not be matched to their examples).")
    return None


def mistakes_table(svc: Services, run: Run | None, cell: Any, visitor: Visitor) -> tuple[str, list[list], Any, list[dict]]:
    """The summary line, the table rows, the cell menu and the pairs behind the rows (for the click to Predict).

    cell: ALL (the run's mistakes) or 'true>predicted'; rows sorted by the model's confidence, most confident
    first: the mistakes it was surest of are the most telling (a label error in the data, or a shortcut)."""
    why = _readable(run, visitor)
    if why is not None:
        return why, [], gr.Dropdown(choices=[("All mistakes", ALL)], value=ALL), []
    rows = predictions.load(svc.store, run.id)
    names = run_classes(run)
    chosen_cell = _parse_cell(cell) if cell not in (None, "", ALL) else None
    chosen = predictions.mistakes(rows, chosen_cell)
    meta = predictions.meta(run.info) or {}
    wrong = sum(1 for p in rows if not p.correct)
    what = "mistakes" if chosen_cell is None else (
        f"pairs that are {label_name(chosen_cell[0], names)} and the run called {label_name(chosen_cell[1], names)}")
    text = (f"**{wrong} of {len(rows)}** validation pairs wrong. Showing {min(len(chosen), SHOWN_ROWS)} of "
            f"{len(chosen)} {what}, the model's most confident first. **Click a row** to explain that pair with "
            "this run's model in Predict.")
    if meta.get("evaluated", len(rows)) > len(rows):
        text += f" (The run evaluated {meta['evaluated']:,} pairs; the first {len(rows):,} are kept.)"
    shown = chosen[:SHOWN_ROWS]
    table = [[p.index, label_name(p.label, names), label_name(p.predicted, names), round(p.confidence, 3),
              _short(p.sentence1),
              _short(p.sentence2)] for p in shown]
    pairs = [{"run": run.id, "sentence1": p.sentence1, "sentence2": p.sentence2} for p in shown]
    choices = cell_choices(rows, names)
    value = cell if cell in {v for _, v in choices} else ALL
    return text, table, gr.Dropdown(choices=choices, value=value), pairs


def why_not_comparable(a: Run, b: Run) -> str | None:
    """Why two runs cannot be paired (None: they evaluated the same examples, at the same indices)."""
    code = predictions.mismatch(a.info, b.info)
    if code is None:
        return None
    ma, mb = predictions.meta(a.info) or {}, predictions.meta(b.info) or {}
    return {
        "none_a": f"{_name(a)} kept no per-example predictions",
        "none_b": f"{_name(b)} kept no per-example predictions",
        "dataset": "they were evaluated on different data sources",
        "count": (f"they evaluated different numbers of validation pairs ({ma.get('evaluated')} and "
                  f"{mb.get('evaluated')}: a different cap on the validation split)"),
        "examples": "the same source gave them different validation pairs (the data changed between the runs)",
    }[code]


def _name(run: Run) -> str:
    seed = run.config.get("seed")
    return f"**{md_escape(summary.run_name(run))}**" + (f" (seed {md_escape(seed)})" if seed is not None else "")


def paired_markdown(svc: Services, view: Run | None, others: list[Run], visitor: Visitor) -> str:
    """One plain sentence per compared run: is the viewed run really better than it? ('' when nothing to say)."""
    others = [r for r in others if view is None or r.id != view.id]
    if view is None or not others:
        return ""
    if not visitor.owns(view.owner):
        return "#### Is this run really better?\nOnly between your own runs: " + NOT_YOURS
    if view.status not in ENDED:
        return ""
    lines = []
    mine = predictions.load(svc.store, view.id)
    for other in others:
        if not visitor.owns(other.owner):
            lines.append(f"- {_name(other)}: another visitor's run, not compared.")
            continue
        if other.status not in ENDED:
            lines.append(f"- {_name(other)}: not finished ({md_escape(other.status)}), not compared.")
            continue
        why = why_not_comparable(view, other)
        theirs = predictions.load(svc.store, other.id) if why is None else []
        if why is None and [p.index for p in theirs] != [p.index for p in mine]:
            why = "they kept different validation pairs"
        if why:
            lines.append(f"- {_name(other)}: not comparable with {_name(view)}: {why}.")
            continue
        result = paired.compare([p.correct for p in theirs], [p.correct for p in mine])
        lines.append("- " + paired.sentence(result, _name(view), _name(other)))
    return ("#### Is this run really better?\nPaired on the validation pairs both runs evaluated: exact McNemar "
            "test on the pairs where they disagree, and a paired bootstrap interval for the accuracy difference.\n\n"
            + "\n".join(lines))


def _section(svc: Services, view_id: str | None, compare_ids: list[str] | None, cell: Any, visitor: Visitor) -> tuple[Any, ...]:
    run = svc.store.get(str(view_id)) if view_id else None
    text, table, menu, pairs = mistakes_table(svc, run, cell, visitor)
    others = train_view.compared_runs(svc, view_id, compare_ids)  # what the charts overlay: picked runs, else its seeds
    return text, table, menu, pairs, paired_markdown(svc, run, others, visitor)


def refresh(svc: Services, view_id: str | None, compare_ids: list[str] | None, cell: Any, browser_id: Any = None,
            request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """Everything this section shows for the viewed run and the runs overlaid on it, by name (OUTPUTS)."""
    text, table, menu, pairs, compared = _section(svc, view_id, compare_ids, cell,
                                                  train_view.viewer(browser_id, request, profile))
    return {"summary": text, "table": table, "cell": menu, "pairs": pairs,
            "paired": gr.Markdown(compared, visible=bool(compared))}


def send_to_predict(pairs: list[dict], evt: gr.SelectData) -> dict[str, Any]:
    """A clicked row: Predict's tab, its two sentence boxes and the run's model (then Explain runs there), by the
    names AppContext.link_pair_to_predict maps to components."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not isinstance(row, int) or not 0 <= row < len(pairs or []):
        raise error_toast("Pick a row of the table first.")
    pair = pairs[row]
    return {"tabs": gr.Tabs(selected=TAB_IDS["predict"]), "sentence1": pair["sentence1"],
            "sentence2": pair["sentence2"], "model": f"run:{pair['run']}", "timer": gr.Timer(active=False)}


def build(ctx: AppContext, svc: Services, view_run: gr.Dropdown, compare: gr.Dropdown, visitor: Any, finished: Any) -> None:
    """The section's components (inside the current column) and its events; `finished` changes when the viewed
    run's status does (the message under Start)."""
    with gr.Accordion("Mistakes of this run, and is it really better?", open=False, elem_id="train-mistakes"):
        compared = gr.Markdown(visible=False, elem_id="train-paired")  # first: the answer to the overlay
        cell = gr.Dropdown([("All mistakes", ALL)], value=ALL, label="Which examples",
                           info="All mistakes, or one cell of the confusion matrix (true × predicted)",
                           elem_id="train-mistakes-cell")
        about = gr.Markdown(elem_id="train-mistakes-summary")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, elem_id="train-mistakes-table",
                             label="Validation pairs, most confident first", max_height=420,
                             column_widths=["7%", "12%", "12%", "9%", "30%", "30%"])
    pairs = gr.State([])
    outputs = {"summary": about, "table": table, "cell": cell, "pairs": pairs, "paired": compared}
    shown = by_component(bound(refresh, svc), outputs)
    for trigger in (view_run.change, compare.change, cell.input, finished.change):
        trigger(shown, [view_run, compare, cell, visitor], list(outputs.values()), api_name=False,
                show_progress="hidden")
    gr.api(bound(refresh_api, svc), api_name="run_mistakes")
    ctx.link_pair_to_predict(table, send_to_predict, [pairs])


def refresh_api(svc: Services, run_id: str, compare_ids: list[str] | None = None, cell: str = ALL, browser_id: str | None = None,
                request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """API view: the mistakes table (or one confusion cell's examples) of one run, and the paired sentences."""
    text, table, _menu, _pairs, compared = _section(svc, run_id, compare_ids, cell,
                                                    train_view.viewer(browser_id, request, profile))
    return {"summary": text, "columns": COLUMNS, "rows": table, "paired": compared}
