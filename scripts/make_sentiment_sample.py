"""Write assets/sentiment_sample.tsv: the bundled single-sentence sample (short reviews, negative or positive).

Every phrase below was written for this project. A review is a subject and a verdict; about one in five joins a
friend's verdict of the other sign to ours with "but", and then the clause after "but" decides the label, so a model has to read
more than one word. Run once; the file is committed (re-running gives the same file: fixed seed)."""
from __future__ import annotations

import csv
import random
from pathlib import Path

SUBJECTS = [
    "The new coffee place on Elm Street", "This pair of running shoes", "The hotel we stayed at in the old town",
    "The second season of the show", "Her latest novel", "The budget airline's morning flight", "This blender",
    "The museum's new wing", "The pizza from the corner shop", "The banking app after the update",
    "The guided walking tour", "This phone case", "The sequel", "The hostel near the station",
    "The cooking class", "The noise-cancelling headphones", "The furniture delivery service", "The bakery's rye bread",
    "The board game we bought for the holidays", "The train ride along the coast", "The dentist's new clinic",
    "This electric kettle", "The documentary about deep-sea fish", "The campsite by the lake",
    "The language course", "The gym on the third floor", "The concert in the park", "This laptop bag",
    "The vegetarian menu", "The repair shop",
]
POSITIVE = [
    "was a real delight from start to finish", "turned out better than any of us expected",
    "is worth every cent we paid", "made the whole week for me", "was friendly, quick and easy to deal with",
    "is the best I have tried in years", "kept us smiling all afternoon", "works exactly as promised",
    "left me wanting to go back soon", "is clever, warm and beautifully made", "earned a place among my favourites",
    "has been reliable every single day", "surprised me in the nicest way", "felt generous and thoughtfully planned",
    "is one I will happily recommend to friends", "was spotless, calm and comfortable",
    "got everything right that matters", "is a small joy to use", "did not disappoint for a moment",
    "was charming and full of good ideas",
]
NEGATIVE = [
    "was a waste of an evening", "fell apart within a week", "is far too expensive for what you get",
    "left me bored and irritated", "was slow, noisy and badly organised", "is the worst I have tried in years",
    "broke the second time I used it", "never does what the description says", "made me regret going at all",
    "felt cheap and carelessly put together", "was cold, bland and overpriced", "gave us nothing but trouble",
    "is one I would warn my friends about", "was dirty and the staff did not care", "got almost everything wrong",
    "is a chore to use", "disappointed all four of us", "was dull and far too long", "stopped working after a month",
    "let us down when it mattered",
]
TRAIN, VALIDATION = 240, 60


def review(rng: random.Random, label: int) -> str:
    good, bad = rng.choice(POSITIVE), rng.choice(NEGATIVE)
    subject = rng.choice(SUBJECTS)
    if rng.random() < 0.2:  # the clause after "but" carries the label
        first, last = (bad, good) if label else (good, bad)
        return f"A friend told me {subject[0].lower() + subject[1:]} {first}, but for us it {last}."
    return f"{subject} {good if label else bad}."


def main(path: Path = Path(__file__).resolve().parent.parent / "assets" / "sentiment_sample.tsv") -> None:
    rng, seen, rows = random.Random(22), set(), []
    for split, n in (("train", TRAIN), ("validation", VALIDATION)):
        for i in range(n):
            label = i % 2
            text = review(rng, label)
            while text in seen:
                text = review(rng, label)
            seen.add(text)
            rows.append((split, ("negative", "positive")[label], text))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
        writer.writerow(("split", "label", "sentence"))
        writer.writerows(rows)


if __name__ == "__main__":
    main()
