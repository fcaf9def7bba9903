"""Sweeps: several parameter sets run as ordinary run directories under one sweep folder,
then compared in a leaderboard and a report.

    reports/sweeps/<name>/optuna.journal       the Optuna study (or a database: --storage)
    reports/sweeps/<name>/<point>/             one run directory per point
    reports/sweeps/<name>/logs/<point>.log     every line the point's runs printed
    reports/sweeps/<name>/leaderboard.csv      compare.ipynb, report.html: the comparison

Optuna schedules: each point is a trial, enqueued once and taken by one worker
(helpers.runner.sweep_trials). Running the same command again continues a stopped sweep:
finished points are kept, a point whose worker died is run again, and execute.run resumes
its half-finished run directory.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections.abc import Sequence
from pathlib import Path

import optuna
from optuna.trial import TrialState

from helpers import artifacts, parameters
from helpers.data.datasets import load_arguments
from helpers.parameters import ParameterError
from helpers.runner import compare, execute, leaderboard
from helpers.runner import sweep_trials as trials
from helpers.runner.exceptions import StepFailedError
from helpers.runner.sweep_grid import (
    SweepPoint,
    build_points,
    check_points,
    default_name,
    parse_grid,
)
from helpers.runner.sweep_worker import Log, SweepSpec, echo, work

SWEEPS_DIR = artifacts.PROJECT_ROOT / "reports" / "sweeps"
SWEEP_STEPS = execute.NOTEBOOKS[execute.NOTEBOOKS.index("05_evaluate"):]  # allowed --to


class SweepIncompleteError(StepFailedError):
    """Some points of a sweep did not finish; the message names them and why."""


def plan_sweep(files: Sequence[Path], grid_options: Sequence[str],
               overrides: Sequence[tuple[str, str]], name: str | None = None,
               sweep_dir: Path | None = None, storage: str | None = None,
               to_step: str | None = None, notebooks_dir: Path = execute.NOTEBOOKS_DIR,
               cell_timeout: float | None = None) -> SweepSpec:
    """The sweep's points, every one checked (parameters and data) before anything runs."""
    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name):
        raise ParameterError(f"--name {name!r}: use letters, digits, '.', '_', '+' and '-'")
    if to_step is not None and to_step not in SWEEP_STEPS:
        raise ParameterError(f"--to {to_step}: a sweep runs at least to 05_evaluate, whose "
                             f"test figures the leaderboard shows; one of {SWEEP_STEPS}")
    grid = parse_grid(grid_options)
    files = [Path(file) for file in files]
    points = build_points(files, grid, overrides)
    checked = check_points(points, grid)
    if storage and "://" in storage:  # a missing driver, a server not there: named at once
        trials.open_storage(storage, Path())
    check_datasets(checked)
    name = name or default_name(files, grid)
    if sweep_dir is None:
        sweep_dir = leaderboard.ignored_by_git(SWEEPS_DIR) / name
    return SweepSpec(name, sweep_dir.resolve(), storage, tuple(points),
                     to_step or execute.NOTEBOOKS[-1], notebooks_dir.resolve(), cell_timeout)


def check_datasets(checked: Sequence[parameters.RunParameters]) -> None:
    """Load each distinct dataset the points use once, so bad data fails before any run."""
    seen = set()
    for values in checked:
        key = tuple(str(value) for value in load_arguments(values).values())
        if key not in seen:
            seen.add(key)
            execute.check_dataset(values)


def prepare(spec: SweepSpec, log: Log) -> optuna.Study:
    """Open the study, recover trials of dead workers and enqueue every point not yet done."""
    storage = trials.open_storage(spec.storage, spec.sweep_dir)
    study = trials.open_study(storage, spec.name)
    trials.check_definition(study, spec.points, spec.to_step)
    for trial in trials.fail_stale_trials(study, storage):
        log(f"point {trial.user_attrs[trials.POINT]}: trial {trial.number} was left "
            "running by a stopped worker; queued again, its run directory will resume")
    queued = trials.enqueue_missing(study, spec.points)
    finished = len(outcome(study, storage, spec.points)[0])
    log(f"sweep {spec.name}: {len(spec.points)} points, {finished} finished, {len(queued)} "
        f"newly queued; folder {spec.sweep_dir}; storage: "
        f"{trials.storage_text(spec.storage, spec.sweep_dir)}")
    return study


