"""The majority-class floor of the data in use (computed from its labels), and a result read against it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from lesson import figures

LABELS = ("not_paraphrase", "paraphrase")


@dataclass(frozen=True)
class DataFloor:
    """What answering the commoner label for every validation pair scores on one data set."""

    name: str         # the data set, in words
    pairs: int        # validation pairs
    positives: int    # of which labelled 1 (paraphrase)

    @property
    def share(self) -> float:
        return self.positives / self.pairs if self.pairs else 0.0

    @property
    def majority(self) -> str:
        return LABELS[1] if self.share >= 0.5 else LABELS[0]

    @property
    def accuracy(self) -> float:
        return max(self.share, 1 - self.share)

    @property
    def f1(self) -> float:
        """F1 of the paraphrase class when every pair gets the majority answer (0 when that answer is 'not')."""
        return 2 * self.share / (1 + self.share) if self.share >= 0.5 else 0.0

    def at_floor(self, accuracy: float) -> bool:
        """Within one validation pair of the floor: the model has learned nothing the label counts don't give."""
        return accuracy <= self.accuracy + 1.0 / max(self.pairs, 1) + 1e-9

    def sentence(self, named: bool = True) -> str:
        """The floor stated for this data, in one sentence of prose (naming the data unless it was just named)."""
        where = f"In the data in use here ({self.name})" if named else "In this data"
        return (f"{where}, {self.positives:,} of the {self.pairs:,} validation pairs "
                f"({self.share:.0%}) are paraphrases, so answering “{self.majority}” every time already scores "
                f"**{self.accuracy:.2f} accuracy** and **{self.f1:.2f} F1**: that is the floor a fine-tuned model "
                "has to beat here.")


def of_labels(labels: Iterable[int], name: str) -> DataFloor:
    """The floor of a validation split, from its labels."""
    labels = [int(y) for y in labels]
    return DataFloor(name, len(labels), sum(1 for y in labels if y == 1))


def of_matrix(matrix: list[list[int]] | None, name: str) -> DataFloor | None:
    """The floor from a 2x2 confusion matrix (rows = true labels), as every finished run stores it."""
    if not matrix or len(matrix) != 2 or not sum(map(sum, matrix)):
        return None
    return DataFloor(name, sum(map(sum, matrix)), sum(matrix[1]))


def mrpc() -> DataFloor:
    """GLUE MRPC's validation split (the seed article's data), from its published label counts."""
    return DataFloor("glue/mrpc validation", figures.GLUE_MRPC_SIZES["validation"],
                     figures.GLUE_MRPC_VALIDATION_POSITIVES)


def of_data(spec: str = "auto") -> DataFloor:
    """The floor of the validation split a run with this data spec would use (loads it, cached)."""
    from lesson import live

    from trainer_backend.access import public_name

    loaded = live.data(spec)
    return of_labels(loaded.dataset["validation"]["label"], public_name(loaded.name))  # never a server path


def of_run(run) -> DataFloor | None:
    """A run's floor: from its final confusion matrix, else from the data named in its settings, else unknown."""
    from trainer_backend.access import public_name

    name = public_name(str(run.data or run.config.get("dataset") or "its data"))
    found = of_matrix((run.final_metrics or {}).get("confusion"), name)
    if found is not None:
        return found
    try:
        return of_data(str(run.config.get("dataset") or "auto"))
    except Exception:  # noqa: BLE001 - data gone or unreadable: the reading says the floor is unknown
        return None


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
