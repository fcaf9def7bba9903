"""The sweep's queue on a real Optuna journal file: each point once, one worker per trial,
trials of dead workers failed and queued again, a changed sweep refused."""

import multiprocessing
import os
import socket
import subprocess
import time
import warnings
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from helpers.parameters import ParameterError
from helpers.runner import sweep_trials as trials
from helpers.runner.sweep_grid import build_points, parse_grid


def points(tmp_path: Path, values: str = "1,2,3"):
    base = tmp_path / "base.yaml"
    base.write_text("dataset: mnist_5k\n")
    return build_points([base], parse_grid([f"epochs={values}"]), [])


def open_sweep(tmp_path: Path, name: str = "sweep"):
    storage = trials.open_storage(None, tmp_path / "sweep")
    return storage, trials.open_study(storage, name)


def test_the_default_storage_is_a_journal_file_in_the_sweep_folder(tmp_path: Path) -> None:
    storage, study = open_sweep(tmp_path)
    study.set_user_attr("x", 1)
    assert isinstance(storage, optuna.storages.JournalStorage)
    assert (tmp_path / "sweep" / trials.JOURNAL_FILE).stat().st_size > 0
    assert trials.storage_text(None, tmp_path) == f"journal file {tmp_path / 'optuna.journal'}"
    assert trials.storage_text("postgresql://me:secret@db/sweeps", tmp_path) == \
        "postgresql://db/sweeps"


def test_a_path_is_a_journal_file_there(tmp_path: Path) -> None:
    storage = trials.open_storage(str(tmp_path / "shared" / "sweep.journal"), tmp_path / "x")
    trials.open_study(storage, "sweep")
    assert (tmp_path / "shared" / "sweep.journal").is_file()
    assert not (tmp_path / "x" / trials.JOURNAL_FILE).exists()


def test_a_database_url_is_an_rdb_storage(tmp_path: Path) -> None:
    storage = trials.open_storage(f"sqlite:///{tmp_path / 'sweep.db'}", tmp_path)
    assert isinstance(storage, optuna.storages.RDBStorage)


def test_every_point_is_enqueued_once(tmp_path: Path) -> None:
    _, study = open_sweep(tmp_path)
    sweep_points = points(tmp_path)
    assert trials.enqueue_missing(study, sweep_points) == ["epochs-1", "epochs-2", "epochs-3"]
    assert trials.enqueue_missing(study, sweep_points) == []
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert [trial.user_attrs[trials.POINT] for trial in waiting] == [
        "epochs-1", "epochs-2", "epochs-3"]
    assert waiting[1].system_attrs["fixed_params"] == {"epochs": 2}


def test_a_failed_point_is_queued_again(tmp_path: Path) -> None:
    storage, study = open_sweep(tmp_path)
    sweep_points = points(tmp_path, "1")
    trials.enqueue_missing(study, sweep_points)
    trial = trials.next_trial(study, storage)
    study.tell(trial, state=TrialState.FAIL)
    assert trials.enqueue_missing(study, sweep_points) == ["epochs-1"]


def test_a_trial_is_claimed_by_one_worker(tmp_path: Path) -> None:
    storage, study = open_sweep(tmp_path)
    trials.enqueue_missing(study, points(tmp_path, "1,2"))
    other_storage, other_study = open_sweep(tmp_path)  # a second process's view
    first = trials.next_trial(study, storage)
    second = trials.next_trial(other_study, other_storage)
    assert {first.number, second.number} == {0, 1}
    assert trials.next_trial(study, storage) is None
    assert first.user_attrs[trials.WORKER]["host"] == socket.gethostname()


def claim_all(url: str | None, folder: str, claimed: "multiprocessing.Queue[int]",
              all_claimed: "multiprocessing.synchronize.Barrier") -> None:
    storage = trials.open_storage(url, Path(folder))
    study = trials.open_study(storage, "sweep")
    while (trial := trials.next_trial(study, storage, url)) is not None:
        claimed.put(trial.number)
    # A real worker runs its trials before it exits. One that exited holding them would
    # rightly have them failed and queued again by a worker that starts later (a slow spawn
    # on a loaded machine), so every worker stays until all are done.
    all_claimed.wait(timeout=120)


