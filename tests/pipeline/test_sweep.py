"""Sweeps end to end on real digits: a grid of four with two worker processes on one journal
file, and a sweep killed part-way that the same command then finishes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from helpers import artifacts
from helpers.runner import steps
from helpers.runner import sweep_trials as trials

DEFAULT_PARAMS = artifacts.PROJECT_ROOT / "params" / "default.yaml"
# Tiny points: 450 training images, one epoch, no export (the leaderboard needs 05's figures).
TINY = ("-p", "dataset", "mnist_5k", "-p", "max_train_images", "500",
        "-p", "max_test_images", "200", "-p", "epochs", "1", "--to", "05_evaluate")


def sweep_command(sweep_dir: Path, *grid: str, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "helpers.runner", "sweep", "-f", str(DEFAULT_PARAMS),
            "--grid", *grid, *TINY, "--sweep-dir", str(sweep_dir), "--workers", str(workers)]


def run_sweep(command: list[str], timeout: float = 420) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=artifacts.PROJECT_ROOT)


def study_trials(sweep_dir: Path) -> list[optuna.trial.FrozenTrial]:
    storage = trials.open_storage(None, sweep_dir)
    return optuna.load_study(study_name=storage.get_all_studies()[0].study_name,
                             storage=storage).get_trials()


def executions(sweep_dir: Path, point: str) -> int:
    """How many times a point's run was started (its log has one line per start)."""
    log = sweep_dir / "logs" / f"{point}.log"
    return sum(" started on " in line for line in log.read_text().splitlines())


def finished_steps(run_dir: Path) -> list[str]:
    return [name for name, step in steps.read_state(run_dir).items()
            if step["status"] == steps.COMPLETED]


def test_two_workers_run_a_grid_of_four_each_point_once(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    started = time.perf_counter()
    result = run_sweep(sweep_command(sweep_dir, "batch_norm=true,false",
                                     "dropout_rate=0.0,0.3", workers=2))
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    points = [f"batch_norm-{bn}_dropout_rate-{rate}" for bn in ("true", "false")
              for rate in ("0.0", "0.3")]
    found = study_trials(sweep_dir)
    assert len(found) == 4 and {trial.state for trial in found} == {TrialState.COMPLETE}
    assert sorted(trial.user_attrs[trials.POINT] for trial in found) == sorted(points)
    for point in points:
        assert executions(sweep_dir, point) == 1, point
        assert finished_steps(sweep_dir / point) == [
            "01_load_data", "02_preprocess", "03_build_model", "04_train", "05_evaluate"]
    # Two processes, side by side: two worker ids, and trials whose times overlap.
    assert len({trial.user_attrs[trials.WORKER]["pid"] for trial in found}) == 2
    first, second = sorted(found, key=lambda trial: trial.datetime_start)[:2]
    assert second.datetime_start < first.datetime_complete
    table = pd.read_csv(sweep_dir / "leaderboard.csv")
    assert sorted(table["run"]) == sorted(points)
    assert {"batch_norm", "dropout_rate", "validation_accuracy", "test_accuracy", "f1_macro",
            "test_loss", "epochs_run", "train_seconds"} <= set(table.columns)
    by_point = {trial.user_attrs[trials.POINT]: trial.value for trial in found}
    for row in table.itertuples():
        assert row.validation_accuracy == by_point[row.run]  # the objective: validation
    assert list(table["validation_accuracy"]) == sorted(table["validation_accuracy"],
                                                        reverse=True)
    assert "data:image/png" in (sweep_dir / "report.html").read_text()
    print(f"\n2 workers, 4 points: {seconds:.0f} s; trial seconds "
          f"{sorted(trial.user_attrs['seconds'] for trial in found)}")


def test_a_killed_sweep_continues_without_rerunning_finished_points(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    command = sweep_command(sweep_dir, "dropout_rate=0.0,0.3")
    first, second = "dropout_rate-0.0", "dropout_rate-0.3"
    started = time.perf_counter()
    # The sweep and its kernels are one process group, killed at once as a closed laptop
    # would be, once the first point finished and the second has a finished step.
    sweeper = subprocess.Popen(command, cwd=artifacts.PROJECT_ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 400
    while (sweeper.poll() is None and time.monotonic() < deadline
           and not finished_steps(sweep_dir / second)):
        time.sleep(0.5)
    os.killpg(sweeper.pid, signal.SIGKILL)
    sweeper.wait()
    killed_after = time.perf_counter() - started
    assert finished_steps(sweep_dir / second), "the second point never started"
    before = study_trials(sweep_dir)
    assert [trial.state for trial in before] == [TrialState.COMPLETE, TrialState.RUNNING]
    kept = (sweep_dir / first / artifacts.METRICS).stat().st_mtime_ns

    continued = run_sweep(command)
    total = time.perf_counter() - started
    assert continued.returncode == 0, continued.stdout[-3000:] + continued.stderr[-3000:]
    assert f"point {second}: trial 1 was left running by a stopped worker" in continued.stdout
    assert f"[{second}] [1/5] 01_load_data          unchanged, skipped" in continued.stdout
    assert f"[{first}]" not in continued.stdout  # the finished point did not run again
    assert (sweep_dir / first / artifacts.METRICS).stat().st_mtime_ns == kept
    assert executions(sweep_dir, first) == 1 and executions(sweep_dir, second) == 2
    after = study_trials(sweep_dir)
    assert [(trial.user_attrs[trials.POINT], trial.state) for trial in after] == [
        (first, TrialState.COMPLETE), (second, TrialState.FAIL), (second, TrialState.COMPLETE)]
    assert len(pd.read_csv(sweep_dir / "leaderboard.csv")) == 2

    again = run_sweep(command)  # a finished sweep: nothing runs, the report is rebuilt
    assert again.returncode == 0 and "2 finished, 0 newly queued" in again.stdout
    assert len(study_trials(sweep_dir)) == 3
    print(f"\nkilled after {killed_after:.0f} s, finished after {total:.0f} s")


def test_failed_points_are_named_and_retried_by_the_next_command(tmp_path: Path) -> None:
    import shutil

    import nbformat

    from helpers.runner import execute

    notebooks = tmp_path / "notebooks"
    shutil.copytree(execute.NOTEBOOKS_DIR, notebooks)
    path = notebooks / "01_load_data.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('the cell broke')"))
    nbformat.write(notebook, path)
    sweep_dir = tmp_path / "sweep"
    command = [*sweep_command(sweep_dir, "seed=1,2"), "--notebooks-dir", str(notebooks)]
    for attempt in (1, 2):
        result = run_sweep(command)
        assert result.returncode == 1
        assert "2 of 2 points did not finish: seed-1 (01_load_data failed in cell" in \
            result.stderr and "RuntimeError: the cell broke" in result.stderr
        assert "Run the same command again to retry them" in result.stderr
        assert [trial.state for trial in study_trials(sweep_dir)] == [TrialState.FAIL] * 2 * attempt
    assert executions(sweep_dir, "seed-1") == executions(sweep_dir, "seed-2") == 2
