"""The optimizer, the learning-rate schedule and early stopping of a run, in words: 04's
settings sentences (narrative.training_settings), the report's settings rows
(report_settings) and the curve reading (curve_diagnosis) name them from here, so every
sentence names the run's own optimizer and schedule.

Each function takes the settings of helpers.parameters.optimization, which a run's
parameters and its training.json both give (`OptimizerSettings.of(record)`).
"""

from __future__ import annotations

from helpers import wording
from helpers.parameters.optimization import (
    MONITOR_WORDS,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
    epoch_rates,
    warmup_rates,
)

# Keras's default learning rate of each optimizer, which a sentence may point out.
KERAS_DEFAULT_RATES = {"adam": 0.001, "adamw": 0.001, "rmsprop": 0.001, "sgd": 0.01}
# What each schedule is called in a sentence ("the step decay had brought the rate ...").
SCHEDULE_NAMES = {"constant": "the constant rate", "cosine": "the cosine schedule",
                  "step": "the step decay", "exponential": "the exponential decay",
                  "plateau": "the plateau schedule"}
# Keras's ReduceLROnPlateau counts an epoch as no better unless the loss falls by this much.
PLATEAU_MIN_DELTA = 1e-4


def rate(value: float) -> str:
    """A rate other than the run's initial one, to three figures: 0.0167, 0.00025."""
    return wording.number(float(f"{value:.3g}"))


def optimizer_name(settings: OptimizerSettings) -> str:
    """The optimizer as the settings table names it: 'SGD with Nesterov momentum 0.9'."""
    name = settings.keras_name
    if settings.momentum > 0:
        name += f" with {'Nesterov ' if settings.nesterov else ''}momentum {settings.momentum:g}"
    if settings.weight_decay > 0:
        name += f"{',' if settings.momentum > 0 else ''} with weight decay " \
                f"{settings.weight_decay:g}"
    return name


def optimizer_sentence(settings: OptimizerSettings, learning_rate: float) -> str:
    """What the optimizer does with each step, at this run's rate."""
    start = f"at a learning rate of **{wording.number(learning_rate)}**"
    default = KERAS_DEFAULT_RATES[settings.optimizer]
    keras_default = (f" ({wording.number(default)} is Keras's default for "
                     f"{settings.keras_name})") if learning_rate == default else ""
    momentum, decay = settings.momentum, settings.weight_decay
    if settings.optimizer in ("adam", "adamw"):
        line = (f"**{settings.keras_name}** {start}: it adapts the step size of every weight "
                "from running averages of its gradients, so it needs little tuning")
    elif settings.optimizer == "rmsprop":
        line = (f"**RMSprop** {start}: it divides each weight's step by a running average "
                "of its recent squared gradients, so weights with large gradients take "
                "smaller steps")
    elif momentum > 0:
        line = (f"**SGD** (stochastic gradient descent) {start}: each step moves the weights "
                "against the batch's gradient, times the rate")
    else:
        line = (f"**SGD** (stochastic gradient descent) {start}: each step moves every weight "
                "against the batch's gradient, times the rate, the same rate for every weight, "
                "so the rate matters more than for an optimizer that adapts it per weight")
    line += keras_default + "."
    if momentum > 0:
        line += (f" **{'Nesterov m' if settings.nesterov else 'M'}omentum {momentum:g}**: the "
                 f"step follows a running sum of past gradients, each weighing {momentum:g} "
                 "times the one after it, which smooths the noise of single batches and "
                 "speeds progress along steady directions"
                 + ("; Nesterov's form takes the gradient where that momentum is about to "
                    "carry the weights, correcting an overshoot a step earlier."
                    if settings.nesterov else "."))
    if decay > 0:
        line += (f" **Weight decay {decay:g}**, decoupled from the gradient: every step also "
                 f"shrinks each weight by rate × {decay:g} of itself, which keeps the weights "
                 "small, a regularizer.")
    return line


def first_epochs(count: int) -> str:
    """'the first epoch', 'the first 3 epochs'."""
    return "the first epoch" if count == 1 else f"the first {count} epochs"


def _warmup_sentence(learning_rate: float, lr_schedule: str, warmup: int) -> str:
    rising = (f"step by step over {first_epochs(warmup)}, from zero to "
              f"{wording.number(learning_rate)}" if lr_schedule == "cosine" else
              f"epoch by epoch over {first_epochs(warmup)} ("
              + ", ".join(rate(value) for value in warmup_rates(learning_rate, warmup))
              + f", then {wording.number(learning_rate)})")
    return (f"A **warm-up** raises the rate {rising}: a new network's first steps are its "
            "least reliable, so they are kept small; the schedule starts when it ends.")


