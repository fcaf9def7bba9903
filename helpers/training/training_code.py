"""This run's training as plain Keras code (compile, then fit), to read after 03's model code.

helpers.training.fitting trains with its own input pipeline and callbacks, which add atomic
checkpoints and resuming after an interruption. What they compute is plain Keras: the run's
optimizer and learning-rate schedule (helpers.training.optimizers), a cross-entropy loss, early
stopping and a best checkpoint on the monitored figure. This module writes that as the code a
student would write, with the run's settings and only the arguments that differ from Keras's
defaults, so a reader can repeat the training without the helpers.

The training is the same, but the random draws are not. Keras's random layers shift by
fractions of a pixel and resample once per layer, where helpers.data.input_pipeline shifts by
whole pixels and rotates and zooms in one resampling. RandomErasing draws the area of each
side rather than its length, over the same range.
"""

from __future__ import annotations

from typing import get_args

from helpers.data.input_pipeline import Augmentation
from helpers.parameters import LR_SCHEDULES, LabelEncoding
from helpers.parameters.optimization import (
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_STOPPING,
    MONITOR_WORDS,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
)
from helpers.training import training_code_rates as rates

CHECKPOINT_FILE = "best.keras"
# RandomErasing draws each side's share of the image as the square root of a number in this
# range: a tenth to a third of each side, as helpers.data.input_pipeline.erase_batch erases.
ERASED_AREA = (0.01, 0.11)


def training_source(*, learning_rate: float, lr_schedule: str, steps_per_epoch: int,
                    epochs: int, batch_size: int, label_encoding: str, label_smoothing: float,
                    ema_momentum: float, early_stopping_patience: int,
                    augmentation: Augmentation, num_classes: int,
                    optimizer: OptimizerSettings = DEFAULT_OPTIMIZER,
                    schedule: ScheduleSettings = DEFAULT_SCHEDULE,
                    stopping: StoppingSettings = DEFAULT_STOPPING) -> str:
    """Python source that compiles and fits `model` as this run's training does."""
    _check(lr_schedule, label_encoding, steps_per_epoch=steps_per_epoch, epochs=epochs,
           batch_size=batch_size, num_classes=num_classes)
    lines = ["import keras"]
    if augmentation.active:
        lines.append("from keras import layers")
    lines += ["", "# x_train, y_train: the training images and labels; "
              "x_val, y_val: the validation ones."]
    lines += _label_lines(label_encoding, label_smoothing, num_classes)
    lines += _augmentation_lines(augmentation)
    plan = rates.RatePlan(learning_rate, lr_schedule, steps_per_epoch, epochs, schedule)
    lines += rates.rate_lines(plan)
    lines += _compile_lines(rates.rate_name(plan), optimizer, label_encoding, label_smoothing,
                            ema_momentum)
    lines += _fit_lines(batch_size, epochs, ema_momentum, early_stopping_patience, stopping,
                        rates.callback_lines(plan))
    return "\n".join(lines) + "\n"


def _check(lr_schedule: str, label_encoding: str, **counts: int) -> None:
    """Refuse settings the code could not express, naming the parameter."""
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule={lr_schedule!r} is not known; valid values: "
                         f"{', '.join(LR_SCHEDULES)}")
    if label_encoding not in get_args(LabelEncoding):
        raise ValueError(f"label_encoding={label_encoding!r} is not known; valid values: "
                         f"{', '.join(get_args(LabelEncoding))}")
    for name, count in counts.items():
        if count < 1:
            raise ValueError(f"{name}={count!r}: expected a whole number of at least 1")


def _label_lines(label_encoding: str, label_smoothing: float, num_classes: int) -> list[str]:
    """One-hot labels where label smoothing needs them and they are not one-hot yet."""
    if label_encoding != "sparse" or label_smoothing <= 0:
        return []
    return ["",
            "# Label smoothing needs one-hot labels: Keras's sparse loss cannot smooth.",
            f"y_train = keras.utils.to_categorical(y_train, {num_classes})",
            f"y_val = keras.utils.to_categorical(y_val, {num_classes})"]


