"""Dynamic padding demo: count padding tokens per batch vs. padding every pair to the longest in the set."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Sequence

STRATEGIES = ("longest in the data set", "longest in each batch", "each batch, grouped by length")
MEGABATCH = 50  # the Trainer's length-grouped sampler sorts windows of at most 50 batches


@dataclass
class BatchCount:
    """One batch: its real tokens, and the padding each strategy adds to it."""

    index: int
    size: int
    real: int
    longest: int
    pad_dynamic: int
    pad_global: int


@dataclass
class PaddingReport:
    """Totals over all batches for the three strategies, plus the per-batch detail for random order."""

    batch_size: int
    n_pairs: int
    real_tokens: int
    global_longest: int
    pad_global: int
    pad_dynamic: int
    pad_grouped: int
    batches: list[BatchCount] = field(default_factory=list)

    @property
    def positions_global(self) -> int:
        return self.real_tokens + self.pad_global

    @property
    def positions_dynamic(self) -> int:
        return self.real_tokens + self.pad_dynamic

    @property
    def positions_grouped(self) -> int:
        return self.real_tokens + self.pad_grouped

    def saved_share(self, grouped: bool = False) -> float:
        """Fraction of token positions (≈ compute) saved against padding to the longest pair in the set."""
        if not self.positions_global:
            return 0.0
        used = self.positions_grouped if grouped else self.positions_dynamic
        return 1 - used / self.positions_global

    def rows(self) -> list[list]:
        """Strategy | token positions | of which padding | padding share | compute vs. padding to the longest."""
        out = []
        for name, pad in zip(STRATEGIES, (self.pad_global, self.pad_dynamic, self.pad_grouped)):
            positions = self.real_tokens + pad
            out.append([name, positions, pad, f"{pad / positions:.1%}" if positions else "—",
                        f"{positions / self.positions_global:.1%}" if self.positions_global else "—"])
        return out


def batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Consecutive slices of `batch_size` (the last one may be shorter), like a DataLoader without shuffling."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [list(lengths[i:i + batch_size]) for i in range(0, len(lengths), batch_size)]


def pad_in_batch(batch: Sequence[int]) -> int:
    """Padding tokens DataCollatorWithPadding adds to one batch: everyone is brought up to the batch's longest."""
    return max(batch) * len(batch) - sum(batch) if batch else 0


def window_batches(n: int, batch_size: int) -> int:
    """Batches per sorted window of the length-grouped sampler: min(n // (4 * batch), 50), at least 1
    (transformers.trainer_pt_utils.get_length_grouped_indices: about four windows for a small set)."""
    return max(min(n // (batch_size * 4), MEGABATCH), 1)


def grouped_order(lengths: Sequence[int], batch_size: int) -> list[int]:
    """Lengths reordered like train_sampling_strategy="group_by_length": within windows of
    `window_batches` batches, longest first."""
    window = batch_size * window_batches(len(lengths), batch_size)
    out: list[int] = []
    for i in range(0, len(lengths), window):
        out.extend(sorted(lengths[i:i + window], reverse=True))
    return out


def count_padding(lengths: Sequence[int], batch_size: int) -> PaddingReport:
    """Padding tokens for the lengths in the given order, batched as they come."""
    lengths = [int(n) for n in lengths]
    longest = max(lengths, default=0)
    detail = []
    for i, b in enumerate(batches(lengths, batch_size)):
        detail.append(BatchCount(i + 1, len(b), sum(b), max(b), pad_in_batch(b), longest * len(b) - sum(b)))
    pad_grouped = sum(pad_in_batch(b) for b in batches(grouped_order(lengths, batch_size), batch_size))
    return PaddingReport(batch_size, len(lengths), sum(lengths), longest, sum(d.pad_global for d in detail),
                         sum(d.pad_dynamic for d in detail), pad_grouped, detail)


def pair_lengths(tokenizer, sentence1: Sequence[str], sentence2: Sequence[str], max_length: int = 128) -> list[int]:
    """Token count of each pair exactly as the training data is tokenized ([CLS] a [SEP] b [SEP], truncated)."""
    encoded = tokenizer(list(sentence1), list(sentence2), truncation=True, max_length=max_length)
    return [len(ids) for ids in encoded["input_ids"]]


def shuffled(lengths: Sequence[int], seed: int = 42) -> list[int]:
    """A random order, as the Trainer's sampler gives by default."""
    out = list(lengths)
    random.Random(seed).shuffle(out)
    return out


def figure(report: PaddingReport, max_batches: int = 40):
    """Stacked bars for the first batches: real tokens, padding per batch, extra padding when padding to the longest."""
    import plotly.graph_objects as go

    shown = report.batches[:max_batches]
    x = [b.index for b in shown]
    fig = go.Figure()
    fig.add_bar(x=x, y=[b.real for b in shown], name="real tokens", marker_color="#4f46e5")
    fig.add_bar(x=x, y=[b.pad_dynamic for b in shown], name="padding, per batch (dynamic)", marker_color="#f59e0b")
    fig.add_bar(x=x, y=[b.pad_global - b.pad_dynamic for b in shown],
                name="extra padding if every pair is padded to the longest", marker_color="#e5e7eb")
    fig.update_layout(barmode="stack", template="plotly_white", height=340, margin=dict(l=50, r=20, t=50, b=40),
                      title=f"Token positions in the first {len(shown)} batches of {report.batch_size}",
                      xaxis_title="batch", yaxis_title="token positions", legend=dict(orientation="h", y=-0.25))
    return fig


def summary(report: PaddingReport) -> str:
    """Markdown: what the counts say."""
    return (f"**{report.n_pairs:,} pairs, batches of {report.batch_size}, {report.real_tokens:,} real tokens.** "
            f"The longest pair has {report.global_longest} tokens. Padding every pair to that length fills "
            f"{report.positions_global:,} positions, {report.pad_global:,} of them padding. Padding each batch "
            f"only to its own longest pair needs {report.positions_dynamic:,} positions: "
            f"**{report.saved_share():.0%} less work**. Grouping pairs of similar length into the same batch "
            f"(`group_by_length`) brings that to **{report.saved_share(grouped=True):.0%}**.")
