"""Claims the Lesson, the quiz and the cards make about the pinned transformers, checked against the library itself."""
from __future__ import annotations

import inspect
import random

import pytest
import torch

from lesson import padding
from lesson.sections import CONTENT_DIR
from quiz.bank import default_bank

transformers = pytest.importorskip("transformers")
from transformers import TrainingArguments


def load_text(name: str) -> str:
    return (CONTENT_DIR / f"{name}.md").read_text(encoding="utf-8")


def _lesson(name: str) -> str:
    return " ".join(load_text(name).split())


def test_seed_defaults_to_42_and_report_to_to_none(tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path))
    assert args.seed == 42
    assert args.report_to in ([], "none", ["none"])  # "none" is resolved to no integration at all
    assert "already the default in transformers 5" in _lesson("args")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the claim is about a machine without a GPU")
def test_bf16_on_a_cpu_needs_use_cpu(tmp_path):
    with pytest.raises(ValueError, match="use_cpu"):
        TrainingArguments(output_dir=str(tmp_path), bf16=True)
    assert TrainingArguments(output_dir=str(tmp_path), bf16=True, use_cpu=True).bf16
    part_c = default_bank().item("part_c_fp16").model_answer
    assert "use_cpu=True" in part_c and "bf16=True` is the" not in part_c
    assert "alone raises a ValueError asking for `use_cpu=True`" in _lesson("args")


@pytest.mark.parametrize("old", ["evaluation_strategy", "group_by_length", "warmup_ratio", "overwrite_output_dir",
                                 "logging_dir", "no_cuda"])
def test_renamed_or_removed_arguments_are_refused(tmp_path, old):
    with pytest.raises(TypeError, match="unexpected keyword"):
        TrainingArguments(output_dir=str(tmp_path), **{old: True})
    assert f"`{old}" in _lesson("args")


def test_warmup_steps_takes_a_share_and_the_sampler_is_a_strategy(tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), warmup_steps=0.1,
                             train_sampling_strategy="group_by_length")
    assert args.warmup_steps == 0.1 and args.get_warmup_steps(1000) == 100


def test_load_best_model_needs_a_matching_save_strategy(tmp_path):
    with pytest.raises(ValueError, match="save and eval strategy to match"):
        TrainingArguments(output_dir=str(tmp_path), load_best_model_at_end=True, eval_strategy="epoch")
    for save in ("epoch", "best"):
        TrainingArguments(output_dir=str(tmp_path), load_best_model_at_end=True, eval_strategy="epoch",
                          save_strategy=save)
    assert 'save_strategy="best"' in _lesson("evaluate")


def test_length_grouped_windows_are_the_librarys():
    from transformers.trainer_pt_utils import get_length_grouped_indices

    rng = random.Random(3)
    for n, batch in ((100, 8), (3668, 8), (1000, 32), (20, 8)):
        lengths = rng.sample(range(10, 10 * n), n)  # distinct, so sorted windows are unambiguous
        order = get_length_grouped_indices(lengths, batch, generator=torch.Generator().manual_seed(0))
        size = padding.window_batches(n, batch) * batch
        windows = [[lengths[i] for i in order[k:k + size]] for k in range(0, n, size)]
        # Each window is sorted longest first; the library swaps the longest pair of all to the front, which may
        # leave one window out of order.
        assert sum(w != sorted(w, reverse=True) for w in windows) <= 1, (n, batch)
    assert "min(N // (4 × batch), 50)" in _lesson("padding")


def _head(checkpoint: str):
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    return model.classifier.weight.detach().clone()


