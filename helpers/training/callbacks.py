"""fit()'s own callbacks: one line per epoch, an atomic best checkpoint, a backup to resume
from, a clear error on a non-finite loss, and early stopping that survives a resume.

The best checkpoint and early stopping watch the same figure (early_stopping_monitor:
validation loss or accuracy); the rate callbacks are helpers.training.optimizers'."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.backend import keras

BACKUP_STATE = "state.json"
IMPROVES = {"min": lambda value, best: value < best, "max": lambda value, best: value > best}


EPOCH_FIGURES = ("loss", "accuracy", "val_loss", "val_accuracy")  # shown for every epoch


# Ours: Keras's verbose=2 prints two lines per epoch with ms/step; the report wants one line.
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
        figures = "  ".join(f"{name} {logs[name]:.4f}" for name in EPOCH_FIGURES
                            if name in logs)
        if "learning_rate" in logs:
            figures += f"  lr {logs['learning_rate']:.3g}"
        print(f"epoch {epoch + 1:>3}/{self.epochs}  {figures}  "
              f"{time.perf_counter() - self._started:5.1f} s", flush=True)


# Ours, not ModelCheckpoint: Keras's writes best.keras in place, so a kill mid-save leaves a
# truncated file (keras/src/saving/saving_lib.py save_model; test_callbacks_checkpoints.py).
class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever the monitored figure improves, atomically (never a
    half-written file).

    `best` starts from the best value of an interrupted run, so a resumed run never replaces
    the checkpoint with a worse model.
    """

    def __init__(self, path: str | Path, best: float | None = None,
                 monitor: str = "val_loss", mode: str = "min") -> None:
        super().__init__()
        self.path = Path(path)
        self.monitor = monitor
        self.improves = IMPROVES[mode]
        self.best = (math.inf if mode == "min" else -math.inf) if best is None else best

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and self.improves(value, self.best):
            artifacts.save_with(self.path, lambda temporary: self.model.save(temporary))
            self.best = float(value)


# Ours, not BackupAndRestore (which does restore the epoch and the optimizer's state): it
# overwrites latest.weights.h5 in place, so a kill mid-save leaves no backup to resume from.
class EpochBackup(keras.callbacks.Callback):
    """After every epoch, saves what resuming needs: weights with the optimizer's state, the
    epoch, the history so far, the seconds trained, the best monitored value and the state of
    the callbacks that keep one (`resumable`: backup_key and backup_state()).

    The weights go to a new file per epoch and state.json, written atomically afterwards,
    names it: a kill at any moment leaves a state.json that points at complete weights.
    It must come before SwapEMAWeights, which swaps the weight average into the model at an
    epoch's end: the backup holds the trained weights and the average where they belong; and
    after the resumable callbacks, whose state it saves as that epoch left it.
    """

    def __init__(self, backup_dir: Path, history_rows: list[dict], seconds_before: float,
                 best: float, monitor: str = "val_loss", mode: str = "min",
                 resumable: Sequence[keras.callbacks.Callback] = ()) -> None:
        super().__init__()
        self.backup_dir = backup_dir
        self.rows = list(history_rows)
        self.seconds_before = seconds_before
        self.best = best
        self.monitor = monitor
        self.improves = IMPROVES[mode]
        self.resumable = list(resumable)
        self._started = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {name: float(value) for name, value in (logs or {}).items()}
        self.rows.append({"epoch": epoch + 1, **row})
        # Recorded before the best checkpoint is saved: after a kill between the two, the
        # resumed run may miss this improvement but never replaces it with a worse model.
        value = row.get(self.monitor)
        if value is not None and self.improves(value, self.best):
            self.best = value
        weights = f"epoch-{epoch + 1:04d}.weights.h5"
        artifacts.save_with(self.backup_dir / weights, self.model.save_weights)
        artifacts.write_json(self.backup_dir / BACKUP_STATE, {
            "epoch": epoch + 1, "weights": weights, "history": self.rows,
            "train_seconds": self.train_seconds(), "monitor": self.monitor, "best": self.best,
            "callbacks": {callback.backup_key: callback.backup_state()
                          for callback in self.resumable},
        })
        for older in self.backup_dir.glob("epoch-*.weights.h5"):
            if older.name != weights:
                older.unlink()

    def train_seconds(self) -> float:
        """Seconds trained so far, across interruptions."""
        return self.seconds_before + time.perf_counter() - self._started


# Ours, not TerminateOnNaN(raise_error=True), whose error does not say what to change.
class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops with an error (not silently, like TerminateOnNaN) when the loss becomes NaN or inf."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise FloatingPointError(
                f"training loss became {float(loss)} at batch {batch}: lower learning_rate "
                "or check the input data"
            )


# Keras's EarlyStopping forgets at on_train_begin how long the figure has not improved, so a
# resumed run would wait `patience` epochs afresh after the interruption. Its
# restore_best_weights stays off: fit() loads the best checkpoint from disk instead, which
# also holds a best epoch from before an interruption (Keras's copy in memory would not).
class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that goes on counting from an interrupted run's epochs."""

    def __init__(self, patience: int, history_rows: Sequence[dict] = (),
                 monitor: str = "val_loss", mode: str = "min") -> None:
        super().__init__(monitor=monitor, mode=mode, patience=patience)
        self.history_rows = list(history_rows)

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        values = monitored_values(self.history_rows, self.monitor)
        if values:
            self.best = max(values) if self.mode == "max" else min(values)
            self.wait = epochs_since_best(values, self.mode)


def monitored_values(history_rows: Sequence[dict], monitor: str = "val_loss") -> list[float]:
    """The monitored figure of each epoch of a backed-up history that has one."""
    return [row[monitor] for row in history_rows if monitor in row]


def epochs_since_best(values: Sequence[float], mode: str = "min") -> int:
    """Epochs after the first best value: EarlyStopping's count of epochs without improvement."""
    best = np.argmax(values) if mode == "max" else np.argmin(values)
    return len(values) - 1 - int(best)
