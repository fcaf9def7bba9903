"""Colab runs that survive a disconnect: the project's reports/runs/ kept on Google Drive.

A Colab virtual machine and its disk vanish when the session disconnects. With the runs
folder on Drive, the run directory (its checkpoints and per-epoch backup included) outlives
the machine: on a new one, the notebooks' first cell mounts Drive again and re-running the
notebook, or the runner's command, resumes training after the last finished epoch, as it
does locally. Outside Colab nothing here runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# The first code cell of every notebook, kept here once: `make notebooks` (execute_in_place)
# writes it into each notebook and tests/unit/test_colab.py checks that all eight carry it.
# It must run before the project is installed, so it cannot import it: only this copy is
# imported, by the runner and the test.
SETUP_CELL = "\n".join([
    "# On Google Colab only: fetch the project and install its helpers, so every cell below runs",
    "# unchanged, and keep the runs on Google Drive, so a disconnect loses nothing: run the",
    "# notebook again and training resumes after its last finished epoch. Elsewhere (JupyterLab,",
    "# papermill, nbval) this cell does nothing.",
    "import sys",
    "",
    "KEEP_RUNS_ON_DRIVE = True  # False keeps them on the Colab machine, lost when it disconnects",
    'if "google.colab" in sys.modules:',
    "    import os",
    "",
    '    project = "/content/image-classifier-notebooks"',
    "    if not os.path.isdir(project):",
    "        !git clone --quiet --depth 1 "
    "https://github.com/image-classifier-notebooks/image-classifier-notebooks {project}",
    "        %pip install --quiet -e {project}",
    "    sys.path.insert(0, project)",
    '    os.chdir(f"{project}/notebooks")',
    "    if KEEP_RUNS_ON_DRIVE:",
    "        from helpers import colab",
    "",
    "        colab.keep_runs_on_drive(project)",
])
SETUP_CELL_TAG = "report-hide"  # the report leaves it out
DRIVE_MOUNT_POINT = Path("/content/drive")
DRIVE_RUNS_FOLDER = "MyDrive/image-classifier-notebooks/runs"


def keep_runs_on_drive(project: str | Path, mount_point: str | Path = DRIVE_MOUNT_POINT,
                       runs_folder: str = DRIVE_RUNS_FOLDER) -> Path:
    """Mount Drive and make <project>/reports/runs a link to a folder there; returns it.

    Runs already in the local folder are moved to Drive first, never overwritten (one whose
    name Drive already has arrives as <name>-local, -local-2, ...); calling it again (every
    notebook's first cell does) changes nothing.
    """
    from google.colab import drive  # only importable on Colab

    drive.mount(str(mount_point))  # asks for permission once per Colab session
    target = Path(mount_point) / runs_folder
    target.mkdir(parents=True, exist_ok=True)
    runs = Path(project) / "reports" / "runs"
    if runs.is_symlink():
        if runs.resolve() == target.resolve():
            return target
        runs.unlink()
    elif runs.is_dir():
        for run in runs.iterdir():
            shutil.move(str(run), free_name(target, run.name))
        runs.rmdir()  # empty now; rmdir, not rmtree, so nothing unmoved could be deleted
    runs.parent.mkdir(parents=True, exist_ok=True)
    runs.symlink_to(target, target_is_directory=True)
    print(f"runs are kept on Google Drive: {target}")
    return target


def with_setup_cell(notebook: dict) -> dict:
    """The notebook (nbformat's dict) with SETUP_CELL as its first code cell's source."""
    cell = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    cell["source"] = SETUP_CELL
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if SETUP_CELL_TAG not in tags:
        tags.append(SETUP_CELL_TAG)
    return notebook


def free_name(folder: Path, name: str) -> Path:
    """folder/name, or folder/name-local, name-local-2, ... if that is taken."""
    candidate, number = folder / name, 1
    while candidate.exists() or candidate.is_symlink():
        candidate = folder / (f"{name}-local" + (f"-{number}" if number > 1 else ""))
        number += 1
    return candidate
