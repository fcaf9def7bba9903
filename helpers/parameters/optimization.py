"""The optimizer, learning-rate schedule and early-stopping parameters of 04_train: their
allowed values and defaults, which optimizer or schedule uses each, and the settings objects
that training, the listing, the records and the report read them through.

Declared here once, beside the schema (which takes its types and defaults from here), so that
helpers.training builds exactly what helpers.writing describes. A parameter given a value
for an optimizer or schedule that ignores it is refused (`problems`): a brief that says
"nesterov" for Adam would otherwise be changed silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

OptimizerName = Literal["adam", "sgd", "adamw", "rmsprop"]
LearningRateSchedule = Literal["constant", "cosine", "step", "exponential", "plateau"]
EarlyStoppingMonitor = Literal["val_loss", "val_accuracy"]

OPTIMIZERS: tuple[str, ...] = get_args(OptimizerName)
LR_SCHEDULES: tuple[str, ...] = get_args(LearningRateSchedule)
MONITORS: tuple[str, ...] = get_args(EarlyStoppingMonitor)
# Keras's class for each optimizer (keras.optimizers.<name>), the name the report uses.
KERAS_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "adamw": "AdamW", "rmsprop": "RMSprop"}
# Keras's default weight decay for AdamW, quoted when AdamW is asked for without one.
KERAS_ADAMW_WEIGHT_DECAY = 0.004

# How a sentence names each monitored figure: the figure, a better value, the best one.
MONITOR_WORDS = {
    "val_loss": ("validation loss", "a lower validation loss", "lowest validation loss"),
    "val_accuracy": ("validation accuracy", "a higher validation accuracy",
                     "highest validation accuracy"),
}

# Which optimizers use each optimizer parameter; set for any other, it is refused.
OPTIMIZER_PARAMETERS: dict[str, tuple[str, ...]] = {
    "momentum": ("sgd", "rmsprop"),
    "nesterov": ("sgd",),
    "weight_decay": ("sgd", "adamw", "rmsprop"),
}
# Which schedules use each schedule parameter (lr_warmup_epochs goes with every schedule).
SCHEDULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "lr_decay_factor": ("step", "exponential", "plateau"),
    "lr_decay_epochs": ("step",),
    "lr_plateau_patience": ("plateau",),
    "lr_min": ("plateau",),
}
# Why a parameter does not apply, where the reason is not obvious.
WHY_NOT = {
    ("momentum", "adam"): "Adam's beta_1 already averages the gradients",
    ("momentum", "adamw"): "AdamW's beta_1 already averages the gradients",
    ("weight_decay", "adam"): "Adam with decoupled weight decay is AdamW: set optimizer: adamw",
}


@dataclass(frozen=True)
class OptimizerSettings:
    """The optimizer and what it takes besides the learning rate (parameters of these names)."""

    optimizer: str = "adam"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    @classmethod
    def of(cls, source: Any) -> OptimizerSettings:
        """The settings of a run's parameters, or of a record whose fields bear their names."""
        return _of(cls, source)

    @property
    def keras_name(self) -> str:
        """'SGD', 'Adam', 'AdamW', 'RMSprop': Keras's class, as the report names it."""
        return KERAS_OPTIMIZERS[self.optimizer]


@dataclass(frozen=True)
class ScheduleSettings:
    """What the learning-rate schedules take besides the rate and the schedule's name."""

    lr_decay_factor: float = 0.5
    lr_decay_epochs: int = 5
    lr_plateau_patience: int = 2
    lr_min: float = 0.0
    lr_warmup_epochs: int = 0

    @classmethod
    def of(cls, source: Any) -> ScheduleSettings:
        """The settings of a run's parameters, or of a record whose fields bear their names."""
        return _of(cls, source)


@dataclass(frozen=True)
class StoppingSettings:
    """What early stopping and the best checkpoint watch, and which weights the run keeps."""

    early_stopping_monitor: str = "val_loss"
    restore_best_weights: bool = True

    @classmethod
    def of(cls, source: Any) -> StoppingSettings:
        """The settings of a run's parameters, or of a record whose fields bear their names."""
        return _of(cls, source)

    @property
    def mode(self) -> str:
        """'min' for a loss, 'max' for an accuracy: which way is better."""
        return "max" if self.early_stopping_monitor.endswith("accuracy") else "min"


