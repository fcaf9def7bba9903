"""The learning rate of training_code's listing: the schedule object, the warm-up and the
plateau callback, written as plain Keras with the run's numbers.

Each line computes the same floats as helpers.training.optimizers (the same expressions in
the same order), so the listing's optimizer has the run's configuration exactly
(tests/unit/test_training_code.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.parameters.optimization import ScheduleSettings

SCHEDULES = "keras.optimizers.schedules"
# Keras's ReduceLROnPlateau counts an epoch as no better unless the loss falls by this much.
PLATEAU_MIN_DELTA = 1e-4


@dataclass(frozen=True)
class RatePlan:
    """The run's rate: its start, schedule and options, over its steps and epochs."""

    learning_rate: float
    lr_schedule: str
    steps_per_epoch: int
    epochs: int
    settings: ScheduleSettings

    @property
    def warmup(self) -> int:
        return self.settings.lr_warmup_epochs


def rate_name(plan: RatePlan) -> str:
    """What the optimizer's learning_rate= reads: the schedule's variable, or the number."""
    if plan.lr_schedule == "plateau" or (plan.lr_schedule == "constant" and not plan.warmup):
        return repr(plan.learning_rate)
    return "learning_rate"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def rate_lines(plan: RatePlan) -> list[str]:
    """The lines before model.compile that define the rate (none for a constant one)."""
    rate, steps, epochs = repr(plan.learning_rate), plan.steps_per_epoch, plan.epochs
    factor = repr(plan.settings.lr_decay_factor)
    if plan.lr_schedule == "plateau":
        return _plateau_warmup_lines(plan) if plan.warmup else []
    if plan.lr_schedule == "cosine":
        total = steps * epochs
        if not plan.warmup:
            return ["", f"# Cosine schedule: the learning rate falls from {rate} to zero over "
                    f"all {total} steps", f"# ({steps} per epoch, {_count(epochs, 'epoch')}).",
                    f"learning_rate = {SCHEDULES}.CosineDecay({rate}, decay_steps={total})"]
        rising = plan.warmup * steps
        return ["", f"# Warm-up, then a cosine schedule: the rate rises from 0 to {rate} over "
                f"the first {rising} steps", f"# ({_count(plan.warmup, 'epoch')} of {steps}), "
                f"then falls to zero over the other {total - rising}.",
                f"learning_rate = {SCHEDULES}.CosineDecay(",
                f"    0.0, decay_steps={total - rising}, warmup_target={rate}, "
                f"warmup_steps={rising})"]
    if plan.warmup:
        return _per_epoch_lines(plan)
    if plan.lr_schedule == "constant":
        return []
    every = plan.settings.lr_decay_epochs if plan.lr_schedule == "step" else 1
    what = (f"Step decay: the rate is multiplied by {factor} every "
            f"{_count(every, 'epoch')}" if plan.lr_schedule == "step" else
            f"Exponential decay: the rate is multiplied by {factor} every epoch")
    return ["", f"# {what} ({every * steps} steps).",
            f"learning_rate = {SCHEDULES}.ExponentialDecay(",
            f"    {rate}, decay_steps={every * steps}, decay_rate={factor}, staircase=True)"]


def _warming(warmup: int) -> str:
    """'the first epoch trains at 1/2', 'epoch k of the first 3 trains at k/4'."""
    if warmup == 1:
        return "the first epoch trains at 1/2"
    return f"epoch k of the first {warmup} trains at k/{warmup + 1}"


def _per_epoch_lines(plan: RatePlan) -> list[str]:
    """Warm-up, then a constant, step or exponential rate: one rate per epoch."""
    rate, warmup = repr(plan.learning_rate), plan.warmup
    factor, every = repr(plan.settings.lr_decay_factor), plan.settings.lr_decay_epochs
    after = max(plan.epochs - warmup, 1)
    later = {"constant": f"[{rate}] * {after}",
             "step": f"[{rate} * {factor} ** (epoch // {every}) for epoch in range({after})]",
             "exponential": f"[{rate} * {factor} ** epoch for epoch in range({after})]"}
    then = {"constant": f"then {rate}",
            "step": f"then {rate} × {factor} every {_count(every, 'epoch')}",
            "exponential": f"then {rate} × {factor} every epoch"}[plan.lr_schedule]
    return ["", f"# Warm-up: {_warming(warmup)} of {rate}; {then}.",
            f"# One rate per epoch, each for its {plan.steps_per_epoch} steps.",
            f"rates = [{rate} * k / {warmup + 1} for k in range(1, {warmup + 1})] + "
            f"{later[plan.lr_schedule]}",
            f"learning_rate = {SCHEDULES}.PiecewiseConstantDecay(",
            f"    [{plan.steps_per_epoch} * epoch - 1 for epoch in range(1, len(rates))], rates)"]


def _plateau_warmup_lines(plan: RatePlan) -> list[str]:
    """The function the warm-up callback calls at each epoch's start."""
    rate, warmup = repr(plan.learning_rate), plan.warmup
    return ["", f"# Warm-up: {_warming(warmup)} of the rate; then the plateau schedule",
            "# below lowers it.",
            "def warm_up(epoch, rate):",
            f"    if epoch < {warmup}:",
            f"        return {rate} * (epoch + 1) / {warmup + 1}",
            f"    return {rate} if epoch == {warmup} else rate"]


def callback_lines(plan: RatePlan) -> list[str]:
    """The rate's callbacks in the callbacks list: a plateau schedule's, and its warm-up's."""
    if plan.lr_schedule != "plateau":
        return []
    settings = plan.settings
    minimum = f", min_lr={settings.lr_min!r}" if settings.lr_min > 0 else ""
    floor = f" (never below {settings.lr_min!r})" if settings.lr_min > 0 else ""
    return (["    keras.callbacks.LearningRateScheduler(warm_up),"] if plan.warmup else []) + [
        f"    # rate × {settings.lr_decay_factor!r} after "
        f"{_count(settings.lr_plateau_patience, 'epoch')} without validation loss falling by "
        f"{PLATEAU_MIN_DELTA:g}{floor}",
        f'    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", '
        f"factor={settings.lr_decay_factor!r}, patience={settings.lr_plateau_patience}"
        f"{minimum}),"]
