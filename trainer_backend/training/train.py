"""One fine-tuning run in four stages: prepare (data, model, recipe) → fit (the Trainer) → evaluate → publish.

Runs in the training process (`python -m trainer_backend`, started by the app's job runner or by hand). A
`Reporter` tells the run store how it goes and does nothing without one, so the same code serves the CLI, the
benchmarks and the app. What the run produced is one typed `RunRecord` (runs/record.py), written once to the
store and to studio_run.json beside the model.
"""
from __future__ import annotations

import dataclasses
import traceback
from dataclasses import dataclass, field
from typing import Any

from trainer_backend import easy_pairs, recipe, settings
from trainer_backend.config import ConfigError, TrainConfig
from trainer_backend.data import DataError, LoadedData, load_data, tokenize
from trainer_backend.metrics import confusion, logits_to_predictions, metric_from_hub, metrics_for
from trainer_backend.modeling import (
    LoadedModel,
    ModelError,
    count_parameters,
    encoder_layers,
    freeze_lower_layers,
    freeze_word_embeddings,
    load_for_classification,
    set_dropout,
)
from trainer_backend.notes import (
    DataChosen,
    DropoutSet,
    EasyPairs,
    FrozenEmbeddings,
    FrozenLayers,
    MetricSource,
    ModelChosen,
    Note,
    PushSkipped,
    TaskChosen,
    TimeLimit,
)
from trainer_backend.publish import hub
from trainer_backend.runs import predictions
from trainer_backend.runs.record import Hyperparameters, RunRecord
from trainer_backend.runs.store import RunStore, drop_checkpoints, last_checkpoint
from trainer_backend.tasks import metric_config
from trainer_backend.training.callbacks import StopFlag, StoreCallback
from trainer_backend.training.reporter import Reporter
from wording.run_notes import note_text

KNOWN_ERRORS = (ConfigError, DataError, ModelError)
# TrainConfig fields that TrainingArguments also has are passed through by name; these few are decided here.
DECIDED_HERE = {"learning_rate", "per_device_train_batch_size", "eval_steps", "logging_steps", "push_to_hub",
                "hub_model_id"}


@dataclass
class RunResult:
    """What a finished run produced."""

    output_dir: str
    metrics: dict[str, Any]
    confusion: list[list[int]]
    stopped_early: bool
    notes: list[Note] = field(default_factory=list)
    record: RunRecord | None = None


@dataclass
class Prepared:
    """The prepare stage's output: data, model and the recipe the hardware chose, plus the record so far."""

    data: LoadedData
    loaded: LoadedModel
    resolved: recipe.Resolved
    tokenized: Any
    record: RunRecord


@dataclass
class Fitted:
    """The fit stage's output: the Trainer after training, its metrics and why it stopped."""

    trainer: Any
    train_metrics: dict[str, Any]
    callback: StoreCallback


def build_training_args(cfg: TrainConfig, resolved: recipe.Resolved, n_train: int, hw: settings.Hardware,
                        quiet: bool, overrides: dict[str, Any] | None = None):
    """TrainingArguments from our config: same-named fields pass through; the recipe decides the rest; CLI flags win."""
    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)} - DECIDED_HERE
    passed = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name in names}
    steps = recipe.total_steps(cfg, n_train, resolved.batch_size)
    eval_every = _eval_interval(cfg.eval_steps, steps)
    kwargs: dict[str, Any] = dict(
        passed,
        learning_rate=resolved.learning_rate,
        per_device_train_batch_size=resolved.batch_size,
        per_device_eval_batch_size=max(64, resolved.batch_size),
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a warmup_steps below 1 is a fraction of all steps
        # when to evaluate, log and save: every eval_every steps, or once per epoch
        eval_steps=eval_every,
        logging_steps=recipe.logging_steps(cfg, steps),
        save_strategy=recipe.save_strategy(cfg, hw),
        save_steps=eval_every or 500,
        save_total_limit=1,
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
                 time_limit: float | None = None, extra_callbacks: list | None = None,
                 in_process: bool = False) -> RunResult:
    """Train and evaluate; writes the model, tokenizer, all_results.json and studio_run.json to cfg.output_dir.

    `in_process`: the run is a ZeroGPU call of the app (runs/zerogpu.py), not a process of its own (see Reporter)."""
    hw = settings.hardware()
    # one writer per run: the other processes of a multi-process launch only train
    reporter = Reporter(store, run_id, in_process=in_process) if is_main_process() else Reporter()
    stop_flag = StopFlag()
    stop_flag.install()
    reporter.started(resume=resume, device=hw.describe())
    try:
        prepared = prepare(cfg, hw)
        reporter.prepared(prepared.record)
        fitted = fit(cfg, prepared, hw, reporter, stop_flag, overrides, resume, time_limit, extra_callbacks)
        result = evaluate(cfg, prepared, fitted, reporter, time_limit)
    except KNOWN_ERRORS as err:
        reporter.failed(str(err))
        raise
    except KeyboardInterrupt:  # a stop signal (StopFlag) while loading, tokenizing or evaluating, or Ctrl-C
        reporter.interrupted(cfg.output_dir, time_limit)
        raise
    except BaseException as err:
        reporter.failed(f"{err.__class__.__name__}: {err}".strip())
        if reporter.enabled:
            traceback.print_exc()
        raise
    if cfg.push_to_hub and is_main_process():
        publish(cfg, result, reporter)
    return result


