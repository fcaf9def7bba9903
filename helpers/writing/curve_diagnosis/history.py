"""A training history read for diagnosis: its columns, the best and the kept epoch, the
validation set's noise, and the learning rate of each epoch (history.csv's own column, or for
a run recorded before it, the schedule's formula). diagnosis.py diagnoses from it;
sentences.py and rates.py write the sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from helpers import wording
from helpers.parameters.optimization import LR_SCHEDULES as SCHEDULES
from helpers.parameters.optimization import MONITORS

COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
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
    SCHEDULE_PLATEAU = "schedule_plateau"  # a decaying schedule's rate near zero at the end
    RATE_CUT = "rate_cut"  # the plateau schedule cut the rate after validation loss stalled
    LEVELLED_OFF = "levelled_off"  # validation flat at a rate that still moved the weights
    TRAIN_ABOVE_VALIDATION = "train_above_validation"
    NOISE = "noise"  # swings of validation accuracy smaller than its 95% interval


@dataclass(frozen=True)
class CurveContext:
    """What the curves cannot tell by themselves: the plan, the schedule, the validation size."""

    planned_epochs: int
    early_stopping_patience: int | None
    learning_rate: float
    lr_schedule: str  # "cosine", "constant", "step", "exponential" or "plateau"
    validation_images: int
    train_only: tuple[str, ...] = ()  # regularizers acting only while training: "dropout 0.3"
    architecture: str = "cnn"  # which parameters a next step names
    monitor: str = "val_loss"  # what early stopping and the best checkpoint watch
    restore_best_weights: bool = True  # False: the saved model has the last epoch's weights
    lr_plateau_patience: int = 2  # the plateau schedule's wait before a cut

    def __post_init__(self) -> None:
        if self.planned_epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.planned_epochs}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule {self.lr_schedule!r} is not one of "
                             f"{', '.join(SCHEDULES)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be above 0, got {self.learning_rate}")
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor {self.monitor!r} is not one of {', '.join(MONITORS)}")
        if self.validation_images < 1:
            raise ValueError(f"validation_images must be at least 1, got "
                             f"{self.validation_images}")



def learning_rate_share(epoch: int, planned_epochs: int, lr_schedule: str) -> float:
    """The rate during one epoch (1-based), averaged over it, as a share of the initial rate,
    for a run whose history.csv does not record it (constant and cosine ran before it did).

    Keras's CosineDecay (helpers.training.optimizers) falls from the rate to zero along half
    a cosine over all planned steps; the average over the epoch's stretch [s, e] of the run is
    0.5 + 0.5 (sin(pi e) - sin(pi s)) / (pi (e - s)).
    """
    if lr_schedule != "cosine":
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
    rates: list[float] | None = None  # each epoch's mean learning rate, where recorded

    @property
    def last(self) -> int:
        return len(self.epoch) - 1

    @property
    def monitored(self) -> list[float]:
        """The figure early stopping watches, per epoch."""
        return self.val_accuracy if self.context.monitor == "val_accuracy" else self.val_loss

    @property
    def monitored_best(self) -> int:
        """Index of the first best value of the monitored figure (the best checkpoint's)."""
        values = self.monitored
        pick = max if self.context.monitor == "val_accuracy" else min
        return values.index(pick(values))

    @property
    def kept(self) -> int:
        """Index of the epoch whose weights the saved model has."""
        return self.monitored_best if self.context.restore_best_weights else self.last

    def rate_share(self, index: int) -> float:
        """The epoch's learning rate as a share of the initial one."""
        if self.rates is not None:
            return self.rates[index] / self.context.learning_rate
        return learning_rate_share(self.epoch[index], self.context.planned_epochs,
                                   self.context.lr_schedule)


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
    rates = ([float(value) for value in history["learning_rate"]]
             if "learning_rate" in history.columns else None)
    return Curves([int(value) for value in history["epoch"]], columns["loss"],
                  columns["accuracy"], columns["val_loss"], columns["val_accuracy"], best,
                  noise, context, rates)


def small_validation(curves: Curves) -> bool:
    return curves.noise >= SMALL_VALIDATION


def window_start(curves: Curves) -> int:
    """Index of the epoch before the run's last third (at least one epoch, at least two
    when the run has three or more)."""
    epochs = len(curves.epoch)
    return curves.last - min(max(2, epochs // 3), epochs - 1)


def low_rate_tail(curves: Curves) -> list[int]:
    """Indices of the last epochs whose average rate was under LOW_RATE of the start, for a
    schedule that decays by plan (a plateau schedule's cuts are read as cuts: rate_cuts)."""
    tail: list[int] = []
    if curves.context.lr_schedule in ("constant", "plateau"):
        return tail
    for index in range(curves.last, -1, -1):
        if curves.rate_share(index) >= LOW_RATE:
            break
        tail.insert(0, index)
    return tail


def rate_cuts(curves: Curves) -> list[int]:
    """Indices of the epochs that began at a rate the plateau schedule had cut (lower than the
    epoch before, after any warm-up), for a plateau run whose history records its rate."""
    if curves.context.lr_schedule != "plateau" or curves.rates is None:
        return []
    rates = curves.rates
    return [index for index in range(1, len(rates)) if rates[index] < rates[index - 1] * 0.999]


def is_noise(curves: Curves) -> bool:
    """Validation accuracy zig-zagged over the last epochs by less than its interval."""
    values = curves.val_accuracy[window_start(curves):]
    changes = [after - before for before, after in zip(values, values[1:], strict=False)]
    both_ways = any(change > 0 for change in changes) and any(change < 0 for change in changes)
    return both_ways and max(abs(change) for change in changes) < curves.noise

