"""The majority-class floor of the data in use, named and stated in the Lesson's words, and a result read against it
(the numbers come from trainer_backend.metrics.MajorityFloor; loading a data set's floor is lesson.live's)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from lesson import figures
from trainer_backend.data import LABEL_NAMES
from trainer_backend.metrics import MajorityFloor, floor_of_labels, floor_of_matrix

LABELS = tuple(LABEL_NAMES)


@dataclass(frozen=True)
class DataFloor:
    """The floor of one named data set (its numbers: metrics.MajorityFloor)."""

    name: str         # the data set, in words
    pairs: int        # validation pairs
    positives: int    # of which labelled 1 (paraphrase)

    @property
    def counts(self) -> MajorityFloor:
        return MajorityFloor(self.pairs, self.positives)

    @property
    def share(self) -> float:
        return self.counts.share

    @property
    def majority(self) -> str:
        return LABELS[self.counts.majority]

    @property
    def accuracy(self) -> float:
        return self.counts.accuracy

    @property
    def f1(self) -> float:
        return self.counts.f1

    def at_floor(self, accuracy: float) -> bool:
        return self.counts.at_floor(accuracy)

    def sentence(self, named: bool = True) -> str:
        """The floor stated for this data, in one sentence of prose (naming the data unless it was just named)."""
        where = f"In the data in use here ({self.name})" if named else "In this data"
        return (f"{where}, {self.positives:,} of the {self.pairs:,} validation pairs "
                f"({self.share:.0%}) are paraphrases, so answering “{self.majority}” every time already scores "
                f"**{self.accuracy:.2f} accuracy** and **{self.f1:.2f} F1**: that is the floor a fine-tuned model "
                "has to beat here.")


def named(floor: MajorityFloor, name: str) -> DataFloor:
    return DataFloor(name, floor.pairs, floor.positives)


def of_labels(labels: Iterable[int], name: str) -> DataFloor:
    """The floor of a validation split, from its labels."""
    return named(floor_of_labels(labels), name)


def of_matrix(matrix: list[list[int]] | None, name: str) -> DataFloor | None:
    """The floor from a 2x2 confusion matrix (rows = true labels), as every finished run stores it."""
    found = floor_of_matrix(matrix)
    return named(found, name) if found else None


def mrpc() -> DataFloor:
    """GLUE MRPC's validation split (the seed article's data), from its published label counts."""
    return named(figures.majority_floor(), "glue/mrpc validation")


def reading(accuracy: float, f1: float, floor: DataFloor | None) -> str:
    """One sentence comparing a final accuracy with the floor of the data it was measured on."""
    if floor is None:
        return ("The majority-class floor of this run's data is not known (it comes from the final confusion "
                "matrix), so compare the accuracy with the share of the commoner label yourself.")
    if floor.at_floor(accuracy):
        return (f"⚠ Accuracy {accuracy:.3f} is **at the majority-class floor** of this data ({floor.accuracy:.2f} "
                f"accuracy, {floor.f1:.2f} F1: answering “{floor.majority}” for every pair). The model has not "
                "learned the task yet, so its curves say nothing about overfitting. Change something: train for "
                "more epochs, try another learning rate (the studio's recipe gives the new head a higher one), "
                "another seed, or unfreeze the word embeddings.")
    points = 100 * (accuracy - floor.accuracy)
    return (f"Accuracy {accuracy:.3f} is {points:.1f} points above the majority-class floor of this data "
            f"({floor.accuracy:.2f}; F1 {f1:.3f} against a floor of {floor.f1:.2f}).")
