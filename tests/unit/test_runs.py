"""Run store: runs and metric rows survive reopening, updates and concurrent writers."""
import threading

from trainer_backend.runs.store import RunStore


def test_create_update_and_reopen(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({"seed": 1, "dataset": "sample"}, label="first", output_root=tmp_path / "out")
    store.update(run_id, status="running", step=3, max_steps=10, info={"notes": ["x"]})
    store.log_metrics(run_id, 1, 0.1, {"loss": 0.7})
    store.log_metrics(run_id, 2, 0.2, {"loss": 0.6, "eval_accuracy": 0.8})
    reopened = RunStore(tmp_path / "runs.sqlite")
    run = reopened.get(run_id)
    assert run.status == "running" and run.step == 3 and run.info == {"notes": ["x"]}
    assert run.config["output_dir"].endswith(run_id) and run.config["seed"] == 1
    assert [m["value"] for m in reopened.metrics(run_id, ["loss"])] == [0.7, 0.6]
    assert reopened.metric_count(run_id) == 3


def test_queue_order_and_listing(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    ids = [store.create({}, label=str(i)) for i in range(3)]
    store.update(ids[1], status="completed")
    assert [r.id for r in store.queued()] == [ids[0], ids[2]]
    assert {r.id for r in store.list(("completed",))} == {ids[1]}


def test_eta_from_pace(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    run_id = store.create({})
    store.update(run_id, status="running", started=100.0, step=10, max_steps=40)
    assert store.get(run_id).eta_seconds(now=120.0) == 60.0


def test_concurrent_writers(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    run_id = store.create({})

    def write(offset):
        for step in range(50):
            RunStore(tmp_path / "r.sqlite").log_metrics(run_id, offset + step, None, {"loss": 1.0})

    threads = [threading.Thread(target=write, args=(i * 100,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.metric_count(run_id) == 200


def test_delete(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    run_id = store.create({})
    store.log_metrics(run_id, 1, None, {"loss": 1})
    store.delete(run_id)
    assert store.get(run_id) is None and store.metric_count(run_id) == 0


def test_menus_list_the_visitors_runs_first_and_hide_others_cancelled(tmp_path):
    """On a Space a visitor who queues and cancels many runs cannot push anyone's own runs out of their menus."""
    store = RunStore(tmp_path / "r.sqlite")
    mine = store.create({}, owner="anon:me")
    store.update(mine, status="completed")
    my_cancelled = store.create({}, owner="anon:me")
    store.update(my_cancelled, status="cancelled")
    theirs = store.create({}, owner="anon:them")
    store.update(theirs, status="completed")
    flood = [store.create({}, owner="anon:flood") for _ in range(5)]
    for run_id in flood:
        store.update(run_id, status="cancelled")
    listed = [r.id for r in store.list_for_menu("anon:me", limit=3)]
    assert listed == [my_cancelled, mine, theirs]  # own first (newest first), others' cancelled runs left out
    assert len(store.list_for_menu(None, limit=100)) == 8  # locally: everything


def test_a_run_id_taken_in_the_same_second_is_drawn_again(tmp_path, monkeypatch):
    """Ids are the second plus 4 hex digits: a collision (a helper saw one under a burst of test runs) draws again."""
    import uuid as uuid_module

    from trainer_backend.runs.store import RunStore

    store = RunStore(tmp_path / "r.sqlite")
    monkeypatch.setattr("trainer_backend.runs.store.time.strftime", lambda fmt: "20261204-120000-")
    import itertools

    drawn = itertools.chain([7, 7], itertools.count(9))  # the second run first draws the first run's id
    monkeypatch.setattr("trainer_backend.runs.store.uuid.uuid4", lambda: uuid_module.UUID(int=next(drawn) << 112))
    first, second = store.create({}), store.create({})
    assert first != second and store.get(first) is not None and store.get(second) is not None
