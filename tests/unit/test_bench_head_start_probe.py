"""bench/head_start_probe.py: the features and the two readings it scores (issue 20's head-start question)."""
from __future__ import annotations

import torch

from bench import head_start_probe as probe


def test_separately_encoded_identical_sentences_have_cosine_one_and_a_paraphrase_beats_an_unrelated_pair():
    from transformers import AutoModel, AutoTokenizer

    from trainer_backend.settings import packaged_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir()))
    model = AutoModel.from_pretrained(str(packaged_model_dir())).eval()
    first = ["The cat sat on the mat.", "The cat sat on the mat.", "The cat sat on the mat."]
    second = ["The cat sat on the mat.", "A cat was sitting on the mat.", "Shares fell sharply in Tokyo today."]
    f = probe.features(model, tokenizer, first, second)
    cos = f["separate"][:, -1]
    assert f["separate"].shape == f["joint"].shape == (3, 2 * model.config.hidden_size + 1)
    assert abs(float(cos[0]) - 1) < 1e-4 and float(cos[1]) > float(cos[2]) + 0.3
    assert float(f["joint"][1, -1]) > float(f["joint"][2, -1])   # the joint reading ranks them the same way


def test_the_readings_find_a_separable_rule_and_only_it():
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    cos = torch.tensor([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert probe.threshold_accuracy(cos, y, torch.tensor([0.25, 0.85]), torch.tensor([0, 1])) == 1.0
    assert probe.threshold_accuracy(cos, y, torch.tensor([0.25, 0.85]), torch.tensor([1, 0])) == 0.0
    x = torch.stack([cos, 1 - cos], 1)
    assert probe.probe_accuracy(x, y, x, y) == 1.0
