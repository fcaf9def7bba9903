"""A sweep's worker: takes queued points one after another and runs each as an ordinary run.

Several workers (processes, or machines sharing a storage) run the same loop; Optuna's
queue hands each point to one of them (helpers.runner.sweep_trials).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from helpers.runner import execute, leaderboard
from helpers.runner import sweep_trials as trials
from helpers.runner.sweep_grid import SweepPoint

Log = Callable[..., None]


def echo(text: str = "", end: str = "\n") -> None:
    """Print at once: a sweep's lines come from several processes."""
    print(text, end=end, flush=True)


@dataclass(frozen=True)
class SweepSpec:
    """Everything a worker needs to run a sweep's points (it is sent to worker processes)."""

    name: str
    sweep_dir: Path
    storage: str | None
    points: tuple[SweepPoint, ...]
    to_step: str = execute.NOTEBOOKS[-1]
    notebooks_dir: Path = execute.NOTEBOOKS_DIR
    cell_timeout: float | None = None


def work(spec: SweepSpec, log: Log) -> None:
    """Take WAITING trials one after another and run their points, until none is left."""
    storage = trials.open_storage(spec.storage, spec.sweep_dir)
    study = trials.open_study(storage, spec.name)
    while (trial := trials.next_trial(study, storage, spec.storage)) is not None:
        run_point(study, storage, trial, spec, log)


def run_point(study: optuna.Study, storage: optuna.storages.BaseStorage,
              trial: optuna.Trial, spec: SweepSpec, log: Log) -> None:
    """Run one point's notebooks into its run directory and report its validation accuracy."""
    point = {point.name: point for point in spec.points}[trial.user_attrs[trials.POINT]]
    duplicate = trials.duplicate_of(study, trial)
    if duplicate is not None:  # enqueued twice by commands started at the same moment
        trial.set_user_attr(trials.FAILURE, f"duplicate of trial {duplicate}")
        study.tell(trial, state=TrialState.FAIL)
        return
    for name in trials.point_parameters(point):
        trial.suggest_categorical(name, choices(spec.points, name))
    point_log = PointLog(point.name, spec.sweep_dir / "logs" / f"{point.name}.log", log)
    point_log(f"trial {trial.number} started on {socket.gethostname()} by process "
              f"{trials.this_worker()['pid']} at {datetime.now(timezone.utc):%H:%M:%S} UTC")
    started = time.perf_counter()
    try:
        with trials.heartbeat(storage, trials.trial_id(storage, study, trial.number)):
            run_dir = execute.run(point.parameters_file, point.overrides,
                                  spec.sweep_dir / point.name, spec.notebooks_dir,
                                  spec.cell_timeout, to_step=spec.to_step, log=point_log,
                                  comparisons=False)  # a sweep's point is one run
        result = leaderboard.run_result(run_dir)
    except Exception as error:  # noqa: BLE001 - one failed point must not stop the others
        point_log(f"trial {trial.number} failed: {error}")
        trial.set_user_attr(trials.FAILURE, str(error)[:2000])
        study.tell(trial, state=TrialState.FAIL)
        return
    for key, value in {**asdict(result), "run_dir": str(run_dir),
                       "seconds": round(time.perf_counter() - started, 1)}.items():
        trial.set_user_attr(key, value)
    # The objective is validation accuracy: the test set never takes part in a choice.
    study.tell(trial, result.validation_accuracy)
    point_log(f"trial {trial.number} finished in {time.perf_counter() - started:.1f} s: "
              f"validation accuracy {result.validation_accuracy:.4f}")


def choices(points: Sequence[SweepPoint], name: str) -> list[Any]:
    """Every value a swept parameter takes across the points, in order (Optuna's choices)."""
    values: dict[tuple[type, Any], Any] = {}  # keyed by type too: True == 1 in Python
    for point in points:
        value = trials.point_parameters(point)[name]
        values.setdefault((type(value), value), value)
    return list(values.values())


class PointLog:
    """A point's progress lines, prefixed with its name on the terminal and kept in its log."""

    def __init__(self, name: str, path: Path, echo: Log) -> None:
        self._prefix, self._path, self._echo, self._partial = f"[{name}] ", path, echo, ""
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, text: str = "", end: str = "\n") -> None:
        # Whole lines only: several workers share the terminal.
        self._partial += text + end
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._echo(self._prefix + line)
            with open(self._path, "a", encoding="utf-8") as file:
                file.write(line + "\n")
