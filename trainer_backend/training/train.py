"""One fine-tuning run end to end: data, model, TrainingArguments, Trainer, results on disk and in the store."""
from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from trainer_backend import recipe, settings
from trainer_backend.training.callbacks import StopFlag, StoreCallback
from trainer_backend.config import ConfigError, TrainConfig
from trainer_backend.data import DataError, load_data, tokenize
from trainer_backend.metrics import compute_metrics, confusion, logits_to_predictions, metric_source
from trainer_backend.modeling import ModelError, count_parameters, freeze_word_embeddings, load_for_classification
from trainer_backend.runs.store import RunStore, drop_checkpoints, last_checkpoint

KNOWN_ERRORS = (ConfigError, DataError, ModelError)


@dataclass
class RunResult:
    """What a finished run produced."""

    output_dir: str
    metrics: dict[str, Any]
    confusion: list[list[int]]
    stopped_early: bool
    notes: list[str] = field(default_factory=list)


def build_training_args(cfg: TrainConfig, resolved: recipe.Resolved, n_train: int, hw: settings.Hardware,
                        quiet: bool, overrides: dict[str, Any] | None = None):
    """TrainingArguments from our config and the hardware recipe; explicit CLI flags win."""
    from transformers import TrainingArguments

    steps = recipe.total_steps(cfg, n_train, resolved.batch_size)
    eval_every = _eval_interval(cfg.eval_steps, steps)
    kwargs: dict[str, Any] = dict(
        output_dir=cfg.output_dir,
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        learning_rate=resolved.learning_rate,
        per_device_train_batch_size=resolved.batch_size,
        per_device_eval_batch_size=max(64, resolved.batch_size),
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        eval_strategy=cfg.eval_strategy,
        eval_steps=eval_every,
        logging_strategy=cfg.logging_strategy,
        logging_steps=recipe.logging_steps(cfg, steps),
        save_strategy=cfg.eval_strategy if cfg.eval_strategy != "no" else "epoch",
        save_steps=eval_every or 500,
        save_total_limit=1,
        seed=cfg.seed,
        bf16=resolved.precision == "bf16",
        fp16=resolved.precision == "fp16",
        use_cpu=hw.device == "cpu",
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        report_to="none",
        disable_tqdm=quiet,
        dataloader_num_workers=2 if hw.is_gpu else 0,
        average_tokens_across_devices=False,  # our loss is a per-batch mean: scaling it by the process count doubled it
    )
    kwargs.update(overrides or {})
    return TrainingArguments(**kwargs)


HEAD_PARTS = ("classifier.", "pooler.")


