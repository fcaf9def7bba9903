"""What a run writes names no path of the machine that made it: its executed notebooks'
injected parameters and papermill's metadata, its parameters in manifest.json and steps.json.

A kernel is given absolute paths (it runs in notebooks/, the command was typed elsewhere);
once a notebook has run, its injected cell and metadata are rewritten to the same values
relative to the project: the run directory as `../reports/runs/<name>` and a data file as
`../data/raw/...` (from notebooks/, where a notebook opened in JupyterLab runs), so a
published or handed-in notebook opened elsewhere points into its own project.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers import artifacts, locations
from helpers.data.datasets import PATH_PARAMETERS

INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it writes
NOTEBOOKS_FOLDER = "notebooks"  # where a notebook runs: its paths are relative to it


def run_dir_name(run_dir: str | Path) -> str:
    """The run directory relative to the project root; a run made outside the project (a
    temporary folder) is named as the runner would have placed it, reports/runs/<name>."""
    run_dir = Path(run_dir).resolve()
    if run_dir.is_relative_to(artifacts.PROJECT_ROOT):
        return run_dir.relative_to(artifacts.PROJECT_ROOT).as_posix()
    return f"reports/runs/{run_dir.name}"


def from_notebooks(project_path: str) -> str:
    """A project-relative path as a notebook in notebooks/ reaches it: '../data/raw/x.csv'."""
    return posixpath.relpath(project_path, NOTEBOOKS_FOLDER)


def is_relative_path(name: str, value: Any) -> bool:
    """Whether a parameter holds a path relative to the project (the data's parameters)."""
    return (name in PATH_PARAMETERS and isinstance(value, str) and bool(value)
            and not Path(value).expanduser().is_absolute())


def kernel_parameters(parameters: Mapping[str, Any], run_dir: Path) -> dict[str, Any]:
    """What papermill passes the kernel: every path absolute, since it runs in notebooks/."""
    return {**{name: (str(artifacts.PROJECT_ROOT / value) if is_relative_path(name, value)
                      else value) for name, value in parameters.items()},
            "run_dir": str(run_dir)}


def absolute_data_paths(parameters: Mapping[str, Any]) -> dict[str, str]:
    """The data's path parameters as this machine reaches them (the check before a run)."""
    return {name: (str(artifacts.PROJECT_ROOT / value) if is_relative_path(name, value)
                   else value)
            for name, value in parameters.items() if name in PATH_PARAMETERS and value}


def notebook_parameters(parameters: Mapping[str, Any], run_dir_path: str) -> dict[str, Any]:
    """The injected values as a notebook shows them: paths relative to notebooks/."""
    return {**{name: from_notebooks(value) if is_relative_path(name, value) else value
               for name, value in parameters.items()},
            "run_dir": from_notebooks(run_dir_path)}


def rewrite_injected(notebook_path: Path, parameters: Mapping[str, Any],
                     run_dir_path: str) -> None:
    """Set an executed notebook's injected cell and papermill metadata to portable values.

    `parameters` are the step's (project-relative paths), `run_dir_path` the run directory
    relative to the project (run_dir_name); papermill's input and output paths become
    notebooks/<name>.ipynb and <run_dir_path>/<name>.ipynb.
    """
    import nbformat
    from papermill.translators import translate_parameters

    shown = notebook_parameters(parameters, run_dir_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if INJECTED_TAG in cell.metadata.get("tags", []):
            cell.source = translate_parameters("python3", "python", shown, "Parameters")
    papermill = notebook.metadata.get("papermill")
    if papermill is not None:
        papermill["parameters"] = shown
        papermill["input_path"] = f"{NOTEBOOKS_FOLDER}/{notebook_path.name}"
        papermill["output_path"] = f"{run_dir_path}/{notebook_path.name}"
    artifacts.write_text(notebook_path, nbformat.writes(notebook) + "\n")


def recorded_parameters(given: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as records keep them: each data path resolved from where the command
    was typed, then named relative to the project root (absolute only outside it)."""
    return {name: (locations.project_path(value) if name in PATH_PARAMETERS
                   and isinstance(value, str) and value else value)
            for name, value in given.items()}
