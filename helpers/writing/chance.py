"""Whether the model learned anything: a model left at chance, said plainly, with what to check.

A classifier that gives every class the same probability, 1/classes, has a cross-entropy of
exactly ln(classes) (1.0986 for 3 classes, 2.3026 for 10) and the accuracy of a guess. A run
whose lowest validation loss never got clearly below that, and whose accuracy stayed near a
guess's, learned nothing: reading its curves as "converged", its mistakes as classes that
"look alike" or as made "confidently" would be false. `from_history` (04, 08) and
`from_predictions` (06) find it; `unless_learned` puts the plain sentence and the checks in
place of a curve diagnosis's readings. Pure functions; tests/unit/test_chance.py.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from helpers import artifacts, wording
from helpers.records import DatasetRecord, read_record

# A curve_diagnosis.Diagnosis, named so only: that package calls this module, not the reverse.
Diagnosis = TypeVar("Diagnosis", bound=Any)

# A loss within this share of ln(classes), or above it, is the loss of a uniform guess.
UNIFORM_CLOSE = 0.05
# Accuracy at most this far above 1/classes is a guess's (a class more frequent than the rest
# lets a model that learned nothing score a little above 1/classes), but never more than half
# a guess's own accuracy above it: 0.187 on 10 classes is a model that began to learn.
GUESS_MARGIN = 0.10


@dataclass(frozen=True)
class AtChance:
    """The numbers that show a model at chance, and where they were measured."""

    classes: int
    loss: float  # the lowest validation loss, or the test loss; nan when it was never a number
    accuracy: float  # at that loss
    epoch: int | None = None  # the validation loss's epoch; None: measured on the test set
    top_probability: float | None = None  # mean highest predicted probability, where known
    highest_probability: float | None = None  # the highest over all images, where known

    @property
    def uniform_loss(self) -> float:
        """ln(classes): the loss of giving every class the same probability."""
        return math.log(self.classes)


def classes_in(run_dir: str | Path) -> int | None:
    """The number of classes of a run, from 01's dataset.json; None where a run directory
    holds only the later steps' records (then nothing is said about chance)."""
    try:
        return len(read_record(run_dir, DatasetRecord).class_names)
    except artifacts.MissingArtifactError:
        return None


def at_chance(loss: float, accuracy: float, classes: int) -> bool:
    """Whether a loss and an accuracy are a uniform guess's (a loss that is not a number too)."""
    if classes < 2:
        return False
    uniform = math.log(classes)
    return (math.isnan(loss) or loss >= (1 - UNIFORM_CLOSE) * uniform) \
        and accuracy <= 1 / classes + min(GUESS_MARGIN, 0.5 / classes)


def from_history(history: pd.DataFrame, classes: int) -> AtChance | None:
    """The run at chance, from history.csv: its best epoch (the weights it keeps) no better
    than a uniform guess; None when it learned."""
    losses = history["val_loss"].astype(float)
    if losses.isna().all():
        row = history.iloc[-1]
        return AtChance(classes, math.nan, float(row["val_accuracy"]), int(row["epoch"]))
    row = history.loc[losses.idxmin()]
    if not at_chance(float(row["val_loss"]), float(row["val_accuracy"]), classes):
        return None
    return AtChance(classes, float(row["val_loss"]), float(row["val_accuracy"]),
                    int(row["epoch"]))


def from_predictions(true_labels: np.ndarray, probabilities: np.ndarray) -> AtChance | None:
    """The model at chance, from its test predictions (predictions.npz); None when it learned."""
    classes = probabilities.shape[1]
    chosen = probabilities[np.arange(len(true_labels)), true_labels.astype(int)]
    loss = float(-np.log(np.clip(chosen, 1e-7, 1.0)).mean())
    accuracy = float((probabilities.argmax(axis=1) == true_labels).mean())
    if not at_chance(loss, accuracy, classes):
        return None
    top = probabilities.max(axis=1)
    return AtChance(classes, loss, accuracy, None, float(top.mean()), float(top.max()))


def sentence(level: AtChance) -> str:
    """The plain statement, with the numbers that show it."""
    classes, uniform = level.classes, level.uniform_loss
    guess = f"1/{classes} = {1 / classes:.4f}"
    split = "validation" if level.epoch is not None else "test"
    if math.isnan(level.loss):
        loss = (f"its {split} loss was not a number (NaN) in any epoch: the weights blew up, so "
                "every prediction is meaningless")
    else:
        measured = (f"its lowest validation loss, {level.loss:.4f} at epoch {level.epoch},"
                    if level.epoch is not None else f"its test loss, {level.loss:.4f},")
        loss = (f"{measured} is about ln {classes} = {uniform:.4f}, the loss of giving each of "
                f"the {classes} classes the same probability, {guess}"
                if level.loss <= uniform * (1 + UNIFORM_CLOSE) else
                f"{measured} is above ln {classes} = {uniform:.4f}, the loss of giving every "
                "class the same probability: it does worse than that uniform guess")
    probabilities = (f"; the highest probability it gave any test image is "
                     f"{level.highest_probability:.3f} (the mean of each image's highest, "
                     f"{level.top_probability:.3f}), next to a uniform {1 / classes:.3f}"
                     if level.highest_probability is not None and level.top_probability
                     is not None else "")
    return (f"**The model did not learn**: {loss}, and {split} accuracy "
            f"{'there ' if level.epoch is not None else ''}was {level.accuracy:.4f}, what "
            f"guessing scores (one in {classes}){probabilities}.")


def what_to_check(learning_rate: float | None = None, epochs: int | None = None) -> list[str]:
    """The usual causes of a model left at chance, each with how to tell."""
    rate = f", {wording.number(learning_rate)} here" if learning_rate is not None else ""
    ran = f", {epochs} here" if epochs is not None else ""
    return [f"Check the learning rate (learning_rate{rate}): too high and the steps overshoot "
            "until the loss blows up or every image gets the same probabilities; too low and "
            "the weights barely move. Try it ten times lower and ten times higher.",
            "Check the labels: shuffled or wrong labels (a CSV's label column, images in the "
            "wrong folders) leave nothing to learn; 01's sample images per class show them.",
            "Check the input: images should reach the first layer scaled to [0, 1] (the "
            "built-in networks scale them; a model of your own must too), and not be blank.",
            f"Check the number of epochs (epochs{ran}): a run too short for its learning rate "
            "ends before the loss starts to fall."]


def unless_learned(diagnosis: Diagnosis, history: pd.DataFrame, classes: int | None,
                   learning_rate: float | None = None,
                   epochs: int | None = None) -> Diagnosis:
    """A curve diagnosis as it is when the model learned; at chance, its readings (converged,
    improving, overfitting...) replaced by the plain statement and its next steps by the
    checks. The best-epoch and early-stopping sentences stay: they are true either way."""
    level = from_history(history, classes) if classes else None
    if level is None:
        return diagnosis
    kept = [line for index, line in enumerate(diagnosis.observations)
            if index == 0 or line.startswith("**Early stopping")]
    return dataclasses.replace(diagnosis, findings=(),
                               observations=(*kept, sentence(level)),
                               next_steps=tuple(what_to_check(learning_rate, epochs)))
