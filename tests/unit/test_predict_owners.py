"""On a Space, Predict and the Lesson's model demos use only the asking visitor's own runs; off a Space, every run.

A run's model is its owner's work: another visitor may neither see it in a menu, nor name its run id, nor get it
as the default. Refusals read the same whether the run exists or not (run ids are a timestamp and 4 hex digits)."""
from __future__ import annotations

import shutil

import pytest

from trainer_backend import serving
from trainer_backend.runs.store import RunStore
from web import access

ALICE = access.Visitor("anon:" + "a" * 24, space=True)
BOB = access.Visitor("anon:" + "b" * 24, space=True)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("PREDICT_MODEL_ID", raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))  # RunStore() with no path: this test's own store
    return RunStore()


@pytest.fixture(scope="module")
def tiny_classifier(tiny_model_dir, tmp_path_factory):
    """The tiny 2-layer BERT with a (random) paraphrase head saved, as a finished run's folder holds it."""
    from transformers import AutoTokenizer, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-classifier")
    BertForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=2).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_model_dir)).save_pretrained(folder)
    return folder


@pytest.fixture
def space(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "tester/studio")


def _run(store, owner, created, weights=None):
    run_id = store.create({"seed": 1}, label="Quick look", status="completed", owner=owner.key)
    folder = store.get(run_id).output_dir
    if weights is not None:
        shutil.copytree(weights, folder)
    else:
        import pathlib

        pathlib.Path(folder).mkdir(parents=True)
        (pathlib.Path(folder) / "model.safetensors").write_bytes(b"x")
    store.update(run_id, created=created, final_metrics={"eval_accuracy": 0.8, "confusion": [[30, 10], [6, 34]]})
    return run_id


def test_a_visitor_sees_only_their_own_runs(store, space):
    mine, theirs = _run(store, ALICE, 1), _run(store, BOB, 2)
    alice = [value for _, value in serving.model_choices(store, viewer=ALICE)]
    bob = [value for _, value in serving.model_choices(store, viewer=BOB)]
    assert alice == [f"run:{mine}"] and bob == [f"run:{theirs}"]


def test_the_default_is_the_visitors_own_latest_run_not_a_newer_one_of_someone_else(store, space):
    mine = _run(store, ALICE, 1)
    _run(store, BOB, 2)
    assert serving.default_model(store, viewer=ALICE).spec.endswith(mine)


def test_another_visitors_run_id_reads_like_a_missing_one(store, space):
    theirs = _run(store, BOB, 1)
    with pytest.raises(serving.InferenceError) as named:
        serving.resolve_choice(f"run:{theirs}", store, viewer=ALICE)
    with pytest.raises(serving.InferenceError) as missing:
        serving.resolve_choice("run:20261128-000000-beef", store, viewer=ALICE)
    assert str(named.value).replace(theirs, "X") == str(missing.value).replace("20261128-000000-beef", "X")
    assert serving.resolve_choice(f"run:{theirs}", store, viewer=BOB).spec.endswith(theirs)


def test_a_reader_nobody_named_owns_nothing_on_a_space(store, space):
    _run(store, ALICE, 1)
    assert serving.model_choices(store) == [] and serving.default_model(store) is None
    with pytest.raises(serving.InferenceError, match="no fine-tuned model"):
        serving.resolve_choice("", store)


