"""The runner: parameter checks before any work, a full run on a subset, a failing step."""

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import FASHION_FILES, real_fashion_mnist_available

from helpers import artifacts, parameters
from helpers.data import datasets
from helpers.parameters import ParameterError
from helpers.runner import execute as pipeline

DEFAULT_PARAMS = artifacts.PROJECT_ROOT / "params" / "default.yaml"
FIGURES = ("samples", "class_distribution", "training_curves", "confusion_counts",
           "confusion_normalized", "misclassified")


def run_pipeline(*arguments: str, timeout: float = 900,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.runner", "run", *arguments],
                          capture_output=True, text=True, timeout=timeout,
                          cwd=artifacts.PROJECT_ROOT, env=env)


def test_every_notebook_declares_one_parameters_cell() -> None:
    for name in pipeline.NOTEBOOKS:
        notebook = nbformat.read(pipeline.NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
        tagged = [cell for cell in notebook.cells
                  if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        assert notebook.cells[0].source.startswith("# "), f"{name} needs an H1 title first"
        assert "colab.research.google.com" in notebook.cells[0].source


def test_unknown_parameter_fails_before_any_work(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "epochs", "1",
                          "-p", "no_such_param", "3", "--run-dir", str(run_dir), timeout=120)
    assert result.returncode != 0
    assert "unknown parameter 'no_such_param'" in result.stderr
    assert "Valid parameters:" in result.stderr and "learning_rate" in result.stderr
    assert not run_dir.exists()


def test_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(ParameterError, match="--overwrite"):
        pipeline.run(DEFAULT_PARAMS, [], tmp_path, log=lambda *_, **__: None)
    assert (tmp_path / "metrics.json").read_text() == "{}"


def test_failing_step_is_named_and_its_notebook_kept(tmp_path: Path, fashion_dir: Path) -> None:
    notebooks = notebooks_with_extra_cell(tmp_path, "raise RuntimeError('the cell broke')")
    run_dir = tmp_path / "run"
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "data_dir", str(fashion_dir),
                          "--notebooks-dir", str(notebooks), "--run-dir", str(run_dir),
                          timeout=300)
    assert result.returncode == 1
    assert "01_load_data failed in cell" in result.stderr
    assert "RuntimeError: the cell broke" in result.stderr
    kept = nbformat.read(run_dir / "01_load_data.ipynb", as_version=4)
    errors = [output for cell in kept.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors and errors[0].ename == "RuntimeError"
    assert not (run_dir / "02_preprocess.ipynb").exists()


def test_bad_data_fails_before_the_run_directory_is_touched(tmp_path: Path,
                                                           fashion_dir: Path) -> None:
    # A truncated labels file: the runner loads the data before it writes anything.
    labels = fashion_dir / f"{FASHION_FILES[1]}.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-5]))
    new_run = tmp_path / "new-run"
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "data_dir", str(fashion_dir),
                          "--run-dir", str(new_run), timeout=300)
    assert result.returncode == 1
    assert "cannot be loaded, so nothing was run or written" in result.stderr
    assert str(labels) in result.stderr and "header promises shape (200,)" in result.stderr
    assert not new_run.exists()

    earlier_run = tmp_path / "earlier-run"
    earlier_run.mkdir()
    (earlier_run / "metrics.json").write_text('{"test_accuracy": 0.93}')
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "data_dir", str(fashion_dir),
                          "--run-dir", str(earlier_run), "--overwrite", timeout=300)
    assert result.returncode == 1 and "cannot be loaded" in result.stderr
    assert sorted(path.name for path in earlier_run.iterdir()) == ["metrics.json"]
    assert (earlier_run / "metrics.json").read_text() == '{"test_accuracy": 0.93}'


@pytest.mark.skipif(not real_fashion_mnist_available(),
                    reason="real Fashion-MNIST not found: `apt-get install dataset-fashion-mnist`")
