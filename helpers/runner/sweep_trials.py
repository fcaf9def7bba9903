"""A sweep's Optuna study: its storage, the queue of points, and trials whose worker died.

Every point is enqueued once as a WAITING trial; a worker takes one by moving it to RUNNING,
which the storage grants to one process only (Optuna's own enqueue_trial mechanism), so
no point runs twice even with many workers on many machines. A worker that is killed
leaves its trial RUNNING; the next command that finds it marks it failed (same machine: its
process is gone; another machine: its heartbeat is older than STALE_AFTER_SECONDS) and
Optuna's RetryHeartbeatStaleTrialCallback queues a copy of it: the same point, so the same
run directory, which execute.run then resumes.
"""

from __future__ import annotations

import copy
import fcntl
import socket
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import BaseStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from helpers.parameters import ParameterError
from helpers.runner.sweep_grid import SweepPoint, optuna_value
from helpers.runner.sweep_processes import process_alive, this_worker

JOURNAL_FILE = "optuna.journal"
LOCK_FILE = ".sweep.lock"
POINT, WORKER, HEARTBEAT, FAILURE = "point", "worker", "heartbeat", "failure"
DEFINITION = "points"  # the study's record of what each point runs
LAST_STEP = "to_step"
HEARTBEAT_SECONDS = 60
# Another machine's trial counts as abandoned after this long without a heartbeat.
STALE_AFTER_SECONDS = 10 * HEARTBEAT_SECONDS
LIVE_STATES = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)


def open_storage(storage: str | None, sweep_dir: Path) -> BaseStorage:
    """A database URL (sqlite:///..., postgresql://...), a journal file path, or by default
    the journal file in the sweep folder, which several processes may share."""
    if storage and "://" in storage:
        # Optuna's heartbeat: a worker stamps its trial in the database, by the database's
        # clock (not each machine's), and optuna.storages.fail_stale_trials fails a trial
        # not stamped for STALE_AFTER_SECONDS, then calls requeue.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            return RDBStorage(storage, heartbeat_interval=HEARTBEAT_SECONDS,
                              grace_period=STALE_AFTER_SECONDS,
                              heartbeat_stale_trial_callback=requeue)
    from optuna.storages.journal import JournalFileBackend

    path = Path(storage) if storage else sweep_dir / JOURNAL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def storage_text(storage: str | None, sweep_dir: Path) -> str:
    """The storage as the progress lines name it (a URL's password left out)."""
    if storage and "://" in storage:
        scheme, _, rest = storage.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"
    return f"journal file {Path(storage) if storage else sweep_dir / JOURNAL_FILE}"


def open_study(storage: BaseStorage, name: str) -> optuna.Study:
    """The sweep's study, created on first use; it maximizes validation accuracy."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweep prints its own lines
    return optuna.create_study(study_name=name, storage=storage, direction="maximize",
                               load_if_exists=True)


def check_definition(study: optuna.Study, points: Sequence[SweepPoint],
                     to_step: str | None = None) -> None:
    """Record the sweep's points (and last step) with the study, or refuse a re-run that
    defines others: a continuation must not mix two sweeps' results."""
    definition = {point.name: point.definition() for point in points}
    recorded = study.user_attrs.get(DEFINITION)
    if recorded is None:
        study.set_user_attr(DEFINITION, definition)
        study.set_user_attr(LAST_STEP, to_step)
        return
    changed = sorted(set(recorded) ^ set(definition)) or sorted(
        name for name in definition if recorded.get(name) != definition[name])
    if changed:
        raise ParameterError(
            f"sweep {study.study_name!r} was started with other points or parameters "
            f"(differing: {', '.join(changed[:6])}): run the same command as before to "
            "continue it, or choose another --name")
    if study.user_attrs.get(LAST_STEP) != to_step:
        raise ParameterError(
            f"sweep {study.study_name!r} was started with --to "
            f"{study.user_attrs.get(LAST_STEP)}, not {to_step}: run the same command as "
            "before to continue it, or choose another --name")


def is_stale(trial: FrozenTrial, now: float, host: str, storage: BaseStorage) -> bool:
    """A RUNNING trial whose worker is gone, by our checks where Optuna's fall short.

    Optuna 5.1 has a heartbeat for databases only (RDBStorage: fail_stale_trials fails a
    trial its grace period after the last beat, never one that never beat); a journal file,
    our default and what --workers shares, has none. So ours: this machine's trial is stale
    as soon as its process is gone, so that the same command run again at once resumes it
    (Optuna would wait out the grace period); one killed before it said whose it is, after
    STALE_AFTER_SECONDS; in a journal file, another machine's after as long without its
    heartbeat attribute. Another machine's trial in a database is Optuna's to judge.
    """
    worker = trial.user_attrs.get(WORKER)
    started = trial.datetime_start.timestamp() if trial.datetime_start else now
    if not worker:  # taken, then killed before it said whose it is
        return now - started > STALE_AFTER_SECONDS
    if worker["host"] == host:
        return not process_alive(worker["pid"], worker.get("started"))
    if isinstance(storage, RDBStorage):
        return False
    return now - trial.user_attrs.get(HEARTBEAT, started) > STALE_AFTER_SECONDS


def trial_id(storage: BaseStorage, study: optuna.Study, number: int) -> int:
    """The storage's id of a study's trial number."""
    study_id = storage.get_study_id_from_name(study.study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, number)


def requeue(study: optuna.Study, trial: FrozenTrial) -> None:
    """Optuna's retry of a failed trial: a WAITING copy with its point and parameters (so its
    run directory), and retry_history naming the trials of the point it follows."""
    trial = copy.deepcopy(trial)
    trial.user_attrs = {POINT: trial.user_attrs[POINT]}  # not the dead worker's name or beat
    RetryHeartbeatStaleTrialCallback()(study, trial)


