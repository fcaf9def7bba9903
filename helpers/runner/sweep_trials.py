"""A sweep's Optuna study: its storage, the queue of points, and trials whose worker died.

Every point is enqueued once as a WAITING trial; a worker takes one by moving it to RUNNING,
which the storage grants to one process only (Optuna's enqueue_trial queue). A killed
worker leaves its trial RUNNING: the next process to find it fails it (Optuna's heartbeat in
a database, our checks below where Optuna has none) and Optuna's
RetryHeartbeatStaleTrialCallback queues a copy, the same point, so the same run directory,
which execute.run resumes.
"""

from __future__ import annotations

import copy
import fcntl
import functools
import random
import socket
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import BaseStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from helpers.parameters import ParameterError
from helpers.runner.sweep_grid import SweepPoint, optuna_value
from helpers.runner.sweep_processes import process_alive, this_worker

JOURNAL_FILE = "optuna.journal"
POINT, WORKER, HEARTBEAT, FAILURE = "point", "worker", "heartbeat", "failure"
DEFINITION = "points"  # the study's record of what each point runs
LAST_STEP = "to_step"
HEARTBEAT_SECONDS = 60
# A trial counts as abandoned after this long without a heartbeat.
STALE_AFTER_SECONDS = 10 * HEARTBEAT_SECONDS
LIVE_STATES = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)


def open_storage(storage: str | None, sweep_dir: Path) -> BaseStorage:
    """A database URL (sqlite:///..., postgresql://...), a journal file path, or by default
    the journal file in the sweep folder, which several processes may share."""
    if storage and "://" in storage:
        return open_database(storage)
    from optuna.storages.journal import JournalFileBackend

    path = Path(storage) if storage else sweep_dir / JOURNAL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def open_database(url: str, tries: int = 10) -> RDBStorage:
    """The database's storage with Optuna's heartbeat, or what stops it opening, in one line.

    A worker stamps its trial by the database's clock (not each machine's), and
    optuna.storages.fail_stale_trials fails a trial not stamped for STALE_AFTER_SECONDS, then
    calls requeue.
    """
    database = functools.partial(RDBStorage, url, heartbeat_interval=HEARTBEAT_SECONDS,
                                 grace_period=STALE_AFTER_SECONDS,
                                 heartbeat_stale_trial_callback=requeue)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            for _ in range(tries - 1):
                try:
                    return database()
                except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
                    # Processes creating a new PostgreSQL database's tables at once collide,
                    # table after table: CREATE TABLE is not atomic there
                    # (test_processes_opening_a_new_database_at_once_all_succeed).
                    time.sleep(random.uniform(0.05, 0.3))
            return database()
    except ImportError as error:  # RDBStorage's, from the driver's ModuleNotFoundError
        driver = getattr(error.__cause__, "name", None) or "its driver"
        extra = ": pip install -e '.[postgres]'" if url.startswith("postgresql") else ""
        raise ParameterError(f"--storage {storage_text(url)}: the database driver {driver} "
                             f"is not installed{extra}") from None
    except sqlalchemy.exc.SQLAlchemyError as error:  # a bad URL, no server, a refused login
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise ParameterError(f"--storage {storage_text(url)}: {reason}") from None


def storage_text(storage: str | None, sweep_dir: Path = Path()) -> str:
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
    if DEFINITION not in study.user_attrs:
        study.set_user_attr(DEFINITION, definition)
        study.set_user_attr(LAST_STEP, to_step)
    recorded = {**study.user_attrs[DEFINITION], "--to": study.user_attrs.get(LAST_STEP)}
    definition["--to"] = to_step
    changed = sorted(name for name in {*recorded, *definition}
                     if recorded.get(name) != definition.get(name))
    if changed:
        raise ParameterError(
            f"sweep {study.study_name!r} was started with other points or parameters "
            f"(differing: {', '.join(changed[:6])}): run the same command as before to "
            "continue it, or choose another --name")


