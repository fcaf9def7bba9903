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


def free_name(folder: Path, name: str) -> Path:
    """folder/name, or folder/name-local, name-local-2, ... if that is taken."""
    candidate, number = folder / name, 1
    while candidate.exists() or candidate.is_symlink():
        candidate = folder / (f"{name}-local" + (f"-{number}" if number > 1 else ""))
        number += 1
    return candidate
