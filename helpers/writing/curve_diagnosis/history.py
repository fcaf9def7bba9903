"""A training history read for diagnosis: its columns, the best epoch, the validation set's
noise, and where the learning-rate schedule ran low. diagnosis.py diagnoses from it;
sentences.py writes the sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from helpers import wording

COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
SCHEDULES = ("constant", "cosine")
# Validation loss more than 3% above its lowest has risen; less is a wobble, not a rise.
RISE = 0.03
# A fall of at least 2% of the validation loss over the last epochs is still progress.
IMPROVING = 0.02
# Training loss that fell by 5% or more over the last epochs was still being fitted.
TRAIN_FALLING = 0.05
# An epoch whose average learning rate is under 10% of the initial one barely moves the weights.
LOW_RATE = 0.1
# A validation set whose 95% interval on accuracy is wider than ±1 point is a small one.
SMALL_VALIDATION = 0.01


class Finding(str, Enum):
    """One category of the diagnosis, as tests and other code can check it."""

    EARLY_STOPPING = "early_stopping"
    OVERFITTING = "overfitting"  # validation loss rose for 2+ epochs while training loss fell
    LAST_EPOCH_RISE = "last_epoch_rise"  # rose in the last epoch only: noise or a beginning
    UNSTABLE = "unstable"  # validation loss rose and training loss did not fall either
    STILL_IMPROVING = "still_improving"
    SCHEDULE_PLATEAU = "schedule_plateau"  # the cosine rate near zero in the last epochs
    LEVELLED_OFF = "levelled_off"  # validation flat at a rate that still moved the weights
    TRAIN_ABOVE_VALIDATION = "train_above_validation"
    NOISE = "noise"  # swings of validation accuracy smaller than its 95% interval


@dataclass(frozen=True)
class CurveContext:
    """What the curves cannot tell by themselves: the plan, the schedule, the validation size."""

    planned_epochs: int
    early_stopping_patience: int | None
    learning_rate: float
    lr_schedule: str  # "cosine" decays to zero over the planned epochs; "constant"
    validation_images: int
    train_only: tuple[str, ...] = ()  # regularizers acting only while training: "dropout 0.3"
    architecture: str = "cnn"  # which parameters a next step names

    def __post_init__(self) -> None:
        if self.planned_epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.planned_epochs}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule {self.lr_schedule!r} is not one of "
                             f"{', '.join(SCHEDULES)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be above 0, got {self.learning_rate}")
        if self.validation_images < 1:
            raise ValueError(f"validation_images must be at least 1, got "
                             f"{self.validation_images}")



def learning_rate_share(epoch: int, planned_epochs: int, lr_schedule: str) -> float:
    """The rate during one epoch (1-based), averaged over it, as a share of the initial rate.

    Keras's CosineDecay (helpers.training.fitting) falls from the rate to zero along half a cosine
    over all planned steps; the average over the epoch's stretch [s, e] of the run is
    0.5 + 0.5 (sin(pi e) - sin(pi s)) / (pi (e - s)).
    """
    if lr_schedule == "constant":
        return 1.0
    start, end = (epoch - 1) / planned_epochs, min(epoch / planned_epochs, 1.0)
    if start >= 1.0:
        return 0.0
    return 0.5 + 0.5 * (math.sin(math.pi * end) - math.sin(math.pi * start)) / (
        math.pi * (end - start))


@dataclass(frozen=True)
class Curves:
    """The history's columns as lists, the best epoch's index and the accuracy noise."""

    epoch: list[int]
    loss: list[float]
    accuracy: list[float]
    val_loss: list[float]
    val_accuracy: list[float]
    best: int  # index of the lowest validation loss
    noise: float  # half-width of the 95% interval of validation accuracy at the best epoch
    context: CurveContext

    @property
    def last(self) -> int:
        return len(self.epoch) - 1


def read_curves(history: pd.DataFrame, context: CurveContext) -> Curves:
    missing = [column for column in COLUMNS if column not in history.columns]
    if missing:
        raise ValueError(f"history: missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(COLUMNS)}")
    if history.empty:
        raise ValueError("history: no epochs; train at least one before reading the curves")
    columns = {name: [float(value) for value in history[name]] for name in COLUMNS[1:]}
    best = min(range(len(history)), key=lambda index: columns["val_loss"][index])
    noise = wording.accuracy_interval(columns["val_accuracy"][best],
                                           context.validation_images)
    return Curves([int(value) for value in history["epoch"]], columns["loss"],
                   columns["accuracy"], columns["val_loss"], columns["val_accuracy"], best,
                   noise, context)


def small_validation(curves: Curves) -> bool:
    return curves.noise >= SMALL_VALIDATION


def window_start(curves: Curves) -> int:
    """Index of the epoch before the run's last third (at least one epoch, at least two
    when the run has three or more)."""
    epochs = len(curves.epoch)
    return curves.last - min(max(2, epochs // 3), epochs - 1)


def low_rate_tail(curves: Curves) -> list[int]:
    """Indices of the last epochs whose average cosine rate was under LOW_RATE of the start."""
    tail: list[int] = []
    for index in range(curves.last, -1, -1):
        share = learning_rate_share(curves.epoch[index], curves.context.planned_epochs,
                                    curves.context.lr_schedule)
        if share >= LOW_RATE:
            break
        tail.insert(0, index)
    return tail


def is_noise(curves: Curves) -> bool:
    """Validation accuracy zig-zagged over the last epochs by less than its interval."""
    values = curves.val_accuracy[window_start(curves):]
    changes = [after - before for before, after in zip(values, values[1:], strict=False)]
    both_ways = any(change > 0 for change in changes) and any(change < 0 for change in changes)
    return both_ways and max(abs(change) for change in changes) < curves.noise

