"""The Train tab's mistakes table and paired comparison: what the handlers show, to whom, and the link to Predict."""
from __future__ import annotations

import pytest

from trainer_backend.runs import predictions
from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.store import RunStore
from ui import train_mistakes as m
from ui.services import Services
from web import access

ALICE = access.Visitor("anon:alice", space=True)
BOB = access.Visitor("anon:bob", space=True)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return RunStore(tmp_path / "r.sqlite")


def _svc(store) -> Services:
    return Services(JobRunner(store, autostart=False))


def _run(store, verdicts, owner=None, dataset="file pairs.csv", fingerprint="f0", label="run",
         confidences=None, status="completed", group=None, seed=1):
    """A finished run whose stored predictions are right or wrong as `verdicts` says (labels alternate 0/1)."""
    run_id = store.create({"seed": seed, "dataset": dataset}, label=label, status=status, owner=owner, group_id=group)
    rows = []
    for i, right in enumerate(verdicts):
        true = i % 2
        conf = confidences[i] if confidences else 0.6 + (i % 7) / 20
        rows.append(predictions.Prediction(i, true, true if right else 1 - true, conf, f"first {i} <b>x</b>",
                                           f"second {i}"))
    predictions.save(store, run_id, rows, len(rows), fingerprint, dataset)
    return store.get(run_id)


def test_the_table_lists_mistakes_most_confident_first(store):
    verdicts = [True, False, False, True, False, True]
    run = _run(store, verdicts, confidences=[0.9, 0.7, 0.95, 0.8, 0.55, 0.6])
    text, table, menu, pairs = m.mistakes_table(_svc(store), run, m.ALL, access.LOCAL)
    assert "**3 of 6**" in text and "Click a row" in text
    assert [row[0] for row in table] == [2, 1, 4]  # confidence 0.95, 0.7, 0.55
    assert table[0][1:4] == ["not paraphrase", "paraphrase", 0.95]
    assert table[0][4] == "first 2 <b>x</b>"  # shown as text by the Dataframe, never rendered
    assert pairs[0] == {"run": run.id, "sentence1": "first 2 <b>x</b>", "sentence2": "second 2"}
    # one cell of the confusion matrix: true paraphrase, predicted not paraphrase (index 1 only)
    choices = dict((value, name) for name, value in menu.constructor_args["choices"])
    assert choices[m.ALL] == "All mistakes (3)" and "(1, wrong)" in choices["1>0"]
    _, table, _, _ = m.mistakes_table(_svc(store), run, "1>0", access.LOCAL)
    assert [row[0] for row in table] == [1]
    _, table, _, _ = m.mistakes_table(_svc(store), run, "0>0", access.LOCAL)  # a right cell lists right answers
    assert [row[0] for row in table] == [0]


def test_a_visitor_never_reads_another_visitors_mistakes(store, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "o/s")
    alices = _run(store, [True, False, False], owner=ALICE.key)
    text, table, _, pairs = m.mistakes_table(_svc(store), alices, m.ALL, BOB)
    assert table == [] and pairs == [] and "another visitor's run" in text and "first" not in text
    assert m.mistakes_table(_svc(store), alices, m.ALL, ALICE)[1]  # the owner does
    api = m.refresh_api(_svc(store), alices.id, [], m.ALL, "b" * 20)  # an anonymous browser id that is not alice's
    assert api["rows"] == [] and "another visitor" in api["summary"]
    bobs = _run(store, [True, True, False], owner=BOB.key)
    text = m.paired_markdown(_svc(store), bobs, [alices], BOB)
    assert "another visitor's run, not compared" in text and "right on" not in text


def test_the_paired_sentence_for_two_comparable_runs(store):
    # A: right on 0..29 and wrong on 30..39; B: right on 10..39 and wrong on 0..9 -> B wins 10, loses 10
    a = _run(store, [i < 30 for i in range(40)], label="A")
    b = _run(store, [i >= 10 for i in range(40)], label="B")
    text = m.paired_markdown(_svc(store), b, [a, b], access.LOCAL)
    assert "is right on 10 pairs" in text and "wrong on 10 that" in text and "p = 1.00" in text
    c = _run(store, [True] * 40, label="C")  # right everywhere: wins all 10 of A's mistakes
    text = m.paired_markdown(_svc(store), c, [a], access.LOCAL)
    assert "is right on 10 pairs" in text and "wrong on 0 that" in text and "p = 0.002" in text
    assert "+25.0 points" in text and "exact McNemar" in text and "paired bootstrap" in text


def test_the_seeds_of_one_start_are_paired_as_the_charts_overlay_them(store):
    a = _run(store, [i < 30 for i in range(40)], label="A", group="g", seed=1)
    b = _run(store, [True] * 40, label="B", group="g", seed=2)
    text = m._section(_svc(store), b.id, [], m.ALL, access.LOCAL)[4]  # nothing picked to overlay: the run's seed group is drawn
    assert "(seed 2) is right on 10 pairs" in text
    assert "(seed 1) gets wrong" in text and a.id[-4:] in text


def test_runs_on_different_examples_are_not_paired(store):
    a = _run(store, [True] * 10, label="A")
    other_file = _run(store, [True] * 10, dataset="file other.csv", label="B")
    capped = _run(store, [True] * 8, label="C")
    changed = _run(store, [True] * 10, fingerprint="f1", label="D")
    text = m.paired_markdown(_svc(store), a, [other_file, capped, changed], access.LOCAL)
    assert "different data sources" in text
    assert "different numbers of validation pairs (10 and 8" in text
    assert "different validation pairs (the data changed" in text
    assert "right on" not in text
    old = store.create({}, label="old", status="completed")  # finished before predictions were kept
    assert "kept no per-example predictions" in m.paired_markdown(_svc(store), a, [store.get(old)], access.LOCAL)
    assert "kept no per-example predictions" in m.mistakes_table(_svc(store), store.get(old), m.ALL, access.LOCAL)[0]


def test_a_clicked_row_goes_to_predict(store):
    import gradio as gr

    run = _run(store, [False, True])
    _, _, _, pairs = m.mistakes_table(_svc(store), run, m.ALL, access.LOCAL)
    event = gr.SelectData(None, {"index": [0, 4], "value": "x", "selected": True})
    sent = m.send_to_predict(pairs, event)
    assert set(sent) == {"tabs", "sentence1", "sentence2", "model", "timer"}  # the names link_pair_to_predict maps
    assert (sent["sentence1"], sent["sentence2"], sent["model"]) == ("first 0 <b>x</b>", "second 0", f"run:{run.id}")
    assert sent["tabs"].constructor_args["selected"] == "predict"
    assert sent["timer"].constructor_args["active"] is False
    with pytest.raises(gr.Error):
        m.send_to_predict([], event)


def test_the_app_wires_the_table_to_predicts_explain(store):
    from tests.helpers import train_and_predict_page

    demo = train_and_predict_page(_svc(store))
    config = demo.get_config_file()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    deps = config["dependencies"]
    select = next(d for d in deps if any(ids.get(t[0]) == "train-mistakes-table" and t[1] == "select"
                                         for t in d["targets"]))
    assert {"predict-s1", "predict-s2", "predict-model"} <= {ids.get(o) for o in select["outputs"]}
    explain = next(d for d in deps if d.get("trigger_after") == select["id"])
    assert "predict-explain" in {ids.get(o) for o in explain["outputs"]} and explain["trigger_only_on_success"]
    api = demo.get_api_info()["named_endpoints"]["/run_mistakes"]
    assert [p["parameter_name"] for p in api["parameters"]][:3] == ["run_id", "compare_ids", "cell"]
