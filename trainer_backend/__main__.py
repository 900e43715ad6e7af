"""Headless CLI: `python -m trainer_backend --model_name_or_path M --dataset D --output_dir O [TrainingArguments flags]`
or `python -m trainer_backend run.json`. Runs unchanged under `accelerate launch`."""
from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from trainer_backend.config import ConfigError, TrainConfig


@dataclass
class RunArgs:
    """Plumbing flags used when the app starts a run."""

    run_id: Optional[str] = field(default=None, metadata={"help": "Run id in the run store (set by the app)."})
    db: Optional[str] = field(default=None, metadata={"help": "Path of the SQLite run store."})
    resume: bool = field(default=False, metadata={"help": "Continue from the last checkpoint in output_dir."})
    time_limit: Optional[float] = field(default=None, metadata={
        "help": "Wall-time limit in seconds: the run saves a checkpoint and stops when it is reached."})


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


def main(argv: list[str] | None = None) -> int:
    from trainer_backend.train import KNOWN_ERRORS, run_training
    from trainer_backend.runs import RunStore

    argv = sys.argv[1:] if argv is None else argv
    try:
        cfg, run_args, overrides = parse(argv)
        store = RunStore(run_args.db) if run_args.db or run_args.run_id else None
        if store and not run_args.run_id:
            run_args.run_id = store.create(cfg.to_dict(), status="starting")
        run_training(cfg, run_args.run_id, store, overrides, resume=run_args.resume,
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
