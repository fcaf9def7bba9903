"""Sweeps on a real PostgreSQL server, as several machines use one: processes opening a new
database at once, and two `sweep` commands, each with its own sweep folder, sharing one study.

The server is Debian's (`postgresql`, which .ci/run installs), started for this module as the
postgres user (initdb refuses root) in a temporary folder, on a free loopback port, and
stopped at the end. Skipped, saying why, where it cannot be started."""

import importlib.util
import multiprocessing
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from test_sweep import DEFAULT_PARAMS, TINY

from helpers import artifacts
from helpers.runner import sweep_trials as trials

# Debian's server, its newest version here (15 on Debian 12).
SERVER = max(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), default=Path("/nonexistent/pg_ctl"),
             key=lambda pg_ctl: float(pg_ctl.parts[-3])).parent
AS_POSTGRES = ["runuser", "-u", "postgres", "--"]
pytestmark = pytest.mark.xdist_group("postgres")  # one xdist worker: one server for the module


def why_not_runnable() -> str | None:
    """Why this machine cannot start the server, or None."""
    if not (SERVER / "pg_ctl").is_file():
        return "PostgreSQL's server is not installed (/usr/lib/postgresql/*/bin: apt-get " \
               "install postgresql)"
    if os.geteuid() != 0 or not shutil.which("runuser"):
        return "the server runs as the postgres user, which only root can switch to (runuser)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user (Debian's postgresql package makes it)"
    if importlib.util.find_spec("psycopg") is None:
        return "the driver is not installed: pip install -e '.[postgres]'"
    return None


def as_postgres(folder: Path, *command: object) -> None:
    subprocess.run([*AS_POSTGRES, *map(str, command)], cwd=folder, check=True,
                   capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Path, int]]:
    """A PostgreSQL server of its own: its folder and port."""
    reason = why_not_runnable()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="sweep-postgres-"))
    shutil.chown(folder, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    as_postgres(folder, SERVER / "initdb", "-D", folder / "data", "-A", "trust",
                "-U", "postgres", "--no-sync")
    as_postgres(folder, SERVER / "pg_ctl", "-D", folder / "data", "-l", folder / "server.log",
                "-w", "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start")
    try:
        yield folder, port
    finally:
        as_postgres(folder, SERVER / "pg_ctl", "-D", folder / "data", "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server: tuple[Path, int], name: str) -> str:
    """An empty database on the server; its URL, as a user would write it."""
    folder, port = server
    as_postgres(folder, SERVER / "createdb", "-h", "127.0.0.1", "-p", port, name)
    return f"postgresql://postgres@127.0.0.1:{port}/{name}"


def open_at_once(url: str, ready: "multiprocessing.synchronize.Barrier") -> str:
    ready.wait(timeout=60)
    try:
        trials.open_study(trials.open_storage(url, Path()), "sweep")
    except Exception as error:  # noqa: BLE001 - reported to the test
        return f"{type(error).__name__}: {error}"
    return "opened"


def test_processes_opening_a_new_database_at_once_all_succeed(
        server: tuple[Path, int]) -> None:
    # Machines started together on a new database: without open_database's second try,
    # all but one once failed with a unique violation creating Optuna's tables.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(4) as pool:
        ready = manager.Barrier(4)
        for attempt in range(3):
            url = new_database(server, f"fresh{attempt}")
            assert pool.starmap(open_at_once, [(url, ready)] * 4) == ["opened"] * 4


def started_runs(sweep_dir: Path, point: str) -> int:
    """How many times this folder's command started a point (its log's start lines)."""
    log = sweep_dir / "logs" / f"{point}.log"
    return log.read_text().count(" started on ") if log.is_file() else 0


def test_two_commands_with_their_own_folders_share_one_sweep(
        server: tuple[Path, int], tmp_path: Path) -> None:
    url = new_database(server, "sweeps")
    folders = [tmp_path / "machine-1", tmp_path / "machine-2"]
    started = time.perf_counter()
    commands = [subprocess.Popen(
        [sys.executable, "-m", "helpers.runner", "sweep", "-f", str(DEFAULT_PARAMS),
         "--grid", "dropout_rate=0.0,0.3", *TINY, "--name", "shared", "--storage", url,
         "--sweep-dir", str(folder)], cwd=artifacts.PROJECT_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for folder in folders]
    outputs = [command.communicate(timeout=480)[0] for command in commands]
    seconds = time.perf_counter() - started
    for command, output in zip(commands, outputs, strict=True):
        assert command.returncode == 0, output[-4000:]
    grouped = trials.trials_by_point(optuna.load_study(study_name="shared",
                                                       storage=url).get_trials())
    points = ["dropout_rate-0.0", "dropout_rate-0.3"]
    assert sorted(grouped) == points
    for point in points:
        complete = [trial for trial in grouped[point] if trial.state == TrialState.COMPLETE]
        assert len(complete) == 1, grouped[point]
        # Commands started at once may both enqueue a point: the copy steps aside, unrun.
        assert all(trial.user_attrs[trials.FAILURE].startswith("duplicate of trial")
                   for trial in grouped[point] if trial.state != TrialState.COMPLETE)
        assert sum(started_runs(folder, point) for folder in folders) == 1, point
    # Both commands took part: one point each.
    assert [sum(map(started_runs, [folder] * 2, points)) for folder in folders] == [1, 1]
    # The command that ran out of points first left the other's running, and said so.
    assert "1 of 2 points still running in other processes" in "".join(outputs), outputs
    print(f"\n2 commands, 2 points on PostgreSQL: {seconds:.0f} s")
    for number, output in enumerate(outputs, 1):
        print(f"command {number}:", *(line for line in output.splitlines()
                                       if line.startswith(("sweep", "1 "))), sep="\n  ")
