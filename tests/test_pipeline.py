"""The runner: parameter checks before any work, a full run on a subset, a failing step."""

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import FASHION_FILES, write_fashion_idx

from helpers import artifacts, datasets, pipeline

DEFAULT_PARAMS = artifacts.PROJECT_ROOT / "params" / "default.yaml"
FIGURES = ("samples", "class_distribution", "training_curves", "confusion_counts",
           "confusion_normalized", "misclassified")


def run_pipeline(*arguments: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.pipeline", "run", *arguments],
                          capture_output=True, text=True, timeout=timeout,
                          cwd=artifacts.PROJECT_ROOT)


def real_fashion_mnist_available() -> bool:
    try:
        datasets.load_fashion_mnist(download=False)
    except datasets.DatasetNotFoundError:
        return False
    return True


def test_every_notebook_declares_one_parameters_cell() -> None:
    for name in pipeline.NOTEBOOKS:
        notebook = nbformat.read(pipeline.NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
        tagged = [cell for cell in notebook.cells
                  if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        assert notebook.cells[0].source.startswith("# "), f"{name} needs an H1 title first"
        assert "colab.research.google.com" in notebook.cells[0].source


def test_default_params_only_name_declared_parameters() -> None:
    declared = pipeline.declared_parameters()
    pipeline.check_parameters(pipeline.read_parameters_file(DEFAULT_PARAMS), declared)
    assert set(declared["05_evaluate"]) == {"run_dir"}
    assert "epochs" in declared["04_train"] and "epochs" not in declared["03_build_model"]


@pytest.mark.parametrize("text, value", [("3", 3), ("1e-3", 0.001), ("0.5", 0.5),
                                         ("true", True), ("[16, 32]", [16, 32]),
                                         ("cosine", "cosine"), ("null", None)])
def test_override_values_are_typed(text: str, value: object) -> None:
    assert pipeline.parse_override(text) == value


def test_unknown_parameter_fails_before_any_work(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "epochs", "1",
                          "-p", "no_such_param", "3", "--run-dir", str(run_dir), timeout=120)
    assert result.returncode != 0
    assert "unknown parameter 'no_such_param'" in result.stderr
    assert "Valid parameters:" in result.stderr and "learning_rate" in result.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize("name, value, message", [
    ("epochs", "ten", "parameter 'epochs' must be int"),
    ("batch_norm", "3", "parameter 'batch_norm' must be bool"),
    ("run_dir", "/tmp/x", "use --run-dir"),
])
def test_wrongly_typed_or_reserved_parameter_is_refused(name: str, value: str,
                                                        message: str) -> None:
    declared = pipeline.declared_parameters()
    with pytest.raises(pipeline.ParameterError, match=message):
        pipeline.check_parameters({name: pipeline.parse_override(value)}, declared)


def test_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(pipeline.ParameterError, match="--overwrite"):
        pipeline.run(DEFAULT_PARAMS, [], tmp_path, log=lambda *_, **__: None)
    assert (tmp_path / "metrics.json").read_text() == "{}"


def test_failing_step_is_named_and_its_notebook_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_fashion_idx(data_dir)
    # A truncated labels file: 01_load_data must fail and the run stop there.
    labels = data_dir / f"{FASHION_FILES[1]}.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-5]))
    run_dir = tmp_path / "run"
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "data_dir", str(data_dir),
                          "--run-dir", str(run_dir), timeout=300)
    assert result.returncode == 1
    assert "01_load_data failed in cell" in result.stderr
    assert "DatasetFormatError" in result.stderr and str(labels) in result.stderr
    kept = nbformat.read(run_dir / "01_load_data.ipynb", as_version=4)
    errors = [output for cell in kept.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors and errors[0].ename == "DatasetFormatError"
    assert not (run_dir / "02_preprocess.ipynb").exists()


@pytest.mark.skipif(not real_fashion_mnist_available(),
                    reason="real Fashion-MNIST not found: `apt-get install dataset-fashion-mnist`")
def test_full_pipeline_on_a_real_subset(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # One-hot labels here; the nbval run covers the default sparse labels.
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "epochs", "1",
                          "-p", "max_train_images", "3000", "-p", "max_test_images", "500",
                          "-p", "label_encoding", "one_hot", "--run-dir", str(run_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in pipeline.NOTEBOOKS:
        assert re.search(rf"{name} +done in +[0-9.]+ s", result.stdout), result.stdout
        assert (run_dir / f"{name}.ipynb").is_file()
    for name in FIGURES:
        assert artifacts.figure_path(run_dir, name).stat().st_size > 5_000, name

    metrics = json.loads((run_dir / artifacts.METRICS).read_text())
    assert metrics["test_images"] == 500 and metrics["epochs_run"] == 1
    assert 0.5 < metrics["test_accuracy"] <= 1.0  # one epoch on 2,700 real images
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
    assert "commit" in manifest["git"]

    # Each notebook received only the parameters it declares.
    evaluate = nbformat.read(run_dir / "05_evaluate.ipynb", as_version=4)
    injected = next(cell for cell in evaluate.cells
                    if "injected-parameters" in cell.metadata.get("tags", []))
    assert "run_dir" in injected.source and "epochs" not in injected.source

    report = (run_dir / artifacts.REPORT).read_text()
    assert "data:image/png;base64" in report
    assert all(title in report for title in ("01 · Load the data", "06 · Misclassifications"))

    import keras

    model = keras.models.load_model(run_dir / artifacts.MODEL, safe_mode=True)
    test_images = artifacts.read_arrays(run_dir / artifacts.DATASET_ARRAYS)["x_test"][:5]
    stored = artifacts.read_arrays(run_dir / artifacts.PREDICTIONS)["probabilities"][:5]
    np.testing.assert_allclose(model.predict(test_images, verbose=0), stored, atol=1e-5)


def test_publish_reference_keeps_small_files_only(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "figures").mkdir(parents=True)
    for name in ("01_load_data.ipynb", "metrics.json", "manifest.json", "history.csv",
                 "figures/samples.png", "model.keras", "dataset.npz", "report.html"):
        (run_dir / name).write_text(name)
    references = tmp_path / "reference"
    (references / "default").mkdir(parents=True)
    (references / "default" / "stale.json").write_text("old")
    published = pipeline.publish_reference(run_dir, "default", references)
    kept = sorted(str(path.relative_to(published)) for path in published.rglob("*")
                  if path.is_file())
    assert kept == ["01_load_data.ipynb", "figures/samples.png", "history.csv",
                    "manifest.json", "metrics.json"]
    assert sorted(path.name for path in references.iterdir()) == ["default"]


def test_unfinished_run_cannot_be_published(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="only a finished run"):
        pipeline.publish_reference(tmp_path, "default", tmp_path / "reference")