def run_sweep(spec: SweepSpec, workers: int = 1, log: Log = echo) -> Path:
    """Run every unfinished point with `workers` processes, then compare them all.

    Returns the sweep's report.html; raises SweepIncompleteError naming points that failed.
    """
    if workers < 1:
        raise ParameterError(f"--workers {workers}: needs one worker or more")
    spec.sweep_dir.mkdir(parents=True, exist_ok=True)
    study = prepare(spec, log)
    waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    started = time.perf_counter()
    run_workers(spec, max(1, min(workers, waiting)), log)
    log(f"sweep {spec.name}: points ran in {time.perf_counter() - started:.1f} s")
    return finish(spec, log)


def run_workers(spec: SweepSpec, count: int, log: Log) -> None:
    """Run the queue in this process, or in `count` worker processes side by side."""
    if count == 1:
        work(spec, log)
        return
    context = multiprocessing.get_context("spawn")  # TensorFlow and forking do not mix
    processes = [context.Process(target=work, args=(spec, echo), name=f"sweep-worker-{n}")
                 for n in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()


def outcome(study: optuna.Study, storage: optuna.storages.BaseStorage,
            points: Sequence[SweepPoint]) -> tuple[list[SweepPoint], list[str], list[str]]:
    """The points finished; those another live process runs or will run; those failed, or
    left running by a stopped worker, each with why."""
    grouped = trials.trials_by_point(study.get_trials(deepcopy=False))
    done, elsewhere, failed = [], [], []
    now = time.time()
    for point in points:
        point_trials = grouped.get(point.name, [])
        states = {trial.state for trial in point_trials}
        if TrialState.COMPLETE in states:
            done.append(point)
        elif TrialState.WAITING in states or any(
                trial.state == TrialState.RUNNING and not trials.is_stale(trial, now, storage)
                for trial in point_trials):
            elsewhere.append(point.name)
        else:
            failed.append(f"{point.name} ({why_not_finished(point_trials)})")
    return done, elsewhere, failed


def why_not_finished(point_trials: Sequence[optuna.trial.FrozenTrial]) -> str:
    """Why a point that no live process runs did not finish, in words."""
    if any(trial.state == TrialState.RUNNING for trial in point_trials):
        return "left running by a stopped worker"
    # The latest failure; a trial that stepped aside for a duplicate says nothing of why.
    failures = [text for text in (str(trial.user_attrs.get(trials.FAILURE, "failed"))
                                  for trial in point_trials)
                if not text.startswith("duplicate of")]
    return failures[-1].splitlines()[0] if failures else "never queued"


def finish(spec: SweepSpec, log: Log) -> Path:
    """Compare the finished points (leaderboard.csv, report.html); name those that are not."""
    storage = trials.open_storage(spec.storage, spec.sweep_dir)
    done, elsewhere, failed = outcome(trials.open_study(storage, spec.name), storage,
                                      spec.points)
    here = [point for point in done
            if artifacts.artifact_path(spec.sweep_dir / point.name,
                                       artifacts.TRAINING_INFO).is_file()]
    if len(here) < len(done):
        elsewhere_done = len(done) - len(here)
        log(f"{elsewhere_done} finished point{'s' if elsewhere_done != 1 else ''} ran on other "
            "machines: their run directories are not in this sweep folder, so the comparison "
            "leaves them out")
    if elsewhere:
        log(f"{len(elsewhere)} of {len(spec.points)} points still running in other processes "
            f"({', '.join(elsewhere)}): the study will hold their figures")
    report = spec.sweep_dir / artifacts.REPORT
    if here:
        report = compare.compare_runs([spec.sweep_dir / point.name for point in here],
                                      spec.sweep_dir, f"Sweep {spec.name}",
                                      [point.name for point in here], log)
        log(f"report: {report}")
    if failed:
        raise SweepIncompleteError(
            f"{len(failed)} of {len(spec.points)} points did not finish: "
            f"{'; '.join(failed)}. Run the same command again to retry them (each resumes "
            "its run directory); their logs are in " + str(spec.sweep_dir / "logs"))
    return report
