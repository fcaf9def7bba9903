"""Compile and fit: Adam, an optional cosine schedule, early stopping and a best checkpoint."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import artifacts
from helpers.backend import GPUS, keras

LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainingResult:
    """What fit() produced, in the form later steps and reports need."""

    history: pd.DataFrame
    train_seconds: float
    epochs_run: int
    best_epoch: int


def set_global_seed(seed: int) -> None:
    """Seed Python, numpy and TensorFlow from the one `seed` parameter."""
    keras.utils.set_random_seed(int(seed))


def learning_rate_schedule(
    learning_rate: float, schedule: str, total_steps: int,
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """A constant rate, or cosine decay from `learning_rate` to zero over all training steps."""
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if schedule == "constant":
        return learning_rate
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate,
                                                      decay_steps=max(total_steps, 1))
    raise ValueError(
        f"lr_schedule={schedule!r} is not known; valid values: {', '.join(LR_SCHEDULES)}")


def compile_model(model: keras.Model, learning_rate: float, lr_schedule: str,
                  steps_per_epoch: int, epochs: int, label_encoding: str) -> keras.Model:
    """Compile with Adam and the cross-entropy that matches the label encoding."""
    rate = learning_rate_schedule(learning_rate, lr_schedule, steps_per_epoch * epochs)
    loss = ("sparse_categorical_crossentropy" if label_encoding == "sparse"
            else "categorical_crossentropy")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss=loss,
                  metrics=["accuracy"])
    return model


class EpochLine(keras.callbacks.Callback):
    """Prints one line per epoch (no per-batch progress bar): losses, accuracies, seconds."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        figures = "  ".join(f"{name} {logs[name]:.4f}" for name in
                            ("loss", "accuracy", "val_loss", "val_accuracy") if name in logs)
        print(f"epoch {epoch + 1:>3}/{self.epochs}  {figures}  "
              f"{time.perf_counter() - self._started:5.1f} s", flush=True)


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever validation loss improves, atomically (never a half-written file)."""

    def __init__(self, path: str | Path, monitor: str = "val_loss") -> None:
        super().__init__()
        self.path = Path(path)
        self.monitor = monitor
        self.best = math.inf

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            self.best = float(value)
            artifacts.save_with(self.path, lambda temporary: self.model.save(temporary))


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops with an error (not silently, like TerminateOnNaN) when the loss becomes NaN or inf."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise FloatingPointError(
                f"training loss became {float(loss)} at batch {batch}: lower learning_rate "
                "or check the input data"
            )


def fit(model: keras.Model, train_images: np.ndarray, train_labels: np.ndarray,
        val_images: np.ndarray, val_labels: np.ndarray, batch_size: int, epochs: int,
        early_stopping_patience: int, checkpoint_path: str | Path) -> TrainingResult:
    """Train on the training split, select on the validation split, restore the best weights."""
    if batch_size < 1 or epochs < 1:
        raise ValueError(f"batch_size and epochs must be positive, got {batch_size} and {epochs}")
    callbacks = [
        EpochLine(epochs),
        StopOnNonFiniteLoss(),
        BestCheckpoint(checkpoint_path),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=early_stopping_patience,
                                      restore_best_weights=True),
    ]
    started = time.perf_counter()
    history = model.fit(train_images, train_labels, batch_size=batch_size, epochs=epochs,
                        validation_data=(val_images, val_labels), callbacks=callbacks,
                        shuffle=True, verbose=0)
    train_seconds = time.perf_counter() - started
    table = pd.DataFrame(history.history)
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    best_epoch = int(table["val_loss"].idxmin()) + 1
    return TrainingResult(table, train_seconds, len(table), best_epoch)


def available_gpus() -> list[str]:
    """Names of the GPUs TensorFlow will train on (empty: the CPU)."""
    return list(GPUS)
