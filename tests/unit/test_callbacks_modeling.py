"""StoreCallback (metrics into the store, graceful stop, time limit, one writer) and modeling (head swap report)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from transformers import TrainerControl, TrainerState

from trainer_backend.modeling import HeadSwapReport, count_parameters, freeze_word_embeddings, load_for_classification
from trainer_backend.runs.store import RunStore
from trainer_backend.training.callbacks import StopFlag, StoreCallback
from wording.run_notes import head_swap_markdown

ARGS = SimpleNamespace(world_size=1)


def _state(step=5, zero=True):
    state = TrainerState()
    state.global_step, state.epoch, state.max_steps, state.is_world_process_zero = step, 0.5, 20, zero
    return state


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "r.sqlite")


def test_logs_become_metric_rows_and_junk_is_dropped(store):
    run_id = store.create({}, status="running")
    cb = StoreCallback(store, run_id)
    cb.on_train_begin(ARGS, _state(0), TrainerControl())
    cb.on_log(ARGS, _state(5), TrainerControl(), logs={"loss": 0.61, "learning_rate": 1e-5, "epoch": 0.5,
                                                        "grad_norm": float("nan"), "flag": True})
    rows = {m["name"]: m["value"] for m in store.metrics(run_id)}
    assert rows == {"loss": 0.61, "learning_rate": 1e-5}
    assert store.get(run_id).max_steps == 20


def test_only_the_main_process_writes(store):
    run_id = store.create({}, status="running")
    cb = StoreCallback(store, run_id)
    cb.on_log(ARGS, _state(5, zero=False), TrainerControl(), logs={"loss": 0.5})
    assert store.metric_count(run_id) == 0


def test_a_stop_request_in_the_store_saves_and_stops(store):
    run_id = store.create({}, status="running")
    cb = StoreCallback(store, run_id, poll_seconds=0)
    control = cb.on_step_end(ARGS, _state(3), TrainerControl())
    assert not control.should_training_stop and store.get(run_id).step == 3
    store.update(run_id, stop_requested=1)
    control = cb.on_step_end(ARGS, _state(4), TrainerControl())
    assert control.should_training_stop and control.should_save and cb.stopped_early and not cb.hit_time_limit


def test_a_signal_stops_without_a_store():
    flag = StopFlag()
    cb = StoreCallback(None, None, flag)
    cb.on_train_begin(ARGS, _state(0), TrainerControl())
    flag._handle(15, None)  # inside the loop: the step ends with a checkpoint
    control = cb.on_step_end(ARGS, _state(1), TrainerControl())
    assert control.should_training_stop and control.should_save


def test_a_signal_outside_the_training_loop_ends_the_run_now():
    """Loading, tokenizing and the final evaluation have no step end to wait for: the signal interrupts them."""
    flag = StopFlag()
    cb = StoreCallback(None, None, flag)
    with pytest.raises(KeyboardInterrupt):
        flag._handle(15, None)  # before the loop
    cb.on_train_begin(ARGS, _state(0), TrainerControl())
    cb.on_train_end(ARGS, _state(5), TrainerControl())
    with pytest.raises(KeyboardInterrupt):
        flag._handle(15, None)  # after it (the final evaluation)


def test_the_time_limit_stops_with_a_checkpoint():
    cb = StoreCallback(None, None, time_limit=1e-9)
    control = cb.on_step_end(ARGS, _state(1), TrainerControl())
    assert cb.hit_time_limit and control.should_training_stop and control.should_save


def test_head_swap_report_and_freezing(tiny_model_dir):
    loaded = load_for_classification(str(tiny_model_dir))
    assert set(loaded.report.new) >= {"classifier.weight", "classifier.bias"}  # the fresh 2-way head
    assert "newly initialised" in head_swap_markdown(loaded.report).lower()
    assert loaded.model.config.id2label == {0: "not_paraphrase", 1: "paraphrase"}
    total, trainable = count_parameters(loaded.model)
    frozen = freeze_word_embeddings(loaded.model)
    assert count_parameters(loaded.model) == (total, trainable - frozen) and frozen > 0
    assert "already has a matching 2-label head" in head_swap_markdown(HeadSwapReport())


def test_a_missing_model_says_why(tmp_path):
    from trainer_backend.modeling import ModelError

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="not a usable model folder"):
        load_for_classification(str(empty))


def test_freezing_lower_layers_leaves_only_the_top_and_the_head_learning(tiny_model_dir):
    """frozen_layers=1 on a 2-layer BERT: embeddings and layer 0 get no gradient; layer 1, pooler and head do."""
    import torch

    from trainer_backend.modeling import encoder_layers, freeze_lower_layers

    loaded = load_for_classification(str(tiny_model_dir))
    model = loaded.model
    total, trainable = count_parameters(model)
    layers, frozen = freeze_lower_layers(model, 1)
    assert layers == 1 and count_parameters(model) == (total, trainable - frozen)
    enc = loaded.tokenizer(["a cat sat"], ["a cat was sitting"], return_tensors="pt")
    model(**enc, labels=torch.tensor([1])).loss.backward()
    grads = {n: p.grad is not None for n, p in model.named_parameters()}
    assert not any(v for n, v in grads.items() if n.startswith(("bert.embeddings", "bert.encoder.layer.0.")))
    assert all(v for n, v in grads.items() if n.startswith(("bert.encoder.layer.1.", "bert.pooler", "classifier")))
    assert freeze_lower_layers(model, 99)[0] == len(encoder_layers(model)) == 2  # capped at the model's depth


def test_dropout_set_for_training_reaches_every_dropout_and_the_saved_config(tiny_model_dir, tmp_path):
    """dropout=0: every nn.Dropout (hidden, attention, head) gets p=0, so two forward passes in training mode agree;
    the config says so when saved, and the checkpoint's own value is returned for the run's note."""
    import torch
    from torch import nn

    from trainer_backend.modeling import set_dropout

    loaded = load_for_classification(str(tiny_model_dir))
    model, enc = loaded.model, loaded.tokenizer(["a cat sat"], ["a cat was sitting"], return_tensors="pt")
    model.train()
    torch.manual_seed(0)
    assert not torch.equal(model(**enc).logits, model(**enc).logits)  # the checkpoint's own dropout is on
    was = set_dropout(model, 0.0)
    assert was == model.config.__class__().hidden_dropout_prob == 0.1
    assert {m.p for m in model.modules() if isinstance(m, nn.Dropout)} == {0.0}
    assert torch.equal(model(**enc).logits, model(**enc).logits)
    model.save_pretrained(tmp_path)
    saved = type(model.config).from_pretrained(tmp_path)
    assert (saved.hidden_dropout_prob, saved.attention_probs_dropout_prob) == (0.0, 0.0)
