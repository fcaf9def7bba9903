"""Your own model through all eight notebooks: the small residual network of
tests/own_models/residual.py (a skip connection, a custom registered layer) run by the runner
on a tiny subset, then every step's files, 03's listing of the file, the export table, a
server and a fresh process predicting with it, and the truth checker on every sentence.

One papermill run per test session (`own_model_run`, cached); the module is one xdist group,
so `--dist loadgroup` keeps its tests on the worker that makes the run.
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from test_pipeline import run_pipeline
from truth import check_run, visible_texts

from helpers import artifacts
from helpers.data import preprocess
from helpers.evaluation import export
from helpers.model import own_model

pytestmark = pytest.mark.xdist_group("own-model-run")

MODEL_FILE = Path("tests") / "own_models" / "residual.py"
PARAMS = artifacts.PROJECT_ROOT / "params" / "own_model.yaml"
# What each step leaves in the run directory (figures aside).
STEP_FILES = {
    "01_load_data": ["dataset.npz", "dataset.json"],
    "02_preprocess": ["split.npz", "preprocess.json"],
    "03_build_model": ["model_untrained.keras", "model.json", own_model.MODEL_SOURCE],
    "04_train": ["model.keras", "history.csv", "training.json"],
    "05_evaluate": ["metrics.json", "predictions.npz", "classification_report.txt"],
    "06_misclassifications": ["confused_pairs.csv"],
    "07_export": [export.EXPORT_INFO, export.KERAS_EXPORT,
                  f"{export.EXPORT_DIR}/{own_model.MODEL_SOURCE}"],
    "08_conclusion": ["report.html", "manifest.json"],
}


@functools.cache
def own_model_run(root: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """params/own_model.yaml with the test's residual network, one epoch on 600 digits."""
    run_dir = root / "own-model-run"
    result = run_pipeline("-f", str(PARAMS), "-p", "model_file", str(MODEL_FILE),
                          "-p", "max_train_images", "600", "-p", "max_test_images", "200",
                          "-p", "epochs", "1", "--run-dir", str(run_dir))
    return run_dir, result


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, result = own_model_run(tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def notebook_text(run_dir: Path, name: str) -> str:
    notebook = nbformat.read(run_dir / f"{name}.ipynb", as_version=4)
    return "\n".join(text for text, _ in visible_texts(notebook))


def test_every_step_wrote_its_files(run_dir: Path) -> None:
    for step, names in STEP_FILES.items():
        assert (run_dir / f"{step}.ipynb").is_file(), step
        for name in names:
            assert (run_dir / name).is_file(), f"{step}: {name}"
    model = artifacts.read_json(run_dir / "model.json")["architecture"]
    assert model["architecture"] == "file" and model["model_file"] == str(MODEL_FILE)
    classes = [layer["class"] for layer in model["built_layers"]]
    assert {"Add", "ChannelScale", "GlobalAveragePooling2D"} <= set(classes)
    source = (artifacts.PROJECT_ROOT / MODEL_FILE).read_text()
    assert (run_dir / own_model.MODEL_SOURCE).read_text() == source
    assert (run_dir / export.EXPORT_DIR / own_model.MODEL_SOURCE).read_text() == source


def test_03_shows_the_files_source_and_the_built_summary(run_dir: Path) -> None:
    notebook = nbformat.read(run_dir / "03_build_model.ipynb", as_version=4)
    shown = "\n".join(text for text, _ in visible_texts(notebook, hidden=frozenset()))
    source = (artifacts.PROJECT_ROOT / MODEL_FILE).read_text().rstrip()
    assert f"```python\n{source}\n```" in shown
    assert "`build_model` in `tests/own_models/residual.py` returns the network" in shown
    assert 'Model: "tiny_residual"' in shown and "block_add (Add)" in shown
    assert "add stem + block_scale (a skip connection: stem's output added back)" in shown
    assert "**Skip connection**" in shown and "**Flatten**" not in shown


def test_the_report_describes_the_built_network(run_dir: Path) -> None:
    assert ("This run trained the network that build_model in residual.py returns (2 "
            "convolutions, 1 custom ChannelScale layer, 1 skip connection, 1 global average "
            "pooling layer and 1 dense layer)") in notebook_text(run_dir, "08_conclusion")


def test_export_json_lists_the_formats_made(run_dir: Path) -> None:
    info = artifacts.read_json(run_dir / export.EXPORT_INFO)
    assert info["made"] == [row["format"] for row in info["formats"]]
    assert set(info["made"]) | set(info["not_made"]) == set(export.FORMATS)
    assert "keras" in info["made"]
    for name in info["made"]:
        row = next(row for row in info["formats"] if row["format"] == name)
        assert (run_dir / row["path"]).exists(), name
    printed = notebook_text(run_dir, "07_export")
    for name, reason in info["not_made"].items():
        assert f"{name:<15} not made: {reason}" in printed


def test_a_server_predicts_with_the_run_like_05(run_dir: Path) -> None:
    from helpers.serving import app as serve

    test = preprocess.load_split(run_dir, "test")
    expected = artifacts.read_arrays(run_dir / artifacts.PREDICTIONS)["probabilities"][:8]
    with TestClient(serve.create_app(run_dir)) as client:
        assert client.get("/metadata").json()["model_file"] == "model.keras"
        answer = client.post("/predict/pixels", json={"images": test.images[:8].tolist()})
    assert answer.status_code == 200, answer.text
    predicted = [ranked[0]["index"] for ranked in answer.json()["predictions"]]
    assert predicted == np.argmax(expected, axis=1).tolist()


def test_a_fresh_process_loads_the_model_from_the_run_directory_alone(run_dir: Path,
                                                                      tmp_path: Path) -> None:
    image = preprocess.load_split(run_dir, "test").images[0]
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0]).save(buffer, format="PNG")
    (tmp_path / "digit.png").write_bytes(buffer.getvalue())
    result = subprocess.run([sys.executable, "-m", "helpers.serving.predict", "--run-dir",
                             str(run_dir), "--json", str(tmp_path / "digit.png")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"top": [{"class": ' in result.stdout


def test_the_truth_checker_passes_on_the_run(run_dir: Path) -> None:
    findings = check_run(run_dir)
    assert not findings, "sentences not true of this run:\n" + "\n".join(map(str, findings))
