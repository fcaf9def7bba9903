"""What training shows outside its notebook while it runs: epoch lines and TensorBoard files.

The runner executes 04_train in a Jupyter kernel whose output arrives only when the cell
ends, so each finished epoch is also appended to logs/epochs.jsonl, which the runner reads
as it grows; TensorBoard's own callback writes the curves for `tensorboard --logdir`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from helpers import artifacts
from helpers.backend import keras
from helpers.training.callbacks import EPOCH_FIGURES, EpochLine


class EpochLog(EpochLine):
    """Appends one JSON line per finished epoch: its figures, seconds and the planned epochs."""

    def __init__(self, path: str | Path, epochs: int) -> None:
        super().__init__(epochs)  # the epoch's timing; this writes instead of printing
        self.path = Path(path)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        line = {"epoch": epoch + 1, "epochs": self.epochs,
                "seconds": round(time.perf_counter() - self._started, 2),
                **{name: float(logs[name]) for name in (*EPOCH_FIGURES, "learning_rate")
                   if name in logs}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Appended and flushed line by line: a reader sees whole lines or nothing new.
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")


def callbacks(run_dir: str | Path, epochs: int) -> list[keras.callbacks.Callback]:
    """The epoch log the runner shows and TensorBoard's event files, both in the run directory."""
    return [EpochLog(artifacts.artifact_path(run_dir, artifacts.EPOCH_LOG), epochs),
            keras.callbacks.TensorBoard(
                log_dir=str(artifacts.artifact_path(run_dir, artifacts.TENSORBOARD_DIR)),
                write_graph=False, profile_batch=0)]
