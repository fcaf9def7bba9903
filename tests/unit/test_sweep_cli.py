"""The sweep and compare commands refuse bad input before any work, naming it."""

import socket
import sys
from pathlib import Path

import pytest

from helpers import artifacts
from helpers.runner.cli import main

DEFAULT_PARAMS = str(artifacts.PROJECT_ROOT / "params" / "default.yaml")


def test_a_bad_value_after_one_grid_option_is_named(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    # `--grid a=1,2 b=3,4`: click hands b=3,4 over as a positional argument.
    status = main(["sweep", "-f", DEFAULT_PARAMS, "--grid", "batch_norm=true,false",
                   "dropout_rate=0.0,1.5", "-p", "dataset", "mnist_5k",
                   "--sweep-dir", str(tmp_path / "sweep")])
    assert status == 1
    assert "--grid dropout_rate=1.5 is refused" in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()


def test_a_missing_params_file_among_several_is_named(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    status = main(["sweep", DEFAULT_PARAMS, str(tmp_path / "missing.yaml"),
                   "--sweep-dir", str(tmp_path / "sweep")])
    assert status == 1
    assert "missing.yaml does not exist" in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--name", "../elsewhere"], "--name '../elsewhere'"),
    (["--to", "04_train"], "'04_train' is not one of"),
    (["--workers", "0"], "0 is not in the range"),
])
def test_bad_options_are_refused(arguments: list[str], message: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture) -> None:
    status = main(["sweep", "-f", DEFAULT_PARAMS, "--grid", "epochs=1,2", "-p", "dataset",
                   "mnist_5k", "--sweep-dir", str(tmp_path / "sweep"), *arguments])
    assert status != 0
    assert message in capsys.readouterr().err


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://me:secret@dbhost/sweeps", "--storage postgresql://dbhost/sweeps: the "
     "database driver psycopg is not installed: pip install -e '.[postgres]'"),
    ("postgres://me@dbhost/sweeps", "--storage postgres://dbhost/sweeps: Can't load plugin: "
     "sqlalchemy.dialects:postgres"),
    ("postgresql://me@127.0.0.1:{port}/sweeps", "--storage postgresql://127.0.0.1:{port}/sweeps: "
     "connection failed: connection to server at \"127.0.0.1\", port {port} failed: "
     "Connection refused"),
], ids=["no driver", "unknown dialect", "no server"])
def test_a_storage_that_cannot_open_is_one_line_before_any_work(
        url: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if "driver" in message:
        monkeypatch.setitem(sys.modules, "psycopg", None)  # as if never installed
    port = closed_port()
    status = main(["sweep", "-f", DEFAULT_PARAMS, "--grid", "epochs=1,2", "-p", "dataset",
                   "mnist_5k", "--sweep-dir", str(tmp_path / "sweep"),
                   "--storage", url.format(port=port)])
    assert status == 1
    assert capsys.readouterr().err == f"error: {message.format(port=port)}\n"
    assert not (tmp_path / "sweep").exists()


def test_compare_names_a_run_without_results(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "run").mkdir()
    status = main(["compare", str(tmp_path / "run"), "--out", str(tmp_path / "out")])
    assert status == 1
    assert "training.json does not exist" in capsys.readouterr().err
