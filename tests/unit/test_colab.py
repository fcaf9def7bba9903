"""On Colab, runs live on Google Drive and a new machine finds them where it left them."""

import json
import sys
import types
from pathlib import Path

import pytest

from helpers import artifacts, colab


@pytest.fixture
def fake_colab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A google.colab module whose drive.mount makes a 'MyDrive' folder, as Colab's does."""
    mounted: list[str] = []

    def mount(mount_point: str) -> None:
        (Path(mount_point) / "MyDrive").mkdir(parents=True, exist_ok=True)
        mounted.append(mount_point)

    google = types.ModuleType("google")
    module = types.ModuleType("google.colab")
    module.drive = types.SimpleNamespace(mount=mount)
    google.colab = module
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", module)
    return mounted


def test_runs_move_to_drive_and_a_new_machine_finds_them(tmp_path: Path,
                                                         fake_colab: list[str]) -> None:
    drive = tmp_path / "drive"
    project = tmp_path / "vm1" / "project"
    old_run = project / "reports" / "runs" / "earlier"
    old_run.mkdir(parents=True)
    (old_run / "metrics.json").write_text("{}")

    target = colab.keep_runs_on_drive(project, drive)
    runs = project / "reports" / "runs"
    assert runs.is_symlink() and runs.resolve() == target.resolve()
    assert (target / "earlier" / "metrics.json").read_text() == "{}"  # moved, not lost
    assert colab.keep_runs_on_drive(project, drive) == target  # the next notebook: no change
    # Training writes its backup through the usual run_dir path; it lands on Drive.
    backup = runs / "notebooks" / "checkpoints" / "backup" / "state.json"
    backup.parent.mkdir(parents=True)
    backup.write_text('{"epoch": 3}')

    # The VM is gone; a new one clones the project afresh and mounts Drive again.
    fresh = tmp_path / "vm2" / "project"
    (fresh / "reports").mkdir(parents=True)
    colab.keep_runs_on_drive(fresh, drive)
    resumed = fresh / "reports" / "runs" / "notebooks" / "checkpoints" / "backup"
    assert (resumed / "state.json").read_text() == '{"epoch": 3}'  # 04 resumes after epoch 3
    assert fake_colab == [str(drive)] * 3


def test_a_local_run_whose_name_drive_already_has_is_kept_beside_it(
        tmp_path: Path, fake_colab: list[str]) -> None:
    drive = tmp_path / "drive"
    on_drive = drive / colab.DRIVE_RUNS_FOLDER / "notebooks"
    on_drive.mkdir(parents=True)
    (on_drive / "metrics.json").write_text('{"from": "drive"}')
    project = tmp_path / "project"
    local = project / "reports" / "runs" / "notebooks"
    local.mkdir(parents=True)
    (local / "metrics.json").write_text('{"from": "this machine"}')

    target = colab.keep_runs_on_drive(project, drive)
    assert (target / "notebooks" / "metrics.json").read_text() == '{"from": "drive"}'
    assert (target / "notebooks-local" / "metrics.json").read_text() == '{"from": "this machine"}'


def test_every_notebook_opens_with_the_one_setup_cell() -> None:
    """helpers.colab.SETUP_CELL is the one copy; `make notebooks` writes it into all eight."""
    for path in sorted((artifacts.PROJECT_ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
        assert "".join(first["source"]) == colab.SETUP_CELL, path.name
        assert colab.SETUP_CELL_TAG in first["metadata"]["tags"], path.name


def test_the_setup_cell_is_written_over_an_edited_one() -> None:
    notebook = {"cells": [{"cell_type": "markdown", "source": "# Title", "metadata": {}},
                          {"cell_type": "code", "source": "old", "metadata": {}}]}
    first = colab.with_setup_cell(notebook)["cells"][1]
    assert first["source"] == colab.SETUP_CELL and first["metadata"]["tags"] == ["report-hide"]