def fail_stale_trials(study: optuna.Study, storage: BaseStorage) -> list[FrozenTrial]:
    """Fail trials of dead workers and queue their points again (requeue); those failed."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    now, host = time.time(), socket.gethostname()
    with warnings.catch_warnings():  # Optuna's heartbeat and retry are experimental
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a database's heartbeats; else nothing
        for trial in running:
            if not is_stale(trial, now, host, storage):
                continue
            identifier = trial_id(storage, study, trial.number)
            try:
                # Atomic: of two processes failing a trial, the second gets False or an error.
                if storage.set_trial_state_values(identifier, state=TrialState.FAIL):
                    requeue(study, storage.get_trial(identifier))
            except UpdateFinishedTrialError:
                continue
        retried = {number for trial in study.get_trials(deepcopy=False)
                   for number in RetryHeartbeatStaleTrialCallback.retry_history(trial)[-1:]}
    return [trial for trial in running if trial.number in retried]


def enqueue(study: optuna.Study, name: str, fixed: dict[str, Any]) -> None:
    """Put one point in the queue as a WAITING trial."""
    study.enqueue_trial(fixed, user_attrs={POINT: name})


def point_parameters(point: SweepPoint) -> dict[str, Any]:
    """The point's swept values as Optuna parameters."""
    return {name: optuna_value(value) for name, value in point.swept}


def trials_by_point(trials: Iterable[FrozenTrial]) -> dict[str, list[FrozenTrial]]:
    """The study's trials grouped by the point they run."""
    grouped: dict[str, list[FrozenTrial]] = {}
    for trial in trials:
        grouped.setdefault(trial.user_attrs.get(POINT, ""), []).append(trial)
    return grouped


def enqueue_missing(study: optuna.Study, points: Sequence[SweepPoint]) -> list[str]:
    """Enqueue every point with no trial that is waiting, running or complete; their names.

    A point whose trials all failed is queued again: a re-run retries it.
    """
    grouped = trials_by_point(study.get_trials(deepcopy=False))
    missing = [point for point in points
               if not any(trial.state in LIVE_STATES for trial in grouped.get(point.name, []))]
    for point in missing:
        enqueue(study, point.name, point_parameters(point))
    return [point.name for point in missing]


def claim_next(study: optuna.Study, storage: BaseStorage) -> optuna.Trial | None:
    """Take the first WAITING trial for this process, or None when the queue is empty."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        identifier = trial_id(storage, study, trial.number)
        try:
            # False, or an error, when another worker took (or finished) it first.
            if not storage.set_trial_state_values(identifier, state=TrialState.RUNNING):
                continue
        except UpdateFinishedTrialError:
            continue
        beat(storage, identifier)  # first: Optuna never fails a trial that never beat
        storage.set_trial_user_attr(identifier, WORKER, this_worker())
        return optuna.Trial(study, identifier)
    return None


def duplicate_of(study: optuna.Study, trial: optuna.Trial) -> int | None:
    """The number of another trial of the same point that wins over this one, if any.

    Two commands started at once may enqueue a point twice; of its trials, one that is
    complete, or else the lowest-numbered unfinished one, runs; the others step aside.
    """
    point = trial.user_attrs.get(POINT)
    for other in study.get_trials(deepcopy=False):
        if other.number == trial.number or other.user_attrs.get(POINT) != point:
            continue
        if other.state == TrialState.COMPLETE or (
                other.state in (TrialState.WAITING, TrialState.RUNNING)
                and other.number < trial.number):
            return other.number
    return None


def lock_path(storage: str | None, sweep_dir: Path) -> Path:
    """The file that serializes changes to the queue: beside a SQLite database (which
    cannot lock a row, so two processes could both take a trial), else in the sweep folder."""
    if storage and storage.startswith("sqlite:///"):
        return Path(storage.removeprefix("sqlite:///").partition("?")[0] + ".lock")
    return sweep_dir / LOCK_FILE


@contextmanager
def queue_lock(path: Path) -> Iterator[None]:
    """One process of this machine (or filesystem) at a time changes the queue.

    Where the filesystem cannot lock (some NFS), it goes on unlocked: the journal and
    database servers still grant a trial once, and a point enqueued twice runs once
    (duplicate_of).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:  # closing it releases the lock
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:
            pass
        yield


def next_trial(study: optuna.Study, storage: BaseStorage, lock: Path) -> optuna.Trial | None:
    """Under the queue's lock: fail trials of dead workers, then take the next waiting one."""
    with queue_lock(lock):
        fail_stale_trials(study, storage)
        return claim_next(study, storage)


def beat(storage: BaseStorage, identifier: int) -> None:
    """Stamp a running trial: Optuna's heartbeat in a database, our attribute in a journal."""
    if isinstance(storage, RDBStorage):
        storage.record_heartbeat(identifier)
    else:
        storage.set_trial_user_attr(identifier, HEARTBEAT, time.time())


@contextmanager
def heartbeat(storage: BaseStorage, identifier: int) -> Iterator[None]:
    """While a trial runs, stamp it every HEARTBEAT_SECONDS so other machines see it alive.

    Optuna's own heartbeat thread is private to study.optimize, which takes its trial with
    study.ask (outside our queue lock, and sampling a new trial when the queue is empty), and
    it stops at the first write that fails; the trial, though alive, would go stale and
    another machine would train its point a second time. This one skips a missed beat.
    """
    stop = threading.Event()

    def beat_until_stopped() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                beat(storage, identifier)
            except Exception:  # noqa: BLE001 - a missed beat must not stop the training
                pass

    thread = threading.Thread(target=beat_until_stopped, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
