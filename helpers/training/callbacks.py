"""fit()'s own callbacks: one line per epoch, an atomic best checkpoint, a backup to resume
from, a clear error on a non-finite loss, and early stopping that survives a resume."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.backend import keras

BACKUP_STATE = "state.json"


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
        print(f"epoch {epoch + 1:>3}/{self.epochs}  {figures}  "
              f"{time.perf_counter() - self._started:5.1f} s", flush=True)


# Ours, not ModelCheckpoint: Keras's writes best.keras in place, so a kill mid-save leaves a
# truncated file (keras/src/saving/saving_lib.py save_model; test_callbacks_checkpoints.py).
class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever validation loss improves, atomically (never a half-written file).

    `best` starts from the best loss of an interrupted run, so a resumed run never replaces
    the checkpoint with a worse model.
    """

    def __init__(self, path: str | Path, best: float = math.inf,
                 monitor: str = "val_loss") -> None:
        super().__init__()
        self.path = Path(path)
        self.monitor = monitor
        self.best = best

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            artifacts.save_with(self.path, lambda temporary: self.model.save(temporary))
            self.best = float(value)


# Ours, not BackupAndRestore (which does restore the epoch and the optimizer's state): it
# overwrites latest.weights.h5 in place, so a kill mid-save leaves no backup to resume from.
class EpochBackup(keras.callbacks.Callback):
    """After every epoch, saves what resuming needs: weights with the optimizer's state, the
    epoch, the history so far, the seconds trained and the best validation loss.

    The weights go to a new file per epoch and state.json, written atomically afterwards,
    names it: a kill at any moment leaves a state.json that points at complete weights.
    It must come before SwapEMAWeights, which swaps the weight average into the model at an
    epoch's end: the backup holds the trained weights and the average where they belong.
    """

    def __init__(self, backup_dir: Path, history_rows: list[dict], seconds_before: float,
                 best_val_loss: float) -> None:
        super().__init__()
        self.backup_dir = backup_dir
        self.rows = list(history_rows)
        self.seconds_before = seconds_before
        self.best_val_loss = best_val_loss
        self._started = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {name: float(value) for name, value in (logs or {}).items()}
        self.rows.append({"epoch": epoch + 1, **row})
        # Recorded before the best checkpoint is saved: after a kill between the two, the
        # resumed run may miss this improvement but never replaces it with a worse model.
        self.best_val_loss = min(self.best_val_loss, row.get("val_loss", math.inf))
        weights = f"epoch-{epoch + 1:04d}.weights.h5"
        artifacts.save_with(self.backup_dir / weights, self.model.save_weights)
        artifacts.write_json(self.backup_dir / BACKUP_STATE, {
            "epoch": epoch + 1, "weights": weights, "history": self.rows,
            "train_seconds": self.train_seconds(), "best_val_loss": self.best_val_loss,
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


# Keras's EarlyStopping forgets at on_train_begin how long validation loss has not improved,
# so a resumed run would wait `patience` epochs afresh after the interruption.
class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping on validation loss that goes on counting from an interrupted run's epochs."""

    def __init__(self, patience: int, history_rows: Sequence[dict] = ()) -> None:
        super().__init__(monitor="val_loss", patience=patience)
        self.history_rows = list(history_rows)

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        losses = validation_losses(self.history_rows)
        if losses:
            self.best = min(losses)
            self.wait = epochs_since_best(losses)


def validation_losses(history_rows: Sequence[dict]) -> list[float]:
    """The validation loss of each epoch of a backed-up history that has one."""
    return [row["val_loss"] for row in history_rows if "val_loss" in row]


def epochs_since_best(val_losses: Sequence[float]) -> int:
    """Epochs after the first lowest validation loss: EarlyStopping's count of no improvement."""
    return len(val_losses) - 1 - int(np.argmin(val_losses))
