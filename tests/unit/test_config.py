"""TrainConfig: defaults, validation messages, and loading through HfArgumentParser (flags and JSON)."""
import json

import pytest
from transformers import HfArgumentParser

from trainer_backend.__main__ import parse
from trainer_backend.config import ConfigError, TrainConfig


def test_defaults_are_valid_and_auto():
    cfg = TrainConfig()
    assert cfg.model_name_or_path == "auto" and cfg.dataset == "auto" and cfg.precision == "auto"
    assert cfg.group_by_length is True


@pytest.mark.parametrize("changes, fragment", [
    ({"learning_rate": 0.5}, "learning_rate=0.5"),
    ({"learning_rate": -1e-5}, "learning_rate"),
    ({"per_device_train_batch_size": 0}, "per_device_train_batch_size=0"),
    ({"num_train_epochs": 0}, "num_train_epochs=0"),
    ({"max_length": 4}, "max_length=4"),
    ({"precision": "fp8"}, "precision='fp8'"),
    ({"lr_scheduler_type": "zigzag"}, "lr_scheduler_type='zigzag'"),
    ({"eval_strategy": "sometimes"}, "eval_strategy='sometimes'"),
    ({"eval_strategy": "steps", "eval_steps": None}, "eval_steps"),
    ({"eval_steps": 2.5}, "eval_steps"),
    ({"warmup_ratio": 1.5}, "warmup_ratio"),
    ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps"),
    ({"output_dir": " "}, "output_dir"),
    ({"model_name_or_path": ""}, "model_name_or_path"),
    ({"max_train_samples": 0}, "max_train_samples"),
    ({"dropout": 1.0}, "dropout=1.0"),
    ({"dropout": -0.1}, "dropout=-0.1"),
])
def test_bad_values_are_rejected_with_a_message_naming_them(changes, fragment):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**changes)
    assert fragment in str(err.value)


def test_dropout_is_the_models_own_unless_set_and_reads_from_a_flag():
    assert TrainConfig().dropout is None and TrainConfig(dropout=0.0).dropout == 0.0
    (cfg,) = HfArgumentParser(TrainConfig).parse_args_into_dataclasses(["--dropout", "0"])
    assert cfg.dropout == 0.0


def test_several_problems_are_listed_together():
    with pytest.raises(ConfigError) as err:
        TrainConfig(learning_rate=5, max_length=2)
    assert "learning_rate" in str(err.value) and "max_length" in str(err.value)


def test_max_steps_makes_epochs_irrelevant():
    assert TrainConfig(num_train_epochs=0, max_steps=10).max_steps == 10


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match="bogus"):
        TrainConfig.from_dict({"bogus": 1})


def test_hfargumentparser_reads_flags():
    (cfg,) = HfArgumentParser(TrainConfig).parse_args_into_dataclasses(
        args=["--learning_rate", "3e-5", "--dataset", "sample", "--group_by_length", "false", "--seed", "7"])
    assert cfg.learning_rate == 3e-5 and cfg.dataset == "sample" and cfg.group_by_length is False and cfg.seed == 7


def test_cli_parse_flags_and_training_arguments_overrides():
    cfg, run_args, overrides = parse(["--model_name_or_path", "m", "--dataset", "sample", "--output_dir", "o",
                                      "--adam_beta2", "0.98", "--save_total_limit", "2"])
    assert cfg.model_name_or_path == "m" and cfg.output_dir == "o"
    assert overrides == {"adam_beta2": 0.98, "save_total_limit": 2}
    assert run_args.run_id is None


def test_cli_rejects_unknown_flags():
    with pytest.raises(ConfigError, match="not_a_flag"):
        parse(["--dataset", "sample", "--not_a_flag", "1"])


def test_cli_parse_json(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"dataset": "sample", "max_steps": 3, "output_dir": str(tmp_path / "o"),
                                "adam_epsilon": 1e-7}))
    cfg, _, overrides = parse([str(path), "--run_id", "abc"])
    assert cfg.max_steps == 3 and overrides == {"adam_epsilon": 1e-7}


def test_json_round_trip(tmp_path):
    cfg = TrainConfig(seed=3, dataset="sample")
    cfg.to_json(tmp_path / "c.json")
    assert TrainConfig.from_dict(json.loads((tmp_path / "c.json").read_text())) == cfg