def test_off_a_space_the_local_user_owns_every_run(store, monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    runs = {_run(store, ALICE, 1), _run(store, BOB, 2)}
    assert {v[4:] for _, v in serving.model_choices(store)} == runs
    assert {v[4:] for _, v in serving.model_choices(store, viewer=access.LOCAL)} == runs


def test_the_lesson_model_demos_follow_the_same_rule(store, space, tiny_model_dir):
    from lesson import predictions

    mine, theirs = _run(store, ALICE, 1, tiny_model_dir), _run(store, BOB, 2, tiny_model_dir)
    assert [v for _, v in predictions.trained_models(viewer=ALICE)] == [f"run:{mine}"]
    assert predictions.checked_model_spec(f"run:{mine}", ALICE) == store.get(mine).output_dir
    with pytest.raises(ValueError, match="not offered"):
        predictions.checked_model_spec(f"run:{theirs}", ALICE)
    assert predictions.trained_models() == []  # nobody named: nothing


def test_batched_predict_answers_each_visitor_with_their_own_run(store, space, tiny_classifier):
    """One batched call holds requests of two visitors naming Alice's run: only Alice's is answered."""
    from ui import predict_tab
    from ui.common import viewer_of

    mine = _run(store, ALICE, 1, tiny_classifier)
    bob_id = "b" * 20
    bob_key = viewer_of(bob_id).key
    assert bob_key.startswith("anon:") and bob_key != ALICE.key
    alice_ticket = access.issue_ticket(ALICE)
    labels, details = predict_tab.predict(["A cat sat.", "A cat sat."], ["A cat was sitting.", "A cat was sitting."],
                                          [f"run:{mine}", f"run:{mine}"], [None, bob_id], [alice_ticket, ""])
    assert labels[0] is not None and "confidence" in details[0], details[0]
    assert labels[1] is None and "no saved model you can use" in details[1]
    # a batch led by Bob's request still answers Alice's second one as Alice (each request carries its own ticket)
    labels, details = predict_tab.predict(["A cat sat.", "A cat sat."], ["A cat was sitting.", "A cat was sitting."],
                                          [f"run:{mine}", f"run:{mine}"], [bob_id, None], ["", alice_ticket])
    assert labels[0] is None and labels[1] is not None, details


def test_a_ticket_names_its_visitor_only_while_valid_and_signed_here(store, space):
    from ui.common import remember_viewer, viewer_of

    ticket = access.issue_ticket(ALICE, now=1_000_000)
    assert access.visitor_from_ticket(ticket, now=1_000_010).key == ALICE.key
    assert access.visitor_from_ticket(ticket, now=1_000_000 + access.TICKET_SECONDS + 1) is None  # expired
    key, issued, mac = ticket.split("|")
    assert access.visitor_from_ticket(f"{BOB.key}|{issued}|{mac}", now=1_000_010) is None  # another key, same MAC
    assert access.visitor_from_ticket(f"{key}|{issued}|{'0' * 32}", now=1_000_010) is None
    assert access.visitor_from_ticket("local|1|x") is None and access.visitor_from_ticket(None) is None
    # the page's ticket wins over a browser id; a request that names no one gets no ticket and reads as nobody
    assert viewer_of("b" * 20, access.issue_ticket(ALICE)).key == ALICE.key
    assert remember_viewer(None, None) == "" and viewer_of(None, "") is access.NOBODY
    # the server secret is its own, not the BrowserState key Gradio sends to every page
    from trainer_backend import settings
    assert settings.server_secret() != settings.browser_secret()


def test_predict_menus_on_page_load_list_the_viewers_runs(store, space):
    from ui import predict_tab

    mine, theirs = _run(store, ALICE, 1), _run(store, BOB, 2)
    shown = predict_tab.on_page_load(None, access.issue_ticket(ALICE))
    model, other, facts = shown["model"], shown["other"], shown["default"]
    values = [c[1] for c in model.choices]
    assert f"run:{mine}" in values and f"run:{theirs}" not in values
    assert f"run:{theirs}" not in [c[1] for c in other.choices]
    assert mine in facts or "Quick look" in facts


def test_a_visitors_runs_are_selected_before_the_newest_n_are_cut(store, space, tiny_model_dir):
    """With many newer runs of other visitors, a visitor's own older run is still found (the store filters by owner
    before its limit); the Lesson's menu is limited to its newest runs the same way."""
    from lesson import predictions

    mine = _run(store, ALICE, 1, tiny_model_dir)
    for created in (2, 3, 4):
        _run(store, BOB, created, tiny_model_dir)
    assert [run.id for run in store.list(limit=1, owner=ALICE.key)] == [mine]
    assert [v for _, v in predictions.trained_models(limit=1, viewer=ALICE)] == [f"run:{mine}"]
    assert len(store.list(limit=10, owner=None)) == 4 and ALICE.runs_owner == ALICE.key
    assert access.LOCAL.runs_owner is None  # off a Space: every run


def test_a_late_page_load_cannot_overwrite_the_facts_that_load_shows():
    """Load and the page load write different components: a page load answered after a quick Load (a busy server)
    once replaced the loaded model's facts with the default's line (seen in the browser suite under load)."""
    import gradio as gr

    from ui import predict_tab
    from ui.common import AppContext

    with gr.Blocks() as demo:
        predict_tab.build(AppContext(root=demo))
    written = {bf.name: {id(o) for o in bf.outputs} for bf in demo.fns.values()}
    assert written["load_model"] and written["on_page_load"]
    assert written["load_model"].isdisjoint(written["on_page_load"])


def test_a_late_page_load_cannot_undo_a_model_chosen_in_the_first_seconds(store):
    """The page load's menus carry choices, never a value, and every step that lays out the boxes (the page load's,
    the model's change, the one after a Load) shares one FIFO lane: a page load answered late once put the default's
    two boxes back after a single-sentence model was chosen (seen once in the browser suite under load)."""
    import gradio as gr

    from ui import predict_tab
    from ui.common import AppContext

    shown = predict_tab.on_page_load(None, "")
    # an update sends only the arguments given (gradio.blocks.postprocess_update_dict): choices, no value
    assert shown["model"].choices and set(shown["model"].constructor_args) == {"choices"}
    assert set(shown["other"].constructor_args) == {"choices"}
    ctx = AppContext(root=None)
    with gr.Blocks() as demo:
        ctx.root = demo
        predict_tab.build(ctx)
    second_box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "predict-s2-box")
    layout_writers = [bf for bf in demo.fns.values() if second_box in bf.outputs]
    # the page load's, each model change's and the one after each Load: all in one lane, one at a time
    assert sorted(bf.name for bf in layout_writers) == ["follow_loaded", "follow_model", "follow_model"]
    assert {(bf.concurrency_id, bf.concurrency_limit) for bf in layout_writers} == {("predict-layout", 1)}
