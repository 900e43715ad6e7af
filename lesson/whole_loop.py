"""The whole fine-tuning loop in one short function; runnable: python -m lesson.whole_loop --help."""
from __future__ import annotations

import argparse
import json
import sys


# Its imports sit inside on purpose: the Lesson shows this function whole, imports included (and they are heavy:
# the Trainer, torch).
def run(model_name: str = "auto", data: str = "auto", output_dir: str = "outputs/whole-loop", epochs: float = 3.0,
        max_steps: int = -1, batch_size: int = 8, max_train: int | None = None, max_eval: int | None = None,
        learning_rate: float = 5e-5, seed: int = 42) -> dict:
    """Fine-tune `model_name` on `data` with Trainer defaults; returns validation accuracy and F1."""
    import numpy as np
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from trainer_backend.data import load_data  # glue/mrpc online; a local MRPC folder or the sample offline
    from trainer_backend.metrics import load_metric  # evaluate's glue/mrpc metric, or its offline twin
    from trainer_backend.modeling import resolve_model  # "auto" -> a concrete checkpoint for this machine

    raw = load_data(data, max_train_samples=max_train, max_eval_samples=max_eval).dataset     # 1. sentence pairs + labels
    checkpoint = resolve_model(model_name)[0]
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)                                      # 2. one input per pair
    tokenized = raw.map(lambda batch: tokenizer(batch["sentence1"], batch["sentence2"], truncation=True), batched=True)
    collator = DataCollatorWithPadding(tokenizer=tokenizer)                                     # 3. pad each batch only
    set_seed(seed)  # before loading: the new head is drawn in from_pretrained, before the Trainer applies its seed
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)      # 4. body + fresh head
    metric = load_metric()

    def compute_metrics(eval_preds):                                                            # 9. logits -> scores
        scores, gold = eval_preds
        return metric.compute(references=gold, predictions=np.argmax(scores, axis=-1))

    args = TrainingArguments(output_dir, eval_strategy="epoch", num_train_epochs=epochs, max_steps=max_steps,
                             per_device_train_batch_size=batch_size, learning_rate=learning_rate,
                             seed=seed, report_to="none")                                       # 5. hyperparameters
    trainer = Trainer(model=model, args=args, train_dataset=tokenized["train"],                 # 6. everything together
                      eval_dataset=tokenized["validation"], data_collator=collator,
                      processing_class=tokenizer, compute_metrics=compute_metrics)              # 10. eval each epoch
    trainer.train()                                                                             # 7. the training loop
    output = trainer.predict(tokenized["validation"])                                           # 8. (N, 2) logits
    return compute_metrics((output.predictions, output.label_ids))


def line_count() -> int:
    """How many lines `run` has, as the Lesson shows it (its whole source, counted rather than typed)."""
    import inspect

    return len(inspect.getsource(run).rstrip().splitlines())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: parse the flags, run the loop, print the metrics as JSON."""
    parser = argparse.ArgumentParser(description="Fine-tune a pretrained encoder on MRPC with one short function.")
    parser.add_argument("--model", default="auto", help="Hub id or local folder (auto: chosen for this machine)")
    parser.add_argument("--data", default="auto", help="glue/mrpc, sample, a local MRPC folder or a file (auto)")
    parser.add_argument("--output-dir", default="outputs/whole-loop")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (overrides epochs)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-train", type=int, default=None, help="use only the first N training pairs")
    parser.add_argument("--max-eval", type=int, default=None, help="use only the first N validation pairs")
    parser.add_argument("--learning-rate", type=float, default=5e-5, help="the Trainer's default is 5e-5")
    parser.add_argument("--seed", type=int, default=42, help="set before the model is loaded (the head, too)")
    a = parser.parse_args(argv)
    metrics = run(a.model, a.data, a.output_dir, a.epochs, a.max_steps, a.batch_size, a.max_train, a.max_eval,
                  a.learning_rate, a.seed)
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
