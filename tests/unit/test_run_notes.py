"""A run's notes are typed facts (trainer_backend/notes.py) worded in one place (wording/run_notes.py): each kind
says its numbers; records written before the notes were typed still load and show their stored sentences."""
from __future__ import annotations

import json

import pytest

from trainer_backend import notes as n
from trainer_backend import recipe, settings
from trainer_backend.config import TrainConfig
from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.record import RECORD_FILE, RunRecord
from trainer_backend.runs.store import RunStore
from ui import train_view as v
from ui.services import Services
from web import access
from wording.run_notes import note_text

CPU = settings.Hardware("cpu", "CPU, 2 cores", bf16=False, fp16=False, cores=2)

WORDED = [
    (n.ModelChosen(name="MiniLM", reason="packaged"), "model: MiniLM — packaged"),
    (n.DataChosen(summary="sample (train 400)", reason="bundled"), "data: sample (train 400) — bundled"),
    (n.BatchSize(batch=32, gpu=True), "batch size 32: keeps the GPU busy"),
    (n.BatchSize(batch=8, gpu=False), "batch size 8: on CPU, length-grouped batches of 8 cost little speed"),
    (n.LearningRates(encoder=5e-5, head=1e-3, factor=20),
     "learning rate 5e-05 for the pretrained encoder and 0.001 for the new, randomly initialised head (20x)"),
    (n.LearningRates(encoder=3e-5), "learning rate 3e-05 for the whole model, new head included (head factor 1"),
    (n.PrecisionChosen(precision="bf16", gpu=True), "bf16 mixed precision: this GPU computes bf16 natively"),
    (n.PrecisionChosen(precision="bf16", gpu=False), "bf16 autocast: this CPU has AVX512-BF16/AMX"),
    (n.PrecisionChosen(precision="fp32", gpu=False), "fp32: this CPU has no fast bf16"),
    (n.Fp16OnCpu(), "fp16 asked on a CPU: the Trainer does not support it there, so bf16 autocast is used"),
    (n.MetricSource(hub=True), "metrics: evaluate 'glue/mrpc' (Hub)"),
    (n.MetricSource(hub=False), "metrics: local evaluate module (offline copy)"),
    (n.MetricSource(hub=True, config="cola"), "metrics: evaluate 'glue/cola' (Hub)"),
    (n.TaskChosen(columns=["sentence"], labels=["unacceptable", "acceptable"]),
     "task: single sentences (sentence), 2 classes: unacceptable, acceptable"),
    (n.TaskChosen(columns=["premise", "hypothesis"], labels=["entailment", "neutral", "contradiction"]),
     "task: sentence pairs (premise, hypothesis), 3 classes: entailment, neutral, contradiction"),
    (n.FrozenEmbeddings(parameters=11_700_000, by_default=True), "word embeddings frozen (11.7M parameters not "
                                                                 "updated): on a CPU"),
    (n.FrozenLayers(layers=4, of=6, parameters=15_000_000), "lower 4 of 6 encoder layers frozen, with the embeddings "
                                                            "(15.0M parameters)"),
    (n.DropoutSet(p=0.0, was=0.1), "dropout off while training (the checkpoint's own: 0.1): a short fine-tune"),
    (n.DropoutSet(p=0.2, was=None), "dropout 0.2 while training"),
    (n.EasyPairs(added=2000, real=2000), "2,000 made-up easy pairs mixed into the 2,000 real training pairs — half a "
                                         "sentence beside itself (paraphrase)"),
    (n.EasyPairs(added=0, real=67, skipped="not a paraphrase task"), "no easy pairs added: not a paraphrase task"),
    (n.CheckpointsPerEpoch(), "checkpoint once per epoch, evaluations as set: on a GPU a save"),
    (n.TimeLimit(minutes=30), "stopped at this app's time limit of 30 min per run (checkpoint saved"),
    (n.PushSkipped(reason="no token"), "push skipped: no token"),
]


@pytest.mark.parametrize("note,start", WORDED, ids=[f"{x.kind}-{i}" for i, (x, _) in enumerate(WORDED)])
def test_each_kind_says_its_numbers(note, start):
    assert note_text(note).startswith(start)


def test_every_kind_has_words_and_asked_for_embeddings_say_no_why():
    assert {x.kind for x, _ in WORDED} == n.KINDS
    assert note_text(n.FrozenEmbeddings(parameters=2_000_000, by_default=False)) == ("word embeddings frozen "
                                                                                      "(2.0M parameters not updated)")


def test_the_recipe_records_facts_not_sentences():
    resolved = recipe.resolve(TrainConfig(), "m", CPU)
    assert resolved.notes == [n.BatchSize(batch=8, gpu=False), n.LearningRates(encoder=5e-5, head=1e-3, factor=20),
                              n.PrecisionChosen(precision="fp32", gpu=False)]


@pytest.fixture
def svc(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return Services(JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False))


def test_typed_notes_round_trip_through_the_record_and_show_in_words(svc, tmp_path):
    notes = [n.DataChosen(summary="file /srv/data/pairs.csv (train 10)", reason="your file"),
             n.LearningRates(encoder=5e-5, head=1e-3, factor=20)]
    record = RunRecord(notes=notes)
    record.write(tmp_path)
    assert RunRecord.read(tmp_path).notes == notes  # studio_run.json keeps the kinds and numbers
    run_id = svc.store.create({"seed": 1}, label="new", status="completed", owner="anon:alice")
    svc.store.merge_info(run_id, **record.store_fields())
    run = svc.store.get(run_id)
    shown = v.run_details(run)
    assert "data: file /srv/data/pairs.csv (train 10) — your file" in shown.replace("\\", "")
    assert "0.001 for the new, randomly initialised head (20x)" in shown.replace("\\", "")
    bob = v.run_details(run, access.Visitor("anon:bob", space=True))
    assert "/srv/data" not in bob and "(a server folder)" in bob.replace("\\", "")  # another visitor: no path


def test_an_old_record_of_sentences_still_loads_and_shows_them(svc, tmp_path):
    old = ["model: all-MiniLM-L6-v2 — the packaged model", "learning rate 5e-05 for the whole model, new head "
           "included (head factor 1, as the plain Trainer)", "fp32: this CPU has no fast bf16 (AVX512-BF16/AMX), so "
           "mixed precision would be slower"]
    (tmp_path / RECORD_FILE).write_text(json.dumps({"version": 1, "base_model": "m", "notes": old}), encoding="utf-8")
    assert RunRecord.read(tmp_path).notes == old
    run_id = svc.store.create({"seed": 1}, label="old", status="completed")
    svc.store.update(run_id, info={"notes": old, "head_swap": {"new": ["classifier.weight"]}})
    shown = v.run_details(svc.store.get(run_id)).replace("\\", "")
    assert all(sentence in shown for sentence in old)


def test_a_kind_from_a_newer_app_is_left_out_and_the_rest_kept():
    record = RunRecord.coerce({"base_model": "m", "notes": ["an old sentence", {"kind": "from_the_future", "x": 1},
                                                            {"kind": "metrics", "hub": False}]})
    assert record.base_model == "m" and record.notes == ["an old sentence", n.MetricSource(hub=False)]
