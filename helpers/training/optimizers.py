"""The run's optimizer and learning-rate schedule, built from Keras's own classes, and the
callbacks that change the rate (a plateau schedule) or record it (every epoch's rate).

    constant     the rate throughout
    cosine       keras.optimizers.schedules.CosineDecay to zero over all planned steps
    step         ExponentialDecay, staircase: × lr_decay_factor every lr_decay_epochs epochs
    exponential  ExponentialDecay, staircase: × lr_decay_factor every epoch
    plateau      keras.callbacks.ReduceLROnPlateau on validation loss (ResumablePlateau)

A warm-up (lr_warmup_epochs) comes first and the schedule starts when it ends. Cosine uses
CosineDecay's own warm-up, rising step by step from 0. The others rise epoch by epoch, warm-up
epoch k of N at k/(N+1) of the rate: with a plateau schedule the rate must be a plain number
(Keras cannot set the rate of an optimizer built on a schedule, which ReduceLROnPlateau does),
so its warm-up is keras.callbacks.LearningRateScheduler; step, exponential and constant rates
then take the same per-epoch warm-up as one PiecewiseConstantDecay.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from helpers.backend import keras
from helpers.parameters.optimization import (
    DEFAULT_SCHEDULE,
    LR_SCHEDULES,
    OptimizerSettings,
    ScheduleSettings,
    epoch_rates,
    warmup_rates,
)

WARMUP_START = 0.0  # CosineDecay's warm-up rises from here (as in Keras's own example)
# An epoch's rate is the mean over its steps, read at this many of them at most: exact for
# the per-epoch schedules, within a hair for cosine (a smooth curve), and cheap per epoch.
RATE_SAMPLES = 32


def make_optimizer(settings: OptimizerSettings, learning_rate: Any,
                   ema_momentum: float = 0.0) -> keras.optimizers.Optimizer:
    """Keras's optimizer class for settings.optimizer, with only the arguments it takes."""
    common: dict[str, Any] = {"learning_rate": learning_rate, "use_ema": ema_momentum > 0,
                              "ema_momentum": ema_momentum or 0.99}
    if settings.weight_decay > 0:
        common["weight_decay"] = settings.weight_decay  # decoupled: w -= rate × decay × w
    if settings.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    if settings.optimizer == "adamw":
        return keras.optimizers.AdamW(**common)
    if settings.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=settings.momentum, nesterov=settings.nesterov,
                                    **common)
    if settings.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(momentum=settings.momentum, **common)
    raise ValueError(f"optimizer={settings.optimizer!r} is not known; valid values: adam, sgd, "
                     "adamw, rmsprop")


def learning_rate_schedule(
    learning_rate: float, schedule: str, steps_per_epoch: int, epochs: int,
    settings: ScheduleSettings = DEFAULT_SCHEDULE,
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """What the optimizer is built with: a plain rate, or one of Keras's schedules."""
    # helpers.parameters checks the values; an unknown name still must not pick a schedule.
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule={schedule!r} is not known; valid values: "
                         f"{', '.join(LR_SCHEDULES)}")
    warmup_epochs = settings.lr_warmup_epochs
    if warmup_epochs >= epochs:
        raise ValueError(f"lr_warmup_epochs={warmup_epochs} leaves no epoch after the warm-up "
                         f"of the {epochs} planned: use fewer warm-up epochs or more epochs")
    if schedule == "plateau":  # a number that ReduceLROnPlateau can lower (and the warm-up
        return learning_rate     # callback sets before the first step)
    total_steps = steps_per_epoch * epochs
    schedules = keras.optimizers.schedules
    if schedule == "cosine":
        if not warmup_epochs:
            return schedules.CosineDecay(learning_rate, decay_steps=max(total_steps, 1))
        warmup_steps = warmup_epochs * steps_per_epoch
        return schedules.CosineDecay(WARMUP_START, decay_steps=max(total_steps - warmup_steps, 1),
                                     warmup_target=learning_rate, warmup_steps=warmup_steps)
    if warmup_epochs:
        rates = epoch_rates(learning_rate, schedule, epochs, settings)
        # The optimizer asks for the rate at its step count, 0 in the first step: epoch k's
        # steps are those up to k × steps_per_epoch - 1.
        return schedules.PiecewiseConstantDecay(
            [steps_per_epoch * epoch - 1 for epoch in range(1, len(rates))], rates)
    if schedule == "constant":
        return learning_rate
    every = settings.lr_decay_epochs if schedule == "step" else 1
    return schedules.ExponentialDecay(learning_rate, decay_steps=every * steps_per_epoch,
                                      decay_rate=settings.lr_decay_factor, staircase=True)


