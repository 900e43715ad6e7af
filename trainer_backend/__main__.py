"""Headless CLI: `python -m trainer_backend --model_name_or_path M --dataset D --output_dir O [TrainingArguments flags]`,
`python -m trainer_backend --preset "Quick look" --dataset sample --output_dir O` (the Train tab's preset; other
flags override it) or `python -m trainer_backend run.json`. Runs unchanged under `accelerate launch`: only the main
process writes to the run store."""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from trainer_backend import presets
from trainer_backend.config import ConfigError, TrainConfig
from trainer_backend.runs.store import RunStore


@dataclass
class RunArgs:
    """Plumbing flags used when the app starts a run."""

    run_id: Optional[str] = field(default=None, metadata={"help": "Run id in the run store (set by the app)."})
    db: Optional[str] = field(default=None, metadata={"help": "Path of the SQLite run store."})
    resume: bool = field(default=False, metadata={"help": "Continue from the last checkpoint in output_dir."})
    time_limit: Optional[float] = field(default=None, metadata={
        "help": "Wall-time limit in seconds: the run saves a checkpoint and stops when it is reached."})
    preset: Optional[str] = field(default=None, metadata={
        "help": "Start from a Train-tab preset (e.g. 'Quick look'); flags given explicitly override it. A preset "
                "with several runs (seeds, precisions) writes each to its own folder under output_dir."})


def _training_arg_overrides(extra: list[str] | dict[str, Any]) -> dict[str, Any]:
    """Parse leftover `--flag value` pairs (or JSON keys) as TrainingArguments fields; unknown ones are an error."""
    from transformers import HfArgumentParser, TrainingArguments

    valid = {f.name for f in dataclasses.fields(TrainingArguments)}
    if isinstance(extra, dict):
        unknown = sorted(set(extra) - valid)
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}")
        return dict(extra)
    if not extra:
        return {}
    given = [a[2:].split("=")[0].replace("-", "_") for a in extra if a.startswith("--")]
    unknown = sorted(set(given) - valid)
    if unknown or not given:
        raise ConfigError(f"Unknown flag(s): {' '.join(extra) if not given else ', '.join('--' + u for u in unknown)}")
    parser = HfArgumentParser(TrainingArguments)
    (parsed,) = parser.parse_args_into_dataclasses(args=[*extra, "--output_dir", "unused"])
    return {name: getattr(parsed, name) for name in given}


def parse(argv: list[str]) -> tuple[TrainConfig, RunArgs, dict[str, Any]]:
    """Read TrainConfig (+ run plumbing + TrainingArguments overrides) from flags or a JSON file."""
    from transformers import HfArgumentParser

    if argv and argv[0].endswith(".json"):
        data = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        cfg = TrainConfig.from_dict({k: v for k, v in data.items() if k in names})
        overrides = _training_arg_overrides({k: v for k, v in data.items() if k not in names})
        (run_args,) = HfArgumentParser(RunArgs).parse_args_into_dataclasses(args=argv[1:])
        return cfg, run_args, overrides
    parser = HfArgumentParser((TrainConfig, RunArgs))
    cfg, run_args, rest = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    return cfg, run_args, _training_arg_overrides(rest)


def _given(argv: list[str]) -> set[str]:
    """TrainConfig fields named on the command line (`--name value` or `--name=value`)."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return {a[2:].split("=")[0].replace("-", "_") for a in argv if a.startswith("--")} & names


def preset_runs(name: str, cfg: TrainConfig, argv: list[str]) -> list[tuple[str, TrainConfig]]:
    """(label suffix, config) for each run the Train tab starts with preset `name`; flags in `argv` win.

    The same steps as the tab: the preset's config and seeds/precisions (presets.get + presets.expand), with the
    explicitly given flags laid over it. Several runs go to output_dir/<seed-1, fp32, …>."""
    try:
        preset = presets.get(name)
    except KeyError as err:
        raise ConfigError(str(err.args[0])) from None
    given = _given(argv)
    base = preset.config.replace(**{k: getattr(cfg, k) for k in given | {"output_dir"}})
    seeds = [cfg.seed] if "seed" in given else preset.seeds
    compare = len(preset.precisions) > 1 and "precision" not in given  # as the tab: a list only for fp32-vs-mixed
    precisions = preset.precisions if compare else [base.precision]
    runs = presets.expand(base, seeds, precisions)
    if len(runs) == 1:
        return runs
    out_dir = Path(base.output_dir)
    return [(suffix, variant.replace(output_dir=str(out_dir / suffix.replace(", ", "-").replace(" ", "-"))))
            for suffix, variant in runs]


def main(argv: list[str] | None = None) -> int:
    # Here, not at the top: train imports the Trainer (transformers, torch), which --help and parse() never need.
    from trainer_backend.training.train import KNOWN_ERRORS, is_main_process, run_training

    argv = sys.argv[1:] if argv is None else argv
    try:
        cfg, run_args, overrides = parse(argv)
        runs = preset_runs(run_args.preset, cfg, argv) if run_args.preset else [("", cfg)]
        # Under `accelerate launch` every process runs this; only the main one touches the run store.
        store = RunStore(run_args.db) if (run_args.db or run_args.run_id) and is_main_process() else None
        group_id = f"g{int(time.time())}" if len(runs) > 1 else None
        for suffix, run_cfg in runs:
            run_id = run_args.run_id if len(runs) == 1 else None
            if store and not run_id:
                label = f"{run_args.preset.split(' (')[0]}{' · ' + suffix if suffix else ''}" if run_args.preset else ""
                run_id = store.create(run_cfg.to_dict(), label=label, group_id=group_id, status="starting")
            run_training(run_cfg, run_id if store else None, store, overrides, resume=run_args.resume,
                         time_limit=run_args.time_limit)
    except KNOWN_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
