"""The bank file loads and validates: 8 questions, 3 exercises, 11 cards; broken files fail clearly."""
from __future__ import annotations

import re

import pytest
import yaml

from quiz.bank import BANK_FILE, BankError, load_bank, parse_bank
from trainer_backend import presets


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(BANK_FILE.read_text(encoding="utf-8"))


def _broken(raw: dict, edit) -> str:
    data = yaml.safe_load(yaml.safe_dump(raw))
    edit(data)
    return yaml.safe_dump(data)


def test_bank_has_the_promised_content():
    bank = load_bank()
    assert len(bank.questions) == 8 and len(bank.exercises) == 3 and len(bank.cards) == 11
    assert all(q.key_ideas and q.model_answer for q in bank.questions + bank.exercises)
    assert [getattr(presets, e.train_preset) for e in bank.exercises] == [
        presets.SEED_RECIPE, presets.SEED_SPREAD, presets.PRECISION_AB]
    assert bank.item("part_c_fp16").train_button and bank.card("trainer").tags == ("trainer",)


def test_facts_match_the_pinned_library():
    bank = load_bank()
    # transformers 5.23: TrainingArguments() works without output_dir (default "trainer_output")
    assert "`output_dir` falls back to `\"trainer_output\"`" in bank.item("training_arguments").model_answer
    assert "trainer_output" in bank.card("training_arguments").back
    assert "UNEXPECTED" in bank.item("head_swap_warning").prompt and "MISSING" in bank.card("head_warning").back
    part_c = bank.item("part_c_fp16").model_answer
    assert "weights themselves stay in 32-bit" in part_c and "gradient scaler" in part_c
    assert "silently ignores `fp16=True`" in part_c
    assert "processing_class" in bank.item("trainer_inputs").model_answer
    assert "np.argmax(logits, axis=-1)" in bank.item("logits_to_labels").model_answer
    assert "408" in bank.item("logits_to_labels").prompt
    assert "axis=-1" in bank.card("logits_to_predictions").back


def test_part_a_numbers_are_filled_in_from_code():
    from lesson import figures

    part_a = load_bank().item("part_a_end_to_end")
    assert "{{" not in part_a.model_answer and "{{" not in " ".join(k.label for k in part_a.key_ideas)
    assert f"{figures.seed_recipe().total_steps:,}" in part_a.model_answer
    assert f"{figures.seed_recipe().steps_per_epoch}-step epoch" in part_a.model_answer


def test_no_model_answer_or_card_teaches_axis_0():
    bank = load_bank()
    texts = [q.model_answer for q in bank.questions + bank.exercises] + [c.back for c in bank.cards]
    assert not any(re.search(r"axis\s*=\s*0", t) for t in texts)


@pytest.mark.parametrize("edit,message", [
    (lambda d: d.pop("cards"), r"top level: missing field\(s\) cards"),
    (lambda d: d["questions"][2].pop("model_answer"), r"questions\[2\]: missing field\(s\) model_answer"),
    (lambda d: d["questions"][0]["key_ideas"][1].update(label=""), r"questions\[0\]\.key_ideas\[1\]\.label: expected non-empty text"),
    (lambda d: d["questions"][1]["key_ideas"][0].update(keywords=["(unclosed"]), r"key_ideas\[0\]\.keywords\[0\]: invalid regular expression"),
    (lambda d: d["cards"][3].update(id="Bad Id"), r"cards\[3\]\.id: expected an id in snake_case"),
    (lambda d: d["cards"].append(dict(d["cards"][0])), r"cards: duplicate id 'what_is_finetuning'"),
    (lambda d: d["exercises"][0].update(train_preset="NOPE"), r"exercises\[0\]\.train_preset: 'NOPE' is not a preset"),
    (lambda d: d["cards"][0].update(colour="red"), r"cards\[0\]: unknown field\(s\) colour"),
    (lambda d: d.update(version=2), r"version: unsupported version 2"),
    (lambda d: d["questions"][0]["key_ideas"][0].update(needs_keyword="yes"), r"needs_keyword: expected true or false"),
    (lambda d: d["cards"][0].update(tags=["two words"]), r"tags cannot contain spaces"),
])
def test_broken_bank_gives_a_clear_error(raw, edit, message):
    with pytest.raises(BankError, match=message) as info:
        parse_bank(_broken(raw, edit), source="bank.yaml")
    assert str(info.value).startswith("quiz bank bank.yaml: ")


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(BankError, match="not valid YAML"):
        parse_bank("cards: [unclosed", source="x.yaml")
    with pytest.raises(BankError, match="top level: expected a mapping"):
        parse_bank("- just a list", source="x.yaml")
    with pytest.raises(BankError, match="cannot be read"):
        load_bank(tmp_path / "missing.yaml")


def test_adding_a_card_is_editing_one_file(raw, tmp_path):
    data = yaml.safe_load(yaml.safe_dump(raw))
    data["cards"].append({"id": "warmup", "front": "What is warmup?", "back": "A ramp of the learning rate.",
                          "tags": ["trainer"]})
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_bank(path).card_ids[-1] == "warmup"


def test_unknown_ids_raise_key_error():
    bank = load_bank()
    with pytest.raises(KeyError):
        bank.item("nope")
    with pytest.raises(KeyError):
        bank.card("nope")