def rate_callbacks(learning_rate: float, schedule: str,
                   settings: ScheduleSettings = DEFAULT_SCHEDULE,
                   ) -> list[keras.callbacks.Callback]:
    """The callbacks a schedule needs during fit: a plateau schedule's (and its warm-up's)."""
    if schedule != "plateau":
        return []
    warmup = settings.lr_warmup_epochs
    rates = warmup_rates(learning_rate, warmup)
    callbacks: list[keras.callbacks.Callback] = []
    if warmup:
        def rate_of(epoch: int, current: float) -> float:
            """Warm-up epochs take their planned rate; later ones keep the plateau's."""
            if epoch < warmup:
                return rates[epoch]
            return learning_rate if epoch == warmup else current

        # A cut the plateau makes within the warm-up is undone by the next warm-up epoch's
        # rate, just as these two Keras callbacks do in the listing (training_code).
        callbacks.append(keras.callbacks.LearningRateScheduler(rate_of))
    return [*callbacks, ResumablePlateau(settings)]


# Keras's ReduceLROnPlateau, made resumable: it forgets its wait and best at on_train_begin,
# so a run resumed after a kill would wait its patience afresh (and at the warm-up's rate).
class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau on validation loss that carries its wait counter, best value and
    rate across an interruption (its state is in the backup)."""

    backup_key = "plateau"

    def __init__(self, settings: ScheduleSettings) -> None:
        super().__init__(monitor="val_loss", mode="min", factor=settings.lr_decay_factor,
                         patience=settings.lr_plateau_patience, min_lr=settings.lr_min)
        self.restored: dict[str, Any] | None = None

    def restore_state(self, state: dict[str, Any] | None) -> None:
        """Take up an interrupted run's state (backup_state's dict) when training begins."""
        self.restored = state

    def backup_state(self) -> dict[str, Any]:
        """What resuming needs: the wait counter, the best value, the cooldown and the rate."""
        return {"wait": self.wait, "best": None if self.best is None else float(self.best),
                "cooldown_counter": self.cooldown_counter,
                "learning_rate": current_rate(self.model.optimizer)}

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.restored:
            self.wait = int(self.restored["wait"])
            self.best = self.restored["best"]
            self.cooldown_counter = int(self.restored["cooldown_counter"])
            self.model.optimizer.learning_rate = float(self.restored["learning_rate"])


def current_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The rate the optimizer's next step will use."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def _steps_done(optimizer: keras.optimizers.Optimizer) -> int:
    """The optimizer's step count (under a tf.distribute strategy a mirrored variable)."""
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def _schedule_of(optimizer: keras.optimizers.Optimizer) -> Any:
    """The optimizer's LearningRateSchedule, or None for a plain rate (under loss scaling,
    the inner optimizer's). Keras keeps it in a private attribute and has no public one."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    rate = getattr(inner, "_learning_rate", None)
    return rate if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) else None


# Ours: Keras logs a rate only from its rate callbacks, and then the rate at the epoch's end
# (for ReduceLROnPlateau, before its cut; for a schedule, none at all).
class RateLog(keras.callbacks.Callback):
    """Puts each epoch's learning rate into its logs (`learning_rate`): the mean over the
    epoch's steps, which history.csv and the curves show."""

    def __init__(self) -> None:
        super().__init__()
        self._first_step = 0
        self._rate = math.nan

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._first_step = _steps_done(self.model.optimizer)
        self._rate = current_rate(self.model.optimizer)  # after a warm-up callback set it

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        schedule = _schedule_of(self.model.optimizer)
        last_step = _steps_done(self.model.optimizer)
        if schedule is None or last_step <= self._first_step:
            logs["learning_rate"] = self._rate
            return
        steps = np.unique(np.linspace(self._first_step, last_step - 1,
                                      min(RATE_SAMPLES, last_step - self._first_step)).round())
        logs["learning_rate"] = float(np.mean([float(schedule(int(step))) for step in steps]))