def is_stale(trial: FrozenTrial, now: float, storage: BaseStorage) -> bool:
    """A RUNNING trial whose worker is gone, by our checks where Optuna's fall short."""
    worker = trial.user_attrs.get(WORKER) or {}
    if worker.get("host") == socket.gethostname() and not process_alive(worker["pid"]):
        # This machine's trial is stale as soon as its process is gone, so the same command
        # run again at once resumes it, where a heartbeat would wait out its grace period
        # (test_sweep.py's test_a_killed_sweep_continues_without_rerunning_finished_points).
        return True
    if isinstance(storage, RDBStorage):
        return False  # Optuna's heartbeat judges the rest
    # A journal file has no heartbeat in Optuna 5.1: ours, an attribute by the worker's
    # clock (test_trials_of_dead_workers_are_failed_and_queued_again).
    started = trial.datetime_start.timestamp() if trial.datetime_start else now
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
    now = time.time()
    with warnings.catch_warnings():  # Optuna's heartbeat and retry are experimental
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a database's heartbeats; else nothing
        for trial in running:
            if not is_stale(trial, now, storage):
                continue
            identifier = trial_id(storage, study, trial.number)
            try:
                if storage.set_trial_state_values(identifier, state=TrialState.FAIL):
                    requeue(study, storage.get_trial(identifier))
            except UpdateFinishedTrialError:
                continue  # another process failed it first
    states = {trial.number: trial.state for trial in study.get_trials(deepcopy=False)}
    return [trial for trial in running if states[trial.number] == TrialState.FAIL]


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
        study.enqueue_trial(point_parameters(point), user_attrs={POINT: point.name})
    return [point.name for point in missing]


def duplicate_of(study: optuna.Study, trial: optuna.Trial) -> int | None:
    """Another trial of the same point that runs instead of this one: one that is complete,
    or else the lowest-numbered unfinished one. Commands started at once may both enqueue a
    point (test_a_point_enqueued_twice_runs_once, test_sweep_postgres)."""
    return min((other.number for other in study.get_trials(deepcopy=False)
                if other.user_attrs.get(POINT) == trial.user_attrs.get(POINT) and (
                    other.state == TrialState.COMPLETE
                    or other.state in LIVE_STATES and other.number < trial.number)),
               default=None)


@contextmanager
def claim_lock(storage: str | None) -> Iterator[None]:
    """Claims on a SQLite file one process at a time, by a lock file beside it: SQLite cannot
    lock a row, and two processes could take one trial (45 claims on 40 trials in
    test_racing_processes_never_take_the_same_trial[sqlite]); journal and servers need none."""
    if not (storage or "").startswith("sqlite:///"):
        yield
        return
    path = Path(storage.removeprefix("sqlite:///").partition("?")[0] + ".lock")
    with open(path, "w") as lock:  # closing it releases the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def next_trial(study: optuna.Study, storage: BaseStorage,
               url: str | None = None) -> optuna.Trial | None:
    """Fail trials of dead workers, then take the first WAITING trial for this process; None
    when the queue is empty (study.ask takes one so, but then samples a trial of no point)."""
    with claim_lock(url):
        fail_stale_trials(study, storage)
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


def beat(storage: BaseStorage, identifier: int) -> None:
    """Stamp a running trial: Optuna's heartbeat in a database, our attribute in a journal."""
    if isinstance(storage, RDBStorage):
        storage.record_heartbeat(identifier)
    else:
        storage.set_trial_user_attr(identifier, HEARTBEAT, time.time())


@contextmanager
def heartbeat(storage: BaseStorage, identifier: int) -> Iterator[None]:
    """While a trial runs, stamp it every HEARTBEAT_SECONDS so other processes see it alive
    (test_a_trial_that_beats_is_never_taken_for_abandoned). Optuna's own thread is private
    to study.optimize (which takes trials with study.ask: see next_trial) and stops at the
    first failed write, leaving a live trial to go stale and its point to run twice."""
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