def schedule_sentences(learning_rate: float, lr_schedule: str, epochs: int,
                       settings: ScheduleSettings) -> list[str]:
    """The schedule (and any warm-up) of this run, with its own rates and epochs."""
    warmup = settings.lr_warmup_epochs
    lines = [_warmup_sentence(learning_rate, lr_schedule, warmup)] if warmup else []
    after = epochs - warmup
    start = wording.number(learning_rate)
    factor = f"{settings.lr_decay_factor:g}"
    if lr_schedule == "cosine":
        lines.append(f"A **cosine schedule** lowers the rate smoothly from {start} to zero over "
                     f"the {after if warmup else epochs} {'remaining' if warmup else 'planned'} "
                     "epochs: big steps early, small steps at the end to settle. In the last "
                     "epochs the steps are tiny, so the curves flatten there by design.")
    elif lr_schedule == "constant":
        lines.append(f"The rate stays at {start} for all {epochs} epochs (no schedule)."
                     if not warmup else f"The rate then stays at {start} (no schedule).")
    elif lr_schedule == "plateau":
        floor = (f", never below {rate(settings.lr_min)}" if settings.lr_min > 0 else "")
        lines.append(f"A **plateau schedule** (Keras's ReduceLROnPlateau) multiplies the rate by "
                     f"{factor} each time validation loss has gone "
                     f"{wording.plural(settings.lr_plateau_patience, 'epoch')} without falling "
                     f"by at least {PLATEAU_MIN_DELTA:g}{floor}: the rate is cut only when "
                     "progress stalls, and the learning-rate panel of the curves shows when.")
    else:
        planned = epoch_rates(learning_rate, lr_schedule, epochs, settings)[warmup:]
        every = (f"every {wording.plural(settings.lr_decay_epochs, 'epoch')}"
                 if lr_schedule == "step" else "every epoch")
        name = "A **step decay**" if lr_schedule == "step" else "An **exponential decay**"
        lines.append(f"{name} multiplies the rate by {factor} {every}: "
                     f"{start} at first, {rate(planned[-1])} in the last planned epoch "
                     f"(epoch {epochs}). Large steps early, ever smaller ones later.")
    return lines


def schedule_text(learning_rate: float, lr_schedule: str, epochs: int,
                  settings: ScheduleSettings) -> str:
    """The rate and its schedule in a few words, for the report's settings table."""
    start, factor = f"{learning_rate:g}", f"{settings.lr_decay_factor:g}"
    warmup = settings.lr_warmup_epochs
    after = epochs - warmup
    text = {"cosine": f"decayed to 0 along a cosine over the {after} "
                      f"{'remaining' if warmup else 'planned'} epochs",
            "constant": "constant",
            "step": f"× {factor} every {wording.plural(settings.lr_decay_epochs, 'epoch')}",
            "exponential": f"× {factor} every epoch",
            "plateau": f"× {factor} after {wording.plural(settings.lr_plateau_patience, 'epoch')}"
                       " without a lower validation loss (ReduceLROnPlateau"
                       + (f", at least {settings.lr_min:g})" if settings.lr_min > 0 else ")"),
            }[lr_schedule]
    if not warmup:
        return (f"{start}, constant" if lr_schedule == "constant"
                else f"{start} at the start, {text}")
    return f"{start} after a linear warm-up over {first_epochs(warmup)}, then {text}"


def stopping_sentence(stopping: StoppingSettings, patience: int, epochs: int) -> str:
    """What early stopping watches and which weights the run keeps."""
    figure, better, best = MONITOR_WORDS[stopping.early_stopping_monitor]
    waited = max(patience, 1)  # Keras stops at the first epoch without improvement for 0 too
    wait = (f"training ends after {wording.plural(waited, 'epoch')} without {better}"
            if waited < epochs - 1 else
            f"its patience of {patience} cannot end the {epochs} planned epochs early")
    kept = (f"the saved model has the weights of the epoch with the {best}"
            if stopping.restore_best_weights else
            f"the epoch with the {best} is saved as the best checkpoint, but the saved "
            "model keeps the last epoch's weights, as the run's settings ask")
    return f"**Early stopping** watches {figure}: {wait}; {kept}."
