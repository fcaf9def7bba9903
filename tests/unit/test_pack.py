"""`imgclf pack` on a made-up finished run: what the hand-in holds, and that it names no path
of the machine that made it (tests/pipeline/test_handin_pack.py re-runs a real one)."""

import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from test_locations import injected_notebook

from helpers import artifacts, locations
from helpers.runner import cli
from helpers.runner.pack import CODE, copy_code, pack_run


def finished_run(tmp_path: Path, train_csv: Path) -> Path:
    """A run's files as the runner leaves them, its data read from outside the project."""
    run_dir = tmp_path / "20260101-000000-mine"
    artifacts.write_json(run_dir / artifacts.MANIFEST, {
        "parameters_file": "mine.yaml", "overrides": {"epochs": 2}, "seed": 42,
        "parameters": {"dataset": "csv", "train_path": str(train_csv), "epochs": 2},
        "git": {"commit": "0" * 40, "uncommitted_changes": True},
        "versions": {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1"},
        "machine": {"processor": "a CPU", "gpus": []}, "total_seconds": 60})
    artifacts.write_json(run_dir / artifacts.DATASET_INFO, {
        "name": "csv", "source": f"{train_csv} (test set: a stratified 0.2 of it, seed 42)",
        "files": [{"path": str(train_csv), "sha256": artifacts.file_sha256(train_csv)}]})
    artifacts.write_json(run_dir / "steps.json", {"01_load_data": {
        "status": "completed", "parameters": {"dataset": "csv", "train_path": str(train_csv)},
        "fingerprint": "x", "seconds": 1.0}})
    artifacts.write_json(run_dir / artifacts.METRICS, {"test_accuracy": 0.9})
    artifacts.write_text(run_dir / artifacts.HISTORY, "epoch,loss\n1,0.5\n")
    (run_dir / "figures").mkdir()
    (run_dir / "figures" / "samples.png").write_bytes(b"\x89PNG")
    artifacts.write_text(run_dir / "report.html", "<html></html>")
    (run_dir / "model.keras").write_bytes(b"large model")  # not a record: left out
    injected_notebook(run_dir / "01_load_data.ipynb", run_dir, str(train_csv))
    return run_dir


def test_a_pack_holds_the_report_notebooks_parameters_records_code_and_small_data(
        tmp_path: Path) -> None:
    train_csv = tmp_path / "own data" / "train.csv"
    train_csv.parent.mkdir()
    train_csv.write_text("0,1,2\n1,3,4\n")
    packed = pack_run(finished_run(tmp_path, train_csv), tmp_path / "handin")
    folder = packed.folder
    assert packed.notes == []
    for name in ("README.md", "report.html", "mine.yaml", "notebooks/01_load_data.ipynb",
                 "results/manifest.json", "results/dataset.json", "results/metrics.json",
                 "results/history.csv", "results/figures/samples.png", "data/train.csv",
                 "helpers/runner/pack.py", *CODE[1:3]):
        assert (folder / name).is_file(), name
    assert not list(folder.rglob("__pycache__")) and not (folder / "results/model.keras").exists()
    # The data read from outside the project is packed, and every record points at it.
    given = yaml.safe_load((folder / "mine.yaml").read_text())
    assert given == {"dataset": "csv", "train_path": "data/train.csv", "epochs": 2}
    assert artifacts.read_json(folder / "results/dataset.json")["files"][0]["path"] == \
        "data/train.csv"
    injected = next(cell for cell in nbformat.read(folder / "notebooks/01_load_data.ipynb", 4)
                    .cells if "injected-parameters" in cell.metadata.get("tags", []))
    assert 'train_path = "../data/train.csv"' in injected.source
    assert 'run_dir = "../reports/runs/20260101-000000-mine"' in injected.source
    readme = (folder / "README.md").read_text()
    assert "pip install -r requirements.lock && .venv/bin/pip install -e ." in readme
    assert "python -m helpers.runner run -f mine.yaml" in readme
    assert "`data/train.csv` (parameter train_path): packed" in readme
    assert [line for line in locations.absolute_paths(folder)
            if not line.startswith("helpers/")] == []
    with zipfile.ZipFile(packed.archive) as archive:
        assert "handin/README.md" in archive.namelist()


def test_data_over_the_limit_is_named_not_packed(tmp_path: Path) -> None:
    train_csv = tmp_path / "train.csv"
    train_csv.write_text("0,1,2\n" * 100)
    packed = pack_run(finished_run(tmp_path, train_csv), tmp_path / "handin", limit=100)
    assert not (packed.folder / "data" / "train.csv").exists()
    assert packed.notes == [f"not packed (0 MB, over the 0 MB limit): {train_csv}"]
    assert "`data/train.csv` (parameter train_path): not packed" in \
        (packed.folder / "README.md").read_text()


def test_the_pack_command_refuses_an_unfinished_run(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["pack", str(tmp_path)]) == 1
    assert "only a run the runner finished can be packed" in capsys.readouterr().err


@pytest.mark.skipif(not (artifacts.PROJECT_ROOT / ".git").exists(),
                    reason="the project is not a git checkout")
def test_the_code_of_a_clean_run_comes_from_its_commit(tmp_path: Path) -> None:
    commit = artifacts.git_state()["commit"]
    how = copy_code({"git": {"commit": commit, "uncommitted_changes": False}}, tmp_path)
    assert how == f"the code of commit {commit[:12]}, which made the run"
    committed = subprocess.run(["git", "-C", str(artifacts.PROJECT_ROOT), "show",
                                f"{commit}:helpers/runner/pack.py"], capture_output=True,
                               text=True, check=True).stdout
    assert (tmp_path / "helpers" / "runner" / "pack.py").read_text() == committed
    assert (tmp_path / "requirements.lock").is_file() and not list(tmp_path.rglob("*.pyc"))