def mix_in_easy_pairs(data: Any, ratio: float, seed: int) -> EasyPairs:
    """Add made-up easy pairs to `data`'s training split in place (paraphrase tasks only); the note says how many,
    or why none."""
    real = len(data.dataset["train"])
    if not easy_pairs.applies(data.task):
        return EasyPairs(added=0, real=real, skipped="they are made for a paraphrase task (two texts, labels "
                         f"not_paraphrase/paraphrase), and this one's labels are {', '.join(data.task.label_names)}")
    data.dataset["train"], added = easy_pairs.add_easy_pairs(data.dataset["train"], ratio, seed)
    return EasyPairs(added=added, real=real)


def easy_ratio_used(cfg: TrainConfig, record: RunRecord) -> float | None:
    """The easy-pair ratio the run trained with: None when it asked for none or its task skipped them (so the
    model card never claims pairs that were not added)."""
    added = any(isinstance(n, EasyPairs) and n.added for n in record.notes)
    return cfg.easy_pair_ratio if added else None


def prepare(cfg: TrainConfig, hw: settings.Hardware) -> Prepared:
    """Data, model with its new head, the hardware recipe, and the record of what was chosen and why."""
    from transformers import set_seed

    set_seed(cfg.seed)
    data = load_data(cfg.dataset, cfg.sentence1_column, cfg.sentence2_column, cfg.label_column,
                     cfg.max_train_samples, cfg.max_eval_samples)
    loaded = load_for_classification(cfg.model_name_or_path, task=data.task)
    resolved = recipe.resolve(cfg, loaded.name, hw)
    config = metric_config(data.task)
    summary, n_real = data.summary(), len(data.dataset["train"])  # before any made-up easy pairs join the split
    notes: list[Note] = [ModelChosen(name=loaded.name, reason=loaded.reason),
                         DataChosen(summary=summary, reason=data.reason), *resolved.notes,
                         MetricSource(hub=metric_from_hub(config=config), config=config)]
    if not data.task.is_mrpc:
        notes.append(TaskChosen(columns=list(data.task.text_columns), labels=list(data.task.label_names)))
    if cfg.freeze_embeddings or (cfg.freeze_embeddings is None and not hw.is_gpu):
        frozen = freeze_word_embeddings(loaded.model)
        notes.append(FrozenEmbeddings(parameters=frozen, by_default=not cfg.freeze_embeddings))
    if cfg.frozen_layers:
        layers, frozen = freeze_lower_layers(loaded.model, cfg.frozen_layers)
        notes.append(FrozenLayers(layers=layers, of=len(encoder_layers(loaded.model)), parameters=frozen))
    if cfg.dropout is not None:
        notes.append(DropoutSet(p=cfg.dropout, was=set_dropout(loaded.model, cfg.dropout)))
    if cfg.easy_pair_ratio:
        notes.append(mix_in_easy_pairs(data, cfg.easy_pair_ratio, cfg.seed))
    total, trainable = count_parameters(loaded.model)
    for note in notes:
        print(f"[studio] {note_text(note)}", flush=True)
    tokenized = tokenize(data.dataset, loaded.tokenizer, cfg.max_length)
    record = RunRecord(
        base_model=loaded.name, data=summary, precision=resolved.precision, device=hw.describe(),
        notes=notes, head_swap=loaded.report.to_dict(), parameters={"total": total, "trainable": trainable},
        n_train=n_real, n_validation=len(data.dataset["validation"]), task=data.task.name,
        text_columns=list(data.task.text_columns), label_names=list(data.task.label_names))
    return Prepared(data, loaded, resolved, tokenized, record)


def fit(cfg: TrainConfig, prepared: Prepared, hw: settings.Hardware, reporter: Reporter, stop_flag: StopFlag,
        overrides: dict[str, Any] | None, resume: bool, time_limit: float | None,
        extra_callbacks: list | None) -> Fitted:
    """Build the Trainer and train (from the newest complete checkpoint when resuming); save the model."""
    from transformers import DataCollatorWithPadding, Trainer

    loaded, tokenized, resolved = prepared.loaded, prepared.tokenized, prepared.resolved
    compute_metrics = metrics_for(prepared.data.task)
    args = build_training_args(cfg, resolved, len(tokenized["train"]), hw, quiet=reporter.enabled,
                               overrides=overrides)
    callback = StoreCallback(reporter.store, reporter.run_id, stop_flag, time_limit=time_limit)
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
    return Fitted(trainer, train_output.metrics, callback)


