"""Made-up easy pairs for a paraphrase task: a sentence beside itself (a paraphrase) and two unrelated sentences (not
one), mixed into the training split so a short run learns to compare its two texts early (issue 20).

Why they help, measured (bench/quick_look.py, README "Quick look"): a cross-encoder built from a bi-encoder such as
the packaged all-MiniLM-L6-v2 has never compared two sentences inside one input, so on real pairs alone its training
loss sat at chance for 60-85% of a 250-step CPU run — every real pair, paraphrase or not, shares most of its words.
Identical and unrelated pairs differ in the one thing the encoder must learn to look at first (how much the two
texts share), so the loss leaves chance early; the real pairs then teach the finer differences. The validation and
test splits are never touched: every figure a run reports is on real pairs.

Hand-rolled: the augmentation libraries (nlpaug, textattack) rewrite sentences; none builds pairs from a split's
own sentences, which is all this needs (a seeded shuffle and one `concatenate_datasets`).
"""
from __future__ import annotations

import random

from trainer_backend.data import MAX_ROWS


def how_many(n_real: int, ratio: float) -> int:
    """The number of easy pairs for `n_real` real ones at `ratio` made-up pairs per real pair, so that the split
    never holds more rows than the app lets any split hold (data.MAX_ROWS): memory stays within the bound a Space
    was sized for."""
    return max(0, min(round(n_real * ratio), MAX_ROWS - n_real))


def applies(task) -> bool:
    """Easy pairs are labelled by what a paraphrase is, so only a paraphrase task (MRPC's two labels) gets them: for
    entailment or question answering a sentence beside itself is not a clear example of either class."""
    return bool(task.is_mrpc)


def easy_rows(first: list[str], second: list[str], n: int, seed: int) -> list[tuple[str, str, int]]:
    """Up to `n` (sentence1, sentence2, label) rows from the split's own sentences, half of each kind, alternating:
    a sentence beside itself (label 1, paraphrase; a pair's first or second sentence, at random) and pair i's first
    sentence beside another pair's second sentence (label 0), skipping draws where the two texts are equal. The labels
    are MRPC's ids (0 not_paraphrase, 1 paraphrase: `applies` admits only that task). Draws are capped, so a split
    whose sentences are all the same ends with fewer rows instead of looping."""
    texts = len(first)
    if texts < 2 or n <= 0:
        return []
    rng = random.Random(seed)
    rows: list[tuple[str, str, int]] = []
    for _ in range(20 * n):
        if len(rows) == n:
            break
        i = rng.randrange(texts)
        if len(rows) % 2 == 0:
            text = first[i] if rng.random() < 0.5 else second[i]
            rows.append((text, text, 1))
        else:
            j = (i + rng.randrange(1, texts)) % texts
            if first[i].strip() != second[j].strip():
                rows.append((first[i], second[j], 0))
    return rows


def add_easy_pairs(train, ratio: float, seed: int):
    """`train` with `how_many(len(train), ratio)` easy pairs added and the whole split shuffled (seeded); returns
    (dataset, number added). The new rows take the split's own features (columns sentence1/sentence2/label)."""
    from datasets import Dataset, concatenate_datasets

    rows = easy_rows(list(train["sentence1"]), list(train["sentence2"]), how_many(len(train), ratio), seed)
    if not rows:
        return train, 0
    train = train.select_columns(["sentence1", "sentence2", "label"])
    extra = Dataset.from_dict({"sentence1": [a for a, _, _ in rows], "sentence2": [b for _, b, _ in rows],
                               "label": [y for _, _, y in rows]}, features=train.features)
    return concatenate_datasets([train, extra]).shuffle(seed=seed), len(rows)