def test_the_head_is_drawn_before_the_trainers_seed(tiny_model_dir, tmp_path):
    from transformers import Trainer, set_seed

    heads = []
    for _ in range(2):  # the whole-loop script as it was: load, then the Trainer applies seed=42
        head = _head(str(tiny_model_dir))
        Trainer(model=torch.nn.Linear(1, 1), args=TrainingArguments(output_dir=str(tmp_path), seed=42, use_cpu=True))
        heads.append(head)
    assert not torch.equal(heads[0], heads[1])
    seeded = []
    for _ in range(2):  # seed first, as the whole loop does now
        set_seed(42)
        seeded.append(_head(str(tiny_model_dir)))
    assert torch.equal(seeded[0], seeded[1])
    from lesson import whole_loop

    src = inspect.getsource(whole_loop.run)
    assert src.index("set_seed(seed)") < src.index("AutoModelForSequenceClassification.from_pretrained")
    assert "before the Trainer applies that seed" in default_bank().item("part_b_seed_spread").model_answer


def test_train_twice_is_not_a_resume(tiny_model_dir, learnable_csv, tmp_path):
    from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer, set_seed

    from trainer_backend.data import load_data

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    raw = load_data(str(learnable_csv), max_train_samples=64, max_eval_samples=16).dataset
    data = raw.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True), batched=True)
    set_seed(0)
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=4, logging_steps=1, report_to="none",
                             use_cpu=True, save_strategy="no", learning_rate=1e-3, lr_scheduler_type="linear")
    trainer = Trainer(model=model, args=args, train_dataset=data["train"],
                      data_collator=DataCollatorWithPadding(tokenizer=tokenizer))
    first = trainer.train()
    first_lrs = [h["learning_rate"] for h in trainer.state.log_history if "learning_rate" in h]
    second = trainer.train()
    second_lrs = [h["learning_rate"] for h in trainer.state.log_history if "learning_rate" in h]
    assert type(first).__name__ == "TrainOutput" and first.global_step == 4
    assert second.global_step == 4            # the step count starts again from zero, not at 5
    assert second_lrs == first_lrs            # and so does the learning-rate schedule
    assert "is not a resume" in _lesson("evaluate")


def test_evaluate_without_compute_metrics_reports_only_the_loss(tiny_model_dir, learnable_csv, tmp_path):
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        EvalPrediction,
        Trainer,
    )

    from trainer_backend.data import load_data

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    raw = load_data(str(learnable_csv), max_train_samples=16, max_eval_samples=16).dataset
    data = raw.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True), batched=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    collator = DataCollatorWithPadding(tokenizer=tokenizer)
    plain = Trainer(model=model, args=args, data_collator=collator)
    metrics = plain.evaluate(data["validation"])
    timing = ("runtime", "per_second", "preparation_time")
    assert {k for k in metrics if not k.endswith(timing)} - {"epoch"} == {"eval_loss"}
    seen = {}

    def compute_metrics(p):
        seen["fields"] = (type(p).__name__, p.predictions.shape, p.label_ids.shape)
        return {"accuracy": float((p.predictions.argmax(-1) == p.label_ids).mean())}

    scored = Trainer(model=model, args=args, data_collator=collator, compute_metrics=compute_metrics)
    out = scored.predict(data["validation"])
    assert seen["fields"][0] == EvalPrediction.__name__ and seen["fields"][1] == (16, 2)
    assert {"test_loss", "test_accuracy"} <= set(out.metrics) and not any(k.startswith("eval_") for k in out.metrics)
    assert "`test_`" in _lesson("predict") and "`label_ids`" in _lesson("metrics")
    assert "reports only the loss" in _lesson("evaluate")


def test_no_log_is_the_notebook_tables_and_the_whole_loop_is_not_instant():
    from pathlib import Path

    # Only the notebook progress display writes "No log" (importing it needs IPython, so read its source).
    library = Path(transformers.__file__).parent
    assert '"No log"' in (library / "utils" / "notebook.py").read_text()
    assert "No log" not in (library / "trainer_callback.py").read_text()  # the terminal's ProgressCallback
    assert "printed as a dict" in _lesson("evaluate")
    part_a = default_bank().item("part_a_end_to_end").model_answer
    assert "in a terminal as one printed dict" in " ".join(part_a.split())
    assert "in seconds" not in load_text("whole")
