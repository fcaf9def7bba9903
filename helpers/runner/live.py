"""Training's epochs shown in the terminal as they finish, while 04_train's kernel runs.

The kernel appends each finished epoch to logs/epochs.jsonl (helpers.training.progress); a thread
here reads the new lines every half second and prints them with the time left. Plain lines
only, no control characters, so CI logs and pipes read the same as a terminal.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

POLL_SECONDS = 0.5
INDENT = " " * 6
# The figures helpers.training.progress writes (callbacks.EPOCH_FIGURES; that module imports TF).
FIGURES = ("loss", "accuracy", "val_loss", "val_accuracy")


def time_left(seconds: float) -> str:
    """'45 s', '3 min 05 s' or '1 h 02 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def epoch_line(epoch: dict[str, Any], seconds_so_far: list[float]) -> str:
    """One epoch as the runner prints it, with an estimate of the time the rest will take."""
    figures = "  ".join(f"{name} {epoch[name]:.4f}" for name in FIGURES if name in epoch)
    remaining = epoch["epochs"] - epoch["epoch"]
    mean = sum(seconds_so_far) / len(seconds_so_far)
    # "at most": early stopping may end the run before its last epoch.
    left = f"at most {time_left(remaining * mean)} left" if remaining else "last epoch"
    rate = f"  lr {epoch['learning_rate']:.3g}" if "learning_rate" in epoch else ""
    return (f"{INDENT}{time.strftime('%H:%M:%S')}  epoch {epoch['epoch']:>3}/{epoch['epochs']}"
            f"  {figures}{rate}  {epoch['seconds']:.1f} s  {left}")


class EpochTail:
    """While open, prints each line a step appends to the epoch log; counts what it printed."""

    def __init__(self, path: Path, log: Callable[..., None]) -> None:
        self.path = path
        self.log = log
        self.lines_shown = 0
        self._offset = 0
        self._seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> EpochTail:
        # A resumed run's earlier epochs are already in the file: show only new ones.
        self._offset = self.path.stat().st_size if self.path.is_file() else 0
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._show_new_lines()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self._show_new_lines()

    def _show_new_lines(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path, encoding="utf-8") as handle:
            handle.seek(self._offset)
            text = handle.read()
        complete = text[: text.rfind("\n") + 1]  # a line still being written waits
        self._offset += len(complete.encode("utf-8"))
        for raw in complete.splitlines():
            epoch = json.loads(raw)
            if not self.lines_shown:
                self.log("")  # the step's label line was printed without its end
            self._seconds.append(epoch["seconds"])
            self.log(epoch_line(epoch, self._seconds))
            self.lines_shown += 1