def test_full_pipeline_on_a_real_subset(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # One-hot labels here; the nbval run covers the default sparse labels. Batches of 32
    # give batch normalization's test-time statistics enough steps (85) to settle.
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "epochs", "1",
                          "-p", "max_train_images", "3000", "-p", "max_test_images", "500",
                          "-p", "batch_size", "32", "-p", "label_encoding", "one_hot",
                          "--run-dir", str(run_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in pipeline.NOTEBOOKS:
        assert re.search(rf"{name} +done in +[0-9.]+ s", result.stdout), result.stdout
        assert (run_dir / f"{name}.ipynb").is_file()
    for name in FIGURES:
        assert artifacts.figure_path(run_dir, name).stat().st_size > 5_000, name
    # The epoch was shown as it finished, and TensorBoard has the curves.
    assert re.search(r"\n {6}\d\d:\d\d:\d\d  epoch   1/1  loss [0-9.]+  accuracy", result.stdout)
    assert list((run_dir / artifacts.TENSORBOARD_DIR / "validation").glob("events.out.*"))

    metrics = json.loads((run_dir / artifacts.METRICS).read_text())
    assert metrics["test_images"] == 500 and metrics["epochs_run"] == 1
    assert 0.6 < metrics["test_accuracy"] <= 1.0  # one epoch on 2,700 real images: ~0.8
    assert set(metrics["per_class"]) == set(datasets.FASHION_MNIST_CLASSES)
    assert np.array(metrics["confusion_matrix"]).sum() == 500
    for key in ("precision_macro", "recall_macro", "f1_macro", "precision_weighted",
                "recall_weighted", "f1_weighted", "train_seconds"):
        assert 0 < metrics[key]

    history = (run_dir / artifacts.HISTORY).read_text().splitlines()
    assert history[0].startswith("epoch,") and len(history) == 2
    manifest = json.loads((run_dir / artifacts.MANIFEST).read_text())
    assert manifest["parameters"]["epochs"] == 1
    assert list(manifest["step_seconds"]) == list(pipeline.NOTEBOOKS)
    assert len(manifest["dataset"]["files"]) == 4 and manifest["versions"]["keras"]
    assert manifest["onednn"]["set_by"] in ("helpers", "user", "tensorflow default")
    assert "commit" in manifest["git"]

    # Each notebook received only the parameters it declares.
    evaluate = nbformat.read(run_dir / "05_evaluate.ipynb", as_version=4)
    injected = next(cell for cell in evaluate.cells
                    if "injected-parameters" in cell.metadata.get("tags", []))
    assert "run_dir" in injected.source and "epochs" not in injected.source

    report = (run_dir / artifacts.REPORT).read_text()
    assert report.count("data:image/png;base64") >= len(FIGURES)  # every figure is shown
    assert all(title in report for title in ("01 · Load the data", "06 · Misclassifications"))

    import keras

    model = keras.models.load_model(run_dir / artifacts.MODEL, safe_mode=True)
    test_images = artifacts.read_arrays(run_dir / artifacts.DATASET_ARRAYS)["x_test"][:5]
    stored = artifacts.read_arrays(run_dir / artifacts.PREDICTIONS)["probabilities"][:5]
    np.testing.assert_allclose(model.predict(test_images, verbose=0), stored, atol=1e-5)


def notebooks_with_extra_cell(tmp_path: Path, source: str) -> Path:
    """A copy of notebooks/ whose 01_load_data ends with one more code cell."""
    import shutil

    copy = tmp_path / "notebooks"
    shutil.copytree(pipeline.NOTEBOOKS_DIR, copy)
    path = copy / "01_load_data.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, path)
    return copy


def test_dead_kernel_is_reported_as_such(tmp_path: Path, fashion_dir: Path) -> None:
    notebooks = notebooks_with_extra_cell(
        tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "data_dir", str(fashion_dir),
                          "--notebooks-dir", str(notebooks), "--run-dir", str(tmp_path / "run"),
                          timeout=300)
    assert result.returncode == 1
    assert "01_load_data failed: its kernel died" in result.stderr
    assert (tmp_path / "run" / "01_load_data.ipynb").is_file()


def test_cell_timeout_stops_the_run(tmp_path: Path, fashion_dir: Path) -> None:
    notebooks = notebooks_with_extra_cell(tmp_path, "import time\ntime.sleep(60)")
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "data_dir", str(fashion_dir),
                          "--notebooks-dir", str(notebooks), "--run-dir", str(tmp_path / "run"),
                          "--cell-timeout", "5", timeout=300)
    assert result.returncode == 1
    assert "01_load_data failed: a cell ran longer than --cell-timeout 5 s" in result.stderr


def kernels_started_by(pid: int) -> list[int]:
    """The Jupyter kernels a process started. jupyter_client starts each in a session of its
    own, so killing the runner's process group leaves them running until their parent poller
    notices, long enough to finish another epoch; a closed laptop stops them at once."""
    marker = f"JPY_PARENT_PID={pid}".encode()
    kernels = []
    for process in Path("/proc").iterdir():
        try:
            if process.name.isdigit() and marker in (process / "environ").read_bytes().split(b"\0"):
                kernels.append(int(process.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return kernels


@pytest.mark.skipif(not real_fashion_mnist_available(),
                    reason="real Fashion-MNIST not found: `apt-get install dataset-fashion-mnist`")
def test_killed_run_resumes_from_its_last_epoch_and_later_steps_rerun_alone(
        tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "helpers.runner", "run", "-f", str(DEFAULT_PARAMS),
               "-p", "epochs", "3", "-p", "max_train_images", "12000",
               "-p", "max_test_images", "500", "--run-dir", str(run_dir)]
    state_file = run_dir / "checkpoints" / "backup" / "state.json"
    # Kill the runner and its kernel (as a closed laptop would) in the
    # middle of the second epoch.
    runner = subprocess.Popen(command, cwd=artifacts.PROJECT_ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not state_file.is_file() and time.monotonic() < deadline and runner.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)
    for kernel in kernels_started_by(runner.pid):  # first, or it may finish another epoch
        os.kill(kernel, signal.SIGKILL)
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    assert state_file.is_file(), "training never finished an epoch"
    completed_epoch = json.loads(state_file.read_text())["epoch"]
    assert 1 <= completed_epoch < 3
    assert not (run_dir / artifacts.METRICS).exists()

    changed = run_pipeline(*command[4:-2], "-p", "learning_rate", "0.01",
                           "--run-dir", str(run_dir), timeout=120)
    default_rate = parameters.read_parameters_file(DEFAULT_PARAMS)["learning_rate"]
    assert changed.returncode == 1
    assert f"learning_rate: {default_rate} -> 0.01" in changed.stderr
    assert "--fresh" in changed.stderr

    resumed = run_pipeline(*command[4:])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for name in ("01_load_data", "02_preprocess", "03_build_model"):
        assert re.search(rf"{name} +unchanged, skipped", resumed.stdout), resumed.stdout
    assert "04_train              resuming" in resumed.stdout
    trained = nbformat.read(run_dir / "04_train.ipynb", as_version=4)
    assert f"resuming after epoch {completed_epoch}" in json.dumps(trained.cells)
    history = (run_dir / artifacts.HISTORY).read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3"]
    metrics = json.loads((run_dir / artifacts.METRICS).read_text())
    assert metrics["epochs_run"] == 3 and 0.6 < metrics["test_accuracy"] <= 1.0

    training_info = (run_dir / artifacts.TRAINING_INFO).read_text()
    again = run_pipeline("-f", str(DEFAULT_PARAMS), *command[6:-2], "--run-dir", str(run_dir),
                         "--from", "05_evaluate", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"04_train +before --from, kept", again.stdout)
    assert re.search(r"05_evaluate +done in", again.stdout)
    assert (run_dir / artifacts.TRAINING_INFO).read_text() == training_info

    finished = run_pipeline(*command[4:], timeout=120)
    assert finished.returncode == 1 and "already holds a finished run" in finished.stderr
