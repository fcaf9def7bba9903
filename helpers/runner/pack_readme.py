"""The README.md of a packed hand-in: what the folder is, the data it needs, how to re-run it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class DataItem:
    """A file or folder the run read: how it is named, where it goes in the pack, whence."""

    kind: str  # "parameter NAME", "data file", "Python package" or "Debian package"
    recorded: str  # as the run's records name it
    target: str | None  # its place in the pack (None: a package, installed, never copied)
    source: Path | None  # where it is on this machine (None: a package, or missing)
    size: int = 0
    packed: bool = False
    package: str = ""  # the package that installed it


def data_lines(items: list[DataItem], limit: int) -> list[str]:
    """One bullet per item: packed, installed by a package, or to be put in place by hand."""
    lines = []
    for item in items:
        if item.kind == "Python package":
            lines.append(f"- {item.recorded}: installed by `requirements.lock`")
        elif item.kind == "Debian package":
            lines.append(f"- {item.recorded}: `sudo apt-get install {item.package}`, or let "
                         "the loader fall back to Keras's download on the first run")
        elif item.packed:
            lines.append(f"- `{item.target}` ({item.kind}): packed, {item.size / 1e6:.1f} MB")
        elif item.source is None:
            lines.append(f"- `{item.target}` ({item.kind}): was not found when packing; put it "
                         "there")
        else:
            lines.append(f"- `{item.target}` ({item.kind}): not packed ({item.size / 1e6:.0f} MB,"
                         f" over the {limit / 1e6:.0f} MB limit); put it at that path in this "
                         "folder")
    return lines or ["- nothing: the dataset is downloaded (Keras) on the first run"]


def run_lines(manifest: dict[str, Any], code: str) -> list[str]:
    """When, how and on what the run was made."""
    versions = manifest.get("versions") or {}
    machine = manifest.get("machine") or {}
    found = [f"- finished {manifest.get('finished_at', 'at an unknown time')} (UTC), seed "
             f"{manifest.get('seed')}, in {manifest.get('total_seconds', 0):.0f} s",
             f"- Python {versions.get('python', '?')}, TensorFlow "
             f"{versions.get('tensorflow') or versions.get('tensorflow-cpu', '?')}, Keras "
             f"{versions.get('keras', '?')}, on {machine.get('processor', 'an unknown CPU')}"
             + (f" and {', '.join(machine['gpus'])}" if machine.get("gpus") else ""),
             f"- `helpers/` holds {code}"]
    return found


def readme_text(manifest: dict[str, Any], dataset: dict[str, Any], parameters_file: str,
                items: list[DataItem], code: str, limit: int) -> str:
    """The hand-in's README.md."""
    name = manifest.get("run_name", "the run")
    stem = Path(parameters_file).stem
    source = dataset.get("source", "")
    return "\n".join([
        f"# Hand-in: {name}",
        "",
        "A finished run of the image-classifier notebooks, packed so that it can be read and "
        "re-run from this folder alone.",
        "",
        "| | |", "| --- | --- |",
        "| `report.html`, `report.pdf` | the report: the eight executed notebooks in one file "
        "(the PDF where a headless Chromium printed one) |",
        "| `notebooks/` | the executed notebooks, 01_load_data to 08_conclusion, in order |",
        f"| `{parameters_file}` | the parameters the run was made with (its params file and "
        "its `-p` values) |",
        "| `results/` | the run's records: dataset.json, preprocess.json, model.json, "
        "training.json, metrics.json, manifest.json, history.csv, figures/ |",
        "| `helpers/`, `pyproject.toml`, `requirements.lock` | the code the notebooks call, and "
        "the package versions it was tested with |",
        *(["| `data/` | the data files the run read, where they are small |"]
          if any(item.packed for item in items) else []),
        "", "## The run", "", *run_lines(manifest, code), "",
        "## The data it needs", "",
        f"Dataset `{dataset.get('name', manifest.get('parameters', {}).get('dataset'))}`, read "
        f"from {source or 'the files below'}. A file or folder of at most "
        f"{limit / 1e6:.0f} MB is packed at the path the run read it from (relative to the "
        "project; files from outside the project go to `data/`); a larger one is named here.",
        "", *data_lines(items, limit), "",
        "## Re-run it", "",
        "From this folder, with Python 3.11:", "", "```bash",
        "python3 -m venv .venv",
        ".venv/bin/pip install -r requirements.lock && .venv/bin/pip install -e .",
        f".venv/bin/python -m helpers.runner run -f {parameters_file}", "```", "",
        f"The new run goes to `reports/runs/<time>-{stem}/` in this folder, with its own "
        "report.html; `results/` stays as handed in. The same seed on the same kind of "
        "machine gives the same figures (`deterministic_ops`); another CPU or a GPU may "
        "differ in the last digits.",
        "",
        "Or open the notebooks in JupyterLab (`.venv/bin/pip install -r requirements-lab.lock`,"
        " then `.venv/bin/jupyter lab`) and run `notebooks/01_load_data.ipynb` to "
        "`08_conclusion.ipynb` in order. Each keeps the run's values in the cell papermill "
        "injected after its parameters cell, made relative to `notebooks/` (not stripped, so "
        f"that they re-run with this run's parameters, not the defaults): `run_dir` is "
        f"`../{manifest.get('run_dir_name', 'reports/runs/' + name)}`, so they write into "
        "this folder's `reports/runs/`.",
        ""])