def _augmentation_lines(augmentation: Augmentation) -> list[str]:
    """Keras's random image layers in front of the network, or nothing when all are off."""
    if not augmentation.active:
        return []
    shift, degrees, zoom, erase = (augmentation.shift, augmentation.rotation,
                                   augmentation.zoom, augmentation.erase)
    calls = []
    if augmentation.flip:
        calls.append('layers.RandomFlip("horizontal"),  # a mirror image, half the time')
    if shift > 0:
        calls.append(f'layers.RandomTranslation({shift:g}, {shift:g}, fill_mode="constant"),'
                     f"  # move up to {shift:.0%}")
    if degrees > 0:
        calls.append(f'layers.RandomRotation({degrees:g} / 360, fill_mode="constant"),'
                     f"  # up to {degrees:g} degrees either way")
    if zoom > 0:
        calls.append(f'layers.RandomZoom({zoom:g}, fill_mode="constant"),'
                     f"  # in or out up to {zoom:.0%}")
    if erase > 0:
        calls += [f"# black out a rectangle, a tenth to a third of each side, in {erase:.0%} "
                  "of the images",
                  f"layers.RandomErasing(factor=({erase:g}, {erase:g}), "
                  f"scale={ERASED_AREA!r}, fill_value=0),"]
    moves = shift > 0 or degrees > 0 or zoom > 0
    return ["",
            "# Augmentation: random changes to the training images, new ones every epoch.",
            "# Keras's random layers act only while training: validation and test images",
            "# pass through unchanged." + (" Uncovered pixels are filled with black."
                                           if moves else ""),
            "augmentation = keras.Sequential([",
            *(f"    {call}" for call in calls),
            "])",
            "model = keras.Sequential([augmentation, model])  # then the network above"]


def _compile_lines(rate: str, optimizer: OptimizerSettings, label_encoding: str,
                   label_smoothing: float, ema_momentum: float) -> list[str]:
    """model.compile with the run's optimizer and the loss; `rate` is the rate's source text."""
    arguments = [f"learning_rate={rate}"]
    if optimizer.momentum > 0:
        arguments.append(f"momentum={optimizer.momentum!r}")
    if optimizer.nesterov:
        arguments.append("nesterov=True")
    if optimizer.weight_decay > 0:
        arguments.append(f"weight_decay={optimizer.weight_decay!r}")
    if ema_momentum > 0:
        arguments += ["use_ema=True", f"ema_momentum={ema_momentum!r}"]
    smoothing = f"label_smoothing={label_smoothing!r}" if label_smoothing > 0 else ""
    loss = ("SparseCategoricalCrossentropy" if label_encoding == "sparse" and not smoothing
            else "CategoricalCrossentropy")
    lines = [""]
    if ema_momentum > 0:
        lines.append(f"# {optimizer.keras_name} keeps a moving average of the weights, which "
                     "validation and the saved model use.")
    return lines + ["model.compile(",
                    f"    optimizer=keras.optimizers.{optimizer.keras_name}("
                    f"{', '.join(arguments)}),",
                    f"    loss=keras.losses.{loss}({smoothing}),",
                    '    metrics=["accuracy"],',
                    ")"]


def _fit_lines(batch_size: int, epochs: int, ema_momentum: float,
               early_stopping_patience: int, stopping: StoppingSettings,
               rate_callbacks: list[str]) -> list[str]:
    """The callbacks, then model.fit on the training split, validated on the validation split."""
    ema = (["    keras.callbacks.SwapEMAWeights(swap_on_epoch=True),  "
            "# validate and keep the average"] if ema_momentum > 0 else [])
    monitor = stopping.early_stopping_monitor
    _, figure, best = MONITOR_WORDS[monitor]
    patience = max(early_stopping_patience, 1)  # Keras stops at the first worse epoch for 0 too
    if patience < epochs - 1:
        stopping_line = (f"# Stop after {_count(patience, 'epoch')} without {figure};"
                         if patience > 1 else f"# Stop at the first epoch without {figure};")
    else:  # the wait would end at the last epoch or later
        stopping_line = (f"# All {_count(epochs, 'epoch')} run (a patience of "
                         f"{early_stopping_patience} cannot stop them early);")
    kept = ([f"# keep the model of the epoch with the {best} ({CHECKPOINT_FILE})."]
            if stopping.restore_best_weights else
            [f"# save the model of the epoch with the {best} ({CHECKPOINT_FILE}),",
             "# but keep the last epoch's weights (restore_best_weights is off)."])
    restore = ", restore_best_weights=True" if stopping.restore_best_weights else ""
    return ["",
            stopping_line,
            *kept,
            "callbacks = [",
            *ema,
            *rate_callbacks,
            f'    keras.callbacks.EarlyStopping(monitor="{monitor}", '
            f"patience={early_stopping_patience}{restore}),",
            f'    keras.callbacks.ModelCheckpoint("{CHECKPOINT_FILE}", monitor="{monitor}", '
            "save_best_only=True),",
            "]",
            "history = model.fit(",
            "    x_train, y_train,",
            "    validation_data=(x_val, y_val),",
            f"    batch_size={batch_size},",
            f"    epochs={epochs},",
            "    callbacks=callbacks,",
            ")"]


def _count(number: int, noun: str) -> str:
    """'1 epoch', '6 epochs'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