@pytest.mark.parametrize("database", [False, True], ids=["journal", "sqlite"])
def test_racing_processes_never_take_the_same_trial(tmp_path: Path, database: bool) -> None:
    # SQLite cannot lock a row: without the lock file beside it, 4 processes once made 45
    # claims on 40 trials.
    url = f"sqlite:///{tmp_path / 'sweep.db'}" if database else None
    storage = trials.open_storage(url, tmp_path / "sweep")
    study = trials.open_study(storage, "sweep")
    trials.enqueue_missing(study, points(tmp_path, ",".join(map(str, range(1, 25)))))
    context = multiprocessing.get_context("spawn")
    worker_count = 4
    claimed, all_claimed = context.Queue(), context.Barrier(worker_count)
    workers = [context.Process(target=claim_all,
                               args=(url, str(tmp_path / "sweep"), claimed, all_claimed))
               for _ in range(worker_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    numbers = [claimed.get(timeout=10) for _ in range(24)]
    assert sorted(numbers) == list(range(24))
    assert claimed.empty()


def dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def running_trial(tmp_path: Path, worker: dict | None, heartbeat: float | None = None):
    storage, study = open_sweep(tmp_path)
    trials.enqueue_missing(study, points(tmp_path, "1"))
    trial = trials.next_trial(study, storage)
    identifier = trials.trial_id(storage, study, trial.number)
    storage.set_trial_user_attr(identifier, trials.WORKER, worker)
    if heartbeat is not None:
        storage.set_trial_user_attr(identifier, trials.HEARTBEAT, heartbeat)
    return storage, study


@pytest.mark.parametrize(("worker", "heartbeat", "stale"), [
    ({"host": socket.gethostname(), "pid": "dead"}, None, True),
    ("this process", None, False),
    # A live process that took a dead worker's id: the trial's heartbeat ages all the same.
    ("this process", trials.STALE_AFTER_SECONDS + 60, True),
    # Heartbeats as seconds before the test runs: parameters are made at collection time,
    # which a long session leaves minutes behind.
    ({"host": "elsewhere", "pid": 1}, 0.0, False),
    ({"host": "elsewhere", "pid": 1}, trials.STALE_AFTER_SECONDS + 60, True),
])
def test_trials_of_dead_workers_are_failed_and_queued_again(
        tmp_path: Path, worker, heartbeat, stale: bool) -> None:
    if worker == "this process":
        worker = trials.this_worker()
    elif worker["pid"] == "dead":
        worker = {**worker, "pid": dead_pid()}
    storage, study = running_trial(tmp_path, worker,
                                   None if heartbeat is None else time.time() - heartbeat)
    failed = trials.fail_stale_trials(study, storage)
    assert len(failed) == int(stale)
    states = [trial.state for trial in study.get_trials()]
    assert states == ([TrialState.FAIL, TrialState.WAITING] if stale else [TrialState.RUNNING])
    if stale:
        assert study.get_trials()[1].user_attrs[trials.POINT] == "epochs-1"
        assert study.get_trials()[1].system_attrs["fixed_params"] == {"epochs": 1}


def test_a_process_is_alive_until_it_ends() -> None:
    assert trials.process_alive(os.getpid())
    assert not trials.process_alive(dead_pid())


def test_a_point_enqueued_twice_runs_once(tmp_path: Path) -> None:
    storage, study = open_sweep(tmp_path)
    for _ in range(2):
        study.enqueue_trial({"epochs": 1}, user_attrs={trials.POINT: "epochs-1"})
    later = optuna.Trial(study, trials.trial_id(storage, study, 1))
    assert trials.duplicate_of(study, later) == 0
    earlier = trials.next_trial(study, storage)
    assert earlier.number == 0 and trials.duplicate_of(study, earlier) is None


def test_a_changed_sweep_is_refused(tmp_path: Path) -> None:
    _, study = open_sweep(tmp_path)
    trials.check_definition(study, points(tmp_path, "1,2"))
    trials.check_definition(study, points(tmp_path, "1,2"))  # the same command: fine
    with pytest.raises(ParameterError, match="started with other points.*epochs-3"):
        trials.check_definition(study, points(tmp_path, "1,2,3"))
    with pytest.raises(ParameterError, match=r"started with other points.*\(differing: --to\)"):
        trials.check_definition(study, points(tmp_path, "1,2"), "05_evaluate")


def stale_database_trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A sweep in SQLite whose trial 0 was taken on another machine that then stopped beating."""
    monkeypatch.setattr(trials, "STALE_AFTER_SECONDS", 1)  # Optuna's grace period
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    storage = trials.open_storage(url, tmp_path / "sweep")
    study = trials.open_study(storage, "sweep")
    sweep_points = points(tmp_path, "1,2")
    trials.enqueue_missing(study, sweep_points)
    trial = trials.next_trial(study, storage)  # its first heartbeat
    storage.set_trial_user_attr(trial._trial_id, trials.WORKER,
                                {"host": "elsewhere", "pid": 1})
    assert trials.fail_stale_trials(study, storage) == []  # beaten within the grace period
    time.sleep(2.5)  # SQLite's clock counts whole seconds
    return url, storage, study, sweep_points


def test_a_database_trial_whose_heartbeat_went_stale_is_retried_by_optuna(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, storage, study, _ = stale_database_trial(tmp_path, monkeypatch)
    assert [trial.number for trial in trials.fail_stale_trials(study, storage)] == [0]
    retry = study.get_trials()[-1]
    assert [trial.state for trial in study.get_trials()] == [
        TrialState.FAIL, TrialState.WAITING, TrialState.WAITING]
    # The same point (so the same run directory) and parameters, not the dead worker's name.
    assert retry.user_attrs == {trials.POINT: "epochs-1"}
    assert retry.system_attrs["fixed_params"] == {"epochs": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        assert optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == 0
    assert trials.fail_stale_trials(study, storage) == []  # failed and queued once


def test_a_retried_point_resumes_its_run_directory(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.runner import execute, leaderboard, sweep_worker

    url, _, _, sweep_points = stale_database_trial(tmp_path, monkeypatch)
    ran = []

    def run(parameters_file, overrides, run_dir, *args, **kwargs):
        ran.append(run_dir)
        return run_dir

    monkeypatch.setattr(execute, "run", run)
    monkeypatch.setattr(leaderboard, "run_result", lambda run_dir: leaderboard.RunResult(
        0.9, None, None, None, 1, 1.0, 1, 0.9, 0.9, 1.0))
    spec = sweep_worker.SweepSpec("sweep", tmp_path / "sweep", url, tuple(sweep_points))
    sweep_worker.work(spec, lambda *args, **kwargs: None)
    sweep_dir = tmp_path / "sweep"
    assert sorted(ran) == [sweep_dir / "epochs-1", sweep_dir / "epochs-2"]
    study = optuna.load_study(study_name="sweep", storage=url)
    assert [(trial.user_attrs[trials.POINT], trial.state) for trial in study.get_trials()] == [
        ("epochs-1", TrialState.FAIL), ("epochs-2", TrialState.COMPLETE),
        ("epochs-1", TrialState.COMPLETE)]


def test_a_trial_that_beats_is_never_taken_for_abandoned(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Another machine's trial in a journal file, judged by the heartbeat alone; one beat fails.
    monkeypatch.setattr(trials, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(trials, "STALE_AFTER_SECONDS", 0.5)
    storage, study = running_trial(tmp_path, {"host": "elsewhere", "pid": 1})
    beat, beats = trials.beat, []

    def beat_but_miss_the_first(*args) -> None:
        beats.append(len(beats))
        if len(beats) == 1:
            raise OSError("the shared filesystem hiccuped")
        beat(*args)

    monkeypatch.setattr(trials, "beat", beat_but_miss_the_first)
    other_storage, other_study = open_sweep(tmp_path)  # another process's view
    with trials.heartbeat(storage, trials.trial_id(storage, study, 0)):
        time.sleep(1.0)
        assert trials.fail_stale_trials(other_study, other_storage) == []
    assert len(beats) > 3
    time.sleep(0.7)  # no more beats once the point is done (here: abandoned)
    assert [trial.number for trial in trials.fail_stale_trials(other_study, other_storage)] == [0]
