"""Train the quiz's judge: a LoRA adapter on the packaged all-MiniLM-L6-v2, fine-tuned with the Trainer.

Usage: python -m scripts.train_judge [--out quiz/judge/adapter] [--epochs 4] [--init ADAPTER_DIR]

The judge reads a question's topic and a learner's answer and says, for every key idea of the bank, whether the
answer states it (multi-label: one output per idea; the grader reads the outputs of the answer's question). It is
the Lesson's recipe on another task: the seed is set before the model is loaded (so the new head is the same in
every run), a tokenizer with truncation, DataCollatorWithPadding, TrainingArguments, Trainer, train(), and an
evaluation with compute_metrics on pairs it did not train on (the tuning sets of quiz/judge_data.py: the fourth
seen answer set and the first judge's unseen set, scored by the share of key-idea judgements that agree with the
teacher; the newest unseen set, which measures the judge, is never read here). Only the LoRA matrices and the new
head are saved: about 1.5 MB. (quiz/judge/adapter/train_log_first_run.json is the first run's log.)

The shipped adapter took two runs (the second continues the first; on two CPU cores shared with other jobs):
    python -m scripts.train_judge --out /tmp/adapter_v2                   # 4 epochs from a fresh adapter, 1341 s
    python -m scripts.train_judge --init /tmp/adapter_v2 --epochs 3       # 3 more epochs, 1644 s
Then scripts/tune_judge.py chooses the grader's thresholds on the tuning sets. Same seed, same data and the same
library pins reproduce it.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEED = 7
IGNORE = -100.0  # label of an idea that belongs to another question: no loss, no score


def main(argv: list[str] | None = None) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import (
        AutoModelForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from quiz import judge
    from quiz.agreement import load_answers
    from quiz.bank import default_bank
    from quiz.judge_data import TUNE_SETS, answer_examples, build, idea_keys
    from trainer_backend.modeling import load_tokenizer
    from trainer_backend.settings import packaged_model_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(judge.ADAPTER_DIR))
    parser.add_argument("--epochs", type=float, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--init", default=None,
                        help="an adapter folder to start from (its LoRA matrices and head) instead of a fresh one")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    bank = default_bank()
    keys = idea_keys(bank)
    topics = {q.id: q.topic for q in bank.questions + bank.exercises}
    train_examples = build(bank, seed=SEED)
    tune_examples = answer_examples([a for path in TUNE_SETS for a in load_answers(path)])
    base = str(packaged_model_dir())
    tokenizer = load_tokenizer(base)

    def dataset(examples):
        rows = {"topic": [topics[e.item] for e in examples], "text": [e.text for e in examples],
                "labels": [[float(k in e.states) if k.startswith(e.item + "/") else IGNORE for k in keys]
                           for e in examples]}
        return Dataset.from_dict(rows).map(
            lambda b: tokenizer(b["topic"], b["text"], truncation="only_second", max_length=judge.MAX_LENGTH),
            batched=True, remove_columns=["topic", "text"])

    def idea_agreement(eval_pred) -> dict[str, float]:
        """Share of key-idea judgements (the ideas of each answer's own question) that agree with the teacher."""
        own = eval_pred.label_ids != IGNORE
        stated = eval_pred.predictions > 0  # logit > 0: probability above one half
        agree = (stated == (eval_pred.label_ids > 0.5)) & own
        return {"idea_agreement": float(agree.sum() / own.sum())}

    def own_ideas_loss(outputs, labels, num_items_in_batch=None):
        """Binary cross-entropy over the ideas of each answer's own question only: the other questions' columns
        would teach the judge little but "say no", and drown the answers' own ideas (38 of 42 columns)."""
        own = labels != IGNORE
        return torch.nn.functional.binary_cross_entropy_with_logits(outputs.logits[own], labels[own])

    # Seed BEFORE loading: the new head is drawn inside from_pretrained, before the Trainer's own set_seed.
    set_seed(SEED)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(keys), problem_type="multi_label_classification",
        id2label=dict(enumerate(keys)), label2id={k: i for i, k in enumerate(keys)})
    lora = LoraConfig(task_type=TaskType.SEQ_CLS, r=judge.RANK, lora_alpha=2 * judge.RANK, lora_dropout=0.1,
                      target_modules=["query", "key", "value", "dense"], layers_to_transform=judge.LAYERS,
                      modules_to_save=["classifier", "pooler"])
    if args.init:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, args.init, is_trainable=True)
    else:
        model = get_peft_model(model, lora)
    model.print_trainable_parameters()
    training_args = TrainingArguments(
        output_dir=str(ROOT / ".judge_run"), use_cpu=True, seed=SEED, num_train_epochs=args.epochs,
        per_device_train_batch_size=16, per_device_eval_batch_size=64, learning_rate=1e-3, warmup_steps=20,
        weight_decay=0.01, train_sampling_strategy="group_by_length", eval_strategy="epoch", save_strategy="no",
        logging_steps=20, report_to="none", dataloader_num_workers=0)
    trainer = Trainer(model=model, args=training_args, train_dataset=dataset(train_examples),
                      eval_dataset=dataset(tune_examples), data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
                      processing_class=tokenizer, compute_metrics=idea_agreement,
                      compute_loss_func=own_ideas_loss)
    train_output = trainer.train()
    eval_metrics = trainer.evaluate()
    model.save_pretrained(args.out)
    Path(args.out, "ideas.json").write_text(json.dumps(keys, indent=0) + "\n", encoding="utf-8")
    log = {"seed": SEED, "init": args.init and Path(args.init).name, "epochs": args.epochs, "train_examples": len(train_examples), "tune_examples": len(tune_examples),
           "train": train_output.metrics, "global_step": train_output.global_step, "eval": eval_metrics}
    Path(args.out, "train_log.json").write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(log))
    return log


if __name__ == "__main__":
    main()
