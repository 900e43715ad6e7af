"""Padding demo: counts against a hand count and against what DataCollatorWithPadding really adds."""
from __future__ import annotations

import pytest

from lesson import padding

# Six pairs, batches of two: (5, 3) (8, 2) (6, 6).
LENGTHS = [5, 3, 8, 2, 6, 6]


def test_hand_count_dynamic_vs_longest_in_set():
    report = padding.count_padding(LENGTHS, batch_size=2)
    # per batch: 5-3 = 2; 8-2 = 6; 0  -> 8 padding tokens
    assert report.pad_dynamic == 8
    # to the longest in the set (8): 3+5+0+6+2+2 = 18
    assert report.pad_global == 18
    assert report.real_tokens == 30
    assert report.positions_global == 48 and report.positions_dynamic == 38
    assert report.saved_share() == pytest.approx(10 / 48)
    assert [b.pad_dynamic for b in report.batches] == [2, 6, 0]
    assert [b.longest for b in report.batches] == [5, 8, 6]


def test_grouping_by_length_removes_padding_here():
    # Six pairs at batch 2: the library's window is min(6 // (4 * 2), 50) -> at least one batch, so nothing moves.
    assert padding.window_batches(6, 2) == 1
    assert padding.count_padding(LENGTHS, batch_size=2).pad_grouped == padding.count_padding(
        LENGTHS, batch_size=2).pad_dynamic
    # 24 pairs at batch 2: windows of 24 // 8 = 3 batches (6 pairs), each sorted longest first:
    # (8, 6) (6, 5) (3, 2) -> 2 + 1 + 1 = 4 per window, four windows.
    report = padding.count_padding(LENGTHS * 4, batch_size=2)
    assert padding.window_batches(24, 2) == 3 and report.pad_grouped == 16
    assert report.saved_share(grouped=True) > report.saved_share()


def test_ragged_last_batch_and_rows():
    report = padding.count_padding([4, 1, 3], batch_size=2)
    assert [b.size for b in report.batches] == [2, 1]
    assert report.pad_dynamic == 3 and report.pad_global == 3 + 1
    assert [r[0] for r in report.rows()] == list(padding.STRATEGIES)
    with pytest.raises(ValueError):
        padding.batches([1, 2], 0)


def test_counts_match_the_real_collator(tiny_model_dir):
    from transformers import AutoTokenizer, DataCollatorWithPadding

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    s1 = ["A cat sat.", "The bank raised its interest rate by half a point on Monday.", "Hi.", "Rain fell."]
    s2 = ["A cat was sitting.", "On Monday the bank lifted rates by 0.5 points.", "Hello.", "It rained all day."]
    lengths = padding.pair_lengths(tok, s1, s2)
    report = padding.count_padding(lengths, batch_size=2)
    collate = DataCollatorWithPadding(tokenizer=tok)
    enc = tok(s1, s2, truncation=True, max_length=128)
    features = [{k: enc[k][i] for k in enc} for i in range(len(s1))]
    real_pads = sum(int((collate(features[i:i + 2])["attention_mask"] == 0).sum()) for i in (0, 2))
    assert report.pad_dynamic == real_pads
    whole = collate(features)  # padding all four together = padding to the longest in this tiny "set"
    assert report.pad_global == int((whole["attention_mask"] == 0).sum())


def test_figure_and_summary():
    report = padding.count_padding(LENGTHS * 10, batch_size=4)
    fig = padding.figure(report, max_batches=5)
    assert len(fig.data) == 3 and len(fig.data[0].x) == 5
    assert "less work" in padding.summary(report)