def optimizer_with_head_lr(model, args, head_lr: float | None):
    """AdamW (the Trainer's own class and settings) with the new head at `head_lr`; None: the Trainer's default.

    The classifier (and the pooler feeding it) start from scratch, so they can take far larger steps than the
    pretrained encoder below them, which a large step would wreck."""
    if head_lr is None or head_lr == args.learning_rate:
        return None
    from torch import nn
    from transformers import Trainer
    from transformers.trainer_pt_utils import get_parameter_names

    cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
    decay = set(get_parameter_names(model, [nn.LayerNorm], [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)"]))
    groups: dict[tuple[bool, bool], list] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault((any(part in name for part in HEAD_PARTS), name in decay), []).append(param)
    params = [{"params": ps, "lr": head_lr if head else args.learning_rate,
               "weight_decay": args.weight_decay if decays else 0.0}
              for (head, decays), ps in sorted(groups.items(), key=lambda kv: kv[0])]  # body groups first: the logged lr is the body's
    return cls, {**kwargs, "params": params}


def is_main_process() -> bool:
    """False in every process but the first of an `accelerate launch`/torchrun group (the launcher sets RANK).

    Read from the environment because the store is written before the Trainer (and its
    `is_world_process_zero`) exists; inside the Trainer's loop the callbacks use the Trainer state's own check."""
    return settings.distributed_rank() == 0


def _eval_interval(value: float | None, total_steps: int) -> float | int | None:
    """Steps between evaluations (and checkpoints): a whole number, or a fraction of the run below 1.

    Never more often than settings.limits().min_eval_steps, so no run saves a checkpoint every step on a Space."""
    if value is None:
        return None
    floor = settings.limits().min_eval_steps
    steps = value * max(total_steps, 1) if value < 1 else value
    if steps < floor:
        return floor
    return int(value) if value >= 1 else float(value)


def run_training(cfg: TrainConfig, run_id: str | None = None, store: RunStore | None = None,
                 overrides: dict[str, Any] | None = None, resume: bool = False,
                 time_limit: float | None = None, extra_callbacks: list | None = None) -> RunResult:
    """Train and evaluate; writes the model, tokenizer and all_results.json to cfg.output_dir."""
    from transformers import DataCollatorWithPadding, Trainer, set_seed

    hw = settings.hardware()
    if not is_main_process():  # one writer per run: the other processes of a multi-process launch only train
        store = run_id = None
    stop_flag = StopFlag()
    stop_flag.install()
    if store and run_id:
        from trainer_backend.runs.processes import process_start

        started = (store.get(run_id).started if resume else None) or time.time()
        store.update(run_id, status="running", started=started, pid=os.getpid(),
                     pid_start=process_start(os.getpid()), device=hw.describe())
    try:
        set_seed(cfg.seed)
        data = load_data(cfg.dataset, cfg.sentence1_column, cfg.sentence2_column, cfg.label_column,
                         cfg.max_train_samples, cfg.max_eval_samples)
        loaded = load_for_classification(cfg.model_name_or_path)
        resolved = recipe.resolve(cfg, loaded.name, hw)
        notes = [f"model: {loaded.name} — {loaded.reason}", f"data: {data.summary()} — {data.reason}",
                 *resolved.notes, f"metrics: {metric_source()}"]
        if cfg.freeze_embeddings or (cfg.freeze_embeddings is None and not hw.is_gpu):
            frozen = freeze_word_embeddings(loaded.model)
            notes.append(f"word embeddings frozen ({frozen / 1e6:.1f}M parameters not updated)"
                         + ("" if cfg.freeze_embeddings else ": on a CPU that is that many fewer weights for AdamW "
                            "to update each step, and a 30k-word table barely moves in a few epochs anyway"))
        total, trainable = count_parameters(loaded.model)
        if store and run_id:
            store.update(run_id, model=loaded.name, data=data.summary(), precision=resolved.precision)
            store.merge_info(run_id, notes=notes, head_swap=loaded.report.to_dict(),
                             parameters={"total": total, "trainable": trainable},
                             n_train=len(data.dataset["train"]), n_validation=len(data.dataset["validation"]))
        for note in notes:
            print(f"[studio] {note}", flush=True)
        tokenized = tokenize(data.dataset, loaded.tokenizer, cfg.max_length)
        args = build_training_args(cfg, resolved, len(tokenized["train"]), hw, quiet=bool(run_id), overrides=overrides)
        callback = StoreCallback(store, run_id, stop_flag, time_limit=time_limit)
        trainer = Trainer(
            model=loaded.model,
            args=args,
            data_collator=DataCollatorWithPadding(tokenizer=loaded.tokenizer),
            train_dataset=tokenized["train"],
            eval_dataset=tokenized["validation"],
            processing_class=loaded.tokenizer,
            compute_metrics=compute_metrics,
            callbacks=[callback],
            optimizer_cls_and_kwargs=optimizer_with_head_lr(loaded.model, args, resolved.head_learning_rate),
        )
        for extra in extra_callbacks or []:
            trainer.add_callback(extra)
        checkpoint = last_checkpoint(cfg.output_dir) if resume else None
        train_output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        trainer.save_model(cfg.output_dir)
        prediction = trainer.predict(tokenized["validation"], metric_key_prefix="eval")
        preds = logits_to_predictions(prediction.predictions)
        matrix = confusion(preds, prediction.label_ids)
        results = {**train_output.metrics, **prediction.metrics, "eval_samples": len(tokenized["validation"]),
                   "train_samples": len(tokenized["train"])}
        trainer.save_metrics("all", results)  # written by the main process only (the Trainer checks)
        main = trainer.is_world_process_zero()
        if main:
            _write_run_card(cfg, args, loaded, data, resolved, results, matrix, trainer)
        status = "stopped" if callback.stopped_early else "completed"
        if status == "completed" and main:
            drop_checkpoints(cfg.output_dir)  # the final model is saved; intermediate checkpoints only cost disk
        if callback.hit_time_limit:
            notes.append(f"stopped at this app's time limit of {time_limit / 60:.0f} min per run (checkpoint "
                         "saved: Resume continues it)")
        if store and run_id:
            if callback.hit_time_limit:
                store.merge_info(run_id, notes=notes)
                store.update(run_id, error=notes[-1])
            store.update(run_id, status=status, finished=time.time(), step=trainer.state.global_step,
                         samples_per_second=results.get("train_samples_per_second"),
                         final_metrics={**results, "confusion": matrix})
        print(f"[studio] {status}: accuracy {results.get('eval_accuracy', float('nan')):.4f}, "
              f"F1 {results.get('eval_f1', float('nan')):.4f} -> {cfg.output_dir}", flush=True)
        result = RunResult(cfg.output_dir, results, matrix, callback.stopped_early, notes)
    except KNOWN_ERRORS as err:
        if store and run_id:
            store.update(run_id, status="failed", finished=time.time(), error=str(err))
        raise
    except BaseException as err:
        if store and run_id:
            stopped = isinstance(err, KeyboardInterrupt)
            store.update(run_id, status="stopped" if stopped else "failed", finished=time.time(),
                         error=f"{err.__class__.__name__}: {err}".strip()[:2000])
            if not stopped:
                traceback.print_exc()
        raise
    if cfg.push_to_hub and is_main_process():
        from trainer_backend.publish import hub

        try:
            repo = hub.push_run(cfg.output_dir, repo_id=cfg.hub_model_id, private=cfg.hub_private)
        except hub.HubError as err:  # the model is trained and kept: a failed push is a note, not a crash
            print(f"[studio] push skipped: {err}", flush=True)
            result.notes.append(f"push skipped: {err}")
            if store and run_id:
                store.merge_info(run_id, push_error=str(err))
        else:
            print(f"[studio] pushed to {repo}", flush=True)
            if store and run_id:
                store.update(run_id, hub_repo=repo)
    return result


def _write_run_card(cfg: TrainConfig, args, loaded, data, resolved, results, matrix, trainer) -> None:
    """studio_run.json beside the model: what Predict and the model card show about this checkpoint."""
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    card = {
        "base_model": loaded.name, "data": data.summary(), "precision": resolved.precision,
        "hyperparameters": {"learning_rate": args.learning_rate, "batch_size": args.per_device_train_batch_size,
                            "epochs": args.num_train_epochs, "max_steps": args.max_steps, "seed": args.seed,
                            "max_length": cfg.max_length, "group_by_length": cfg.group_by_length,
                            "lr_scheduler_type": getattr(args.lr_scheduler_type, "value", str(args.lr_scheduler_type)), "weight_decay": args.weight_decay},
        "metrics": {k: results[k] for k in ("eval_accuracy", "eval_f1", "eval_loss") if k in results},
        "confusion": matrix, "loss_curve": losses, "head_swap": loaded.report.to_dict(),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    Path(cfg.output_dir, "studio_run.json").write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")