# The defaults as values, for function signatures: Adam, no schedule options, val_loss.
DEFAULT_OPTIMIZER = OptimizerSettings()
DEFAULT_SCHEDULE = ScheduleSettings()
DEFAULT_STOPPING = StoppingSettings()

SettingsType = type[OptimizerSettings] | type[ScheduleSettings] | type[StoppingSettings]


def _of(kind: SettingsType, source: Any) -> Any:
    """kind's fields read off source by name; a record made before a field existed keeps its
    default (every run before these parameters trained that way: Adam, val_loss, best kept)."""
    return kind(**{field.name: getattr(source, field.name, field.default)
                   for field in dataclasses.fields(kind)})


DEFAULTS = {field.name: field.default for kind in (OptimizerSettings, ScheduleSettings,
                                                   StoppingSettings)
            for field in dataclasses.fields(kind)}


def warmup_rates(learning_rate: float, warmup_epochs: int) -> list[float]:
    """The rate of each per-epoch warm-up epoch: k/(N+1) of the rate in epoch k of N."""
    return [learning_rate * epoch / (warmup_epochs + 1) for epoch in range(1, warmup_epochs + 1)]


def epoch_rates(learning_rate: float, schedule: str, epochs: int,
                settings: ScheduleSettings = DEFAULT_SCHEDULE) -> list[float]:
    """The planned rate of each epoch of a per-epoch schedule (constant, step, exponential),
    warm-up first; the schedule's own epochs are counted from the warm-up's end."""
    warmup = warmup_rates(learning_rate, settings.lr_warmup_epochs)
    after = range(max(epochs - len(warmup), 1))
    factor = settings.lr_decay_factor
    if schedule == "constant":
        return warmup + [learning_rate for _ in after]
    if schedule == "step":
        return warmup + [learning_rate * factor ** (epoch // settings.lr_decay_epochs)
                         for epoch in after]
    if schedule == "exponential":
        return warmup + [learning_rate * factor ** epoch for epoch in after]
    raise ValueError(f"lr_schedule={schedule!r} has no planned rate per epoch")


def _shown(value: Any) -> str:
    """A value as a params file writes it: true, 0.9."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def problems(values: Any) -> list[str]:
    """What is wrong with a run's optimizer and schedule parameters taken together.

    values has the parameters as attributes (a RunParameters). A parameter away from its
    default for an optimizer or schedule that does not use it is named with both.
    """
    found = []
    for tables, chosen in ((OPTIMIZER_PARAMETERS, values.optimizer),
                           (SCHEDULE_PARAMETERS, values.lr_schedule)):
        kind = "optimizer" if tables is OPTIMIZER_PARAMETERS else "lr_schedule"
        for name, users in tables.items():
            value = getattr(values, name)
            if chosen not in users and value != DEFAULTS[name]:
                why = WHY_NOT.get((name, chosen), f"{name} applies to {kind} "
                                  f"{' and '.join(users)} only")
                found.append(f"{name}={_shown(value)} is set, but {kind} {chosen!r} does not "
                             f"use it ({why}); leave {name} at {_shown(DEFAULTS[name])} or "
                             f"change {kind}")
    if values.nesterov and values.optimizer == "sgd" and values.momentum == 0:
        found.append("nesterov=true needs momentum > 0 (Nesterov momentum without momentum "
                     "is plain SGD), e.g. momentum: 0.9")
    if values.optimizer == "adamw" and values.weight_decay == 0:
        found.append("optimizer 'adamw' needs weight_decay > 0 (AdamW without weight decay is "
                     f"Adam); Keras's default is weight_decay: {KERAS_ADAMW_WEIGHT_DECAY}")
    epochs = values.epochs
    if isinstance(epochs, int) and values.lr_warmup_epochs >= epochs:
        found.append(f"lr_warmup_epochs={values.lr_warmup_epochs} leaves no epoch after the "
                     f"warm-up of the {epochs} planned: use fewer warm-up epochs or more epochs")
    return found