def evaluate(cfg: TrainConfig, prepared: Prepared, fitted: Fitted, reporter: Reporter,
             time_limit: float | None) -> RunResult:
    """Predict the validation split once more, write the results and the record, tell the store how it ended."""
    trainer, callback, tokenized = fitted.trainer, fitted.callback, prepared.tokenized
    prediction = trainer.predict(tokenized["validation"], metric_key_prefix="eval")
    preds = logits_to_predictions(prediction.predictions)
    matrix = confusion(preds, prediction.label_ids, prepared.data.task.num_labels)
    results = {**fitted.train_metrics, **prediction.metrics, **also_validate(trainer, tokenized),
               "eval_samples": len(tokenized["validation"]), "train_samples": len(tokenized["train"])}
    trainer.save_metrics("all", results)  # written by the main process only (the Trainer checks)
    args = trainer.args
    notes = list(prepared.record.notes)
    if callback.hit_time_limit:
        notes.append(TimeLimit(minutes=time_limit / 60 if time_limit else None))
    hyper = Hyperparameters(
        learning_rate=args.learning_rate, head_learning_rate=prepared.resolved.head_learning_rate,
        batch_size=args.per_device_train_batch_size, epochs=args.num_train_epochs, max_steps=args.max_steps,
        seed=args.seed, max_length=cfg.max_length, group_by_length=cfg.group_by_length,
        frozen_layers=cfg.frozen_layers, dropout=cfg.dropout, easy_pair_ratio=easy_ratio_used(cfg, prepared.record),
        lr_scheduler_type=getattr(args.lr_scheduler_type, "value", str(args.lr_scheduler_type)),
        weight_decay=args.weight_decay)
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    status = "stopped" if callback.stopped_early else "completed"
    record = prepared.record.model_copy(update={"notes": notes, "hyperparameters": hyper})
    if trainer.is_world_process_zero():
        if status == "completed":
            drop_checkpoints(cfg.output_dir)  # the final model is saved; intermediate checkpoints only cost disk
        record = record.finished(results, matrix, losses, cfg.output_dir)
        record.write(cfg.output_dir)
        keep_predictions(cfg, prepared, fitted, prediction, reporter)
    reporter.finished(status, trainer.state.global_step, results, matrix, record,
                      error=note_text(notes[-1]) if callback.hit_time_limit else None)
    shown = [f"{name} {results[key]:.4f}" for key, name in (("eval_accuracy", "accuracy"), ("eval_f1", "F1"),
             ("eval_matthews_correlation", "Matthews correlation"), ("eval_mismatched_accuracy", "mismatched accuracy"))
             if isinstance(results.get(key), (int, float))]
    print(f"[studio] {status}: {', '.join(shown)} -> {cfg.output_dir}", flush=True)
    return RunResult(cfg.output_dir, results, matrix, callback.stopped_early, notes, record)


def also_validate(trainer: Any, tokenized: Any) -> dict[str, Any]:
    """Scores on a second validation split when the task has one (MNLI's mismatched genres), once, at the end:
    `eval_mismatched_accuracy` … (one more pass over that split; no other task pays for it)."""
    extra = [split for split in tokenized if split.startswith("validation_")]
    out: dict[str, Any] = {}
    for split in extra:
        prefix = "eval_" + split.split("_", 1)[1]
        out.update(trainer.evaluate(tokenized[split], metric_key_prefix=prefix))
    return out


def keep_predictions(cfg: TrainConfig, prepared: Prepared, fitted: Fitted, prediction: Any,
                     reporter: Reporter) -> None:
    """Store what the run answered for each validation example (bounded: runs/predictions.py), from the predict
    pass above: the Train tab's mistakes table and paired comparison read it. Predictions that cannot be matched
    to their examples are not kept (the log says why): the table would show the wrong pairs."""
    if not reporter.enabled:
        return
    validation = prepared.data.dataset["validation"]
    try:
        order = predictions.evaluation_order(fitted.trainer, prepared.tokenized["validation"])
        rows = predictions.from_logits(prediction.predictions, prediction.label_ids, validation, order=order)
    except Exception as err:  # noqa: BLE001 - OrderError, or anything: the run is trained and scored, keep it
        print(f"[studio] per-example predictions not kept: {err.__class__.__name__}: {err}", flush=True)
        return
    predictions.save(reporter.store, reporter.run_id, rows, len(validation), predictions.fingerprint(validation),
                     cfg.dataset)


def publish(cfg: TrainConfig, result: RunResult, reporter: Reporter) -> None:
    """Push the finished run when asked; a failed push is a note (the model is trained and kept), not a crash."""
    try:
        repo = hub.push_run(cfg.output_dir, repo_id=cfg.hub_model_id, private=cfg.hub_private)
    except hub.HubError as err:
        print(f"[studio] push skipped: {err}", flush=True)
        result.notes.append(PushSkipped(reason=str(err)))
        reporter.push_failed(str(err))
    else:
        print(f"[studio] pushed to {repo}", flush=True)
        reporter.pushed(repo)
