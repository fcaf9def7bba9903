"""The serving and dataset command lines (click): help, usage errors and exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import artifacts
from helpers.serving import app as serve
from helpers.serving import loadtest, predict

MODULES = ["helpers.serving", "helpers.serving.predict", "helpers.serving.loadtest",
           "helpers.data"]


@pytest.mark.parametrize("module", MODULES)
def test_python_dash_m_runs_each_command_line(module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                          text=True, cwd=artifacts.PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: python -m {module} ")


@pytest.mark.parametrize("main, script, arguments", [
    (serve.main, "imgclf-serve", []), (predict.main, "imgclf-predict", ["image.png"]),
    (loadtest.main, "imgclf-loadtest", [])])
def test_help_and_usage_errors_return_their_exit_codes(main, script: str, arguments: list[str],
                                                       capsys) -> None:
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith(f"Usage: {script} [OPTIONS]")
    assert main(arguments) == 2  # --run-dir is required
    assert "Error: Missing option '--run-dir'" in capsys.readouterr().err
    assert main(["--run-dir", "x", "--no-such-option", *arguments]) == 2
    assert "No such option '--no-such-option'" in capsys.readouterr().err


@pytest.mark.parametrize("main, arguments", [
    (serve.main, []), (predict.main, ["image.png"]), (loadtest.main, [])])
def test_a_run_directory_without_a_model_is_one_error_line_and_exit_2(
        main, arguments: list[str], tmp_path: Path, capsys) -> None:
    assert main(["--run-dir", str(tmp_path), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and str(tmp_path) in error and error.count("\n") == 1


def test_serve_refuses_an_unknown_log_level(capsys) -> None:
    assert serve.main(["--run-dir", "x", "--log-level", "loud"]) == 2
    assert "'loud' is not one of" in capsys.readouterr().err


def test_predict_checks_top_k_against_the_models_classes(trained_run: Path, capsys) -> None:
    assert predict.main(["--run-dir", str(trained_run), "--top-k", "11", "x.png"]) == 2
    assert capsys.readouterr().err == "error: --top-k must be from 1 to 10\n"
    assert predict.main(["--run-dir", str(trained_run)]) == 2  # no image
    assert "Missing argument 'IMAGES...'" in capsys.readouterr().err


def test_datasets_command_line_usage_errors(tmp_path: Path, capsys) -> None:
    from helpers.data.__main__ import main as datasets_main

    assert datasets_main(["--help"]) == 0
    assert "export-csv" in capsys.readouterr().out
    assert datasets_main(["export-csv", "nope", str(tmp_path)]) == 2
    assert "'nope' is not one of" in capsys.readouterr().err
    assert datasets_main(["export-csv", "csv", str(tmp_path / "out")]) == 1  # no --train-path
    assert capsys.readouterr().err.startswith("error: dataset='csv' needs the train_path")
