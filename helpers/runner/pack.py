"""A finished run packed as a hand-in a teacher can re-run: `imgclf pack RUN_DIR [OUT_DIR]`.

The folder (and a .zip of it) holds report.html/pdf, the executed notebooks in notebooks/,
the parameters the run was made with, the run's small records in results/, the `helpers`
package and the lock it was tested with, the data the run read when it is small (at most
DATA_LIMIT_BYTES a file or folder), and a README saying how to re-run it from that folder.
Everything inside names paths relative to the folder, never the machine that made it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers import artifacts, locations
from helpers.runner import execute, portable, steps
from helpers.runner.pack_readme import DataItem, readme_text
from helpers.runner.references import REFERENCE_PATTERNS

HANDINS_DIR = artifacts.PROJECT_ROOT / "reports" / "handins"
DATA_LIMIT_BYTES = 50_000_000  # a data file or folder larger than this is named, not packed
RESULTS = "results"  # the run's small records, as the run wrote them
CODE = ("helpers", "pyproject.toml", "requirements.lock", "requirements-lab.lock")
REPORTS = ("report.html", "report.pdf")
# Parameters that name a file or folder the notebooks read (besides the data's own).
PATH_SUFFIXES = ("_path", "_dir", "_file")
EXTRA_PATH_PARAMETERS = ("related_sweep",)


@dataclass
class Pack:
    """What `pack_run` wrote, and what a reader of the command's output should know."""

    folder: Path
    archive: Path
    notes: list[str] = field(default_factory=list)


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def _path_parameters(parameters: dict[str, Any]) -> dict[str, str]:
    """The parameters that name a file or folder, with their values."""
    return {name: value for name, value in parameters.items()
            if isinstance(value, str) and value and
            (name.endswith(PATH_SUFFIXES) or name in EXTRA_PATH_PARAMETERS)}


def _place(path: Path) -> str:
    """Where a file read by the run goes in the pack: its place in the project, or data/."""
    resolved = path.expanduser().resolve()
    if resolved.is_relative_to(artifacts.PROJECT_ROOT):
        return resolved.relative_to(artifacts.PROJECT_ROOT).as_posix()
    return f"data/{resolved.name}"


def data_items(manifest: dict[str, Any], dataset: dict[str, Any]) -> list[DataItem]:
    """Each file or folder the run read: those its parameters name, then dataset.json's."""
    items: dict[str, DataItem] = {}
    for name, value in _path_parameters(manifest.get("parameters") or {}).items():
        source = (artifacts.PROJECT_ROOT / value) if not Path(value).is_absolute() \
            else Path(value)
        items[value] = DataItem(f"parameter {name}", value, _place(source),
                                source if source.exists() else None)
    for entry in dataset.get("files", []):
        recorded = entry.get("path", "")
        for key, kind in ((locations.PYTHON_PACKAGE, "Python package"),
                          (locations.DEBIAN_PACKAGE, "Debian package")):
            if key in entry:
                items[entry[key]] = DataItem(kind, locations.describe_entry(entry), None, None,
                                             package=entry[key])
        if locations.PYTHON_PACKAGE in entry or locations.DEBIAN_PACKAGE in entry:
            continue
        source = locations.locate(entry)
        covered = source and any(item.source and source.is_relative_to(item.source)
                                 for item in items.values())
        if not covered:
            items[recorded] = DataItem("data file", recorded, _place(source or Path(recorded)),
                                       source if source and source.exists() else None)
    return list(items.values())


def outside_paths(items: list[DataItem]) -> dict[str, str]:
    """Each absolute (or ~/) path the run's files name, and the pack's own path for it;
    longest first, so a file inside a folder is replaced before the folder."""
    mapping = {str(item.source): item.target for item in items
               if item.source and item.target and str(item.source) != item.target}
    mapping.update({item.recorded: item.target for item in items
                    if item.target and item.recorded.startswith(("/", "~/"))})
    return dict(sorted(mapping.items(), key=lambda pair: -len(pair[0])))


def copy_data(items: list[DataItem], folder: Path, limit: int) -> None:
    """Copy each small item to its place in the pack; a large one is only named."""
    for item in items:
        if item.source is None or item.target is None:
            continue
        item.size = size_of(item.source)
        if item.size > limit:
            continue
        target = folder / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.source.is_dir():
            shutil.copytree(item.source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(item.source, target)
        item.packed = True


def copy_code(manifest: dict[str, Any], folder: Path) -> str:
    """The helpers package, pyproject.toml and the locks, as they were at the run's commit
    (git archive) when the run's tree was clean, else as the working tree has them now."""
    git = manifest.get("git") or {}
    commit = git.get("commit")
    state = "with uncommitted changes" if git.get("uncommitted_changes") else "of unknown state"
    if commit and git.get("uncommitted_changes") is False:
        listed = subprocess.run(["git", "-C", str(artifacts.PROJECT_ROOT), "ls-tree",
                                 "--name-only", commit, "--", *CODE],
                                capture_output=True, text=True, timeout=60)
        archive = subprocess.run(
            ["git", "-C", str(artifacts.PROJECT_ROOT), "archive", "--format=tar", commit,
             *listed.stdout.split()], capture_output=True, timeout=120)
        if listed.returncode == 0 and listed.stdout.strip() and archive.returncode == 0:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(folder, filter="data")
            return f"the code of commit {commit[:12]}, which made the run"
        state = "which this checkout's history lacks"
    for name in CODE:
        source = artifacts.PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", ".ipynb_checkpoints"))
        elif source.is_file():
            shutil.copy2(source, folder / name)
    return (f"the working tree's code when packed (the run was made from commit "
            f"{(commit or 'unknown')[:12]} {state})")


def _mapped(value: Any, mapping: dict[str, str]) -> Any:
    """A parameter's value with a path read from outside the project replaced by its place."""
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    return locations.project_path(value) if isinstance(value, str) and Path(
        value).is_absolute() and Path(value).is_relative_to(artifacts.PROJECT_ROOT) else value


def _replace_text(folder: Path, mapping: dict[str, str]) -> None:
    """Replace each outside path by its place in the pack, in the records' text."""
    if not mapping:
        return
    for path in folder.rglob("*"):
        if path.suffix in (".json", ".csv", ".txt", ".yaml") and path.is_file():
            text = path.read_text(encoding="utf-8")
            for old, new in mapping.items():
                text = text.replace(old, new)
            path.write_text(text, encoding="utf-8")


def copy_notebooks(run_dir: Path, folder: Path, mapping: dict[str, str]) -> None:
    """The executed notebooks into notebooks/, their injected values relative to the pack."""
    state = steps.read_state(run_dir)
    for name in execute.NOTEBOOKS:
        source = run_dir / f"{name}.ipynb"
        if not source.is_file():
            continue
        target = folder / "notebooks" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        given = (state.get(name) or {}).get("parameters") or {}
        portable.rewrite_injected(target, {key: _mapped(value, mapping)
                                           for key, value in given.items()},
                                  portable.run_dir_name(run_dir))


def copy_records(run_dir: Path, folder: Path) -> None:
    """The run's small records (those a reference keeps) into results/, and the reports."""
    for pattern in REFERENCE_PATTERNS:
        if pattern.endswith(".ipynb"):
            continue
        for source in sorted(run_dir.glob(pattern)):
            target = folder / RESULTS / source.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name in REPORTS:
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, folder / name)


def write_parameters(manifest: dict[str, Any], folder: Path, mapping: dict[str, str]) -> str:
    """The parameters the run was given (its params file and -p values) as one YAML file."""
    name = Path(manifest.get("parameters_file") or "parameters.yaml").name
    given = {key: _mapped(value, mapping) for key, value in manifest["parameters"].items()}
    overrides = manifest.get("overrides") or {}
    header = (f"# The parameters run {manifest.get('run_name', '')} was made with: "
              f"{manifest.get('parameters_file') or 'its params file'}"
              + (f", and {', '.join(overrides)} given with -p" if overrides else "") + ".\n")
    artifacts.write_text(folder / name, header + yaml.safe_dump(given, sort_keys=False,
                                                                allow_unicode=True))
    return name


def pack_run(run_dir: str | Path, out_dir: str | Path | None = None,
             limit: int = DATA_LIMIT_BYTES) -> Pack:
    """Pack a finished run as a hand-in folder and a .zip of it; return both and the notes."""
    run_dir = Path(run_dir).resolve()
    manifest_path = artifacts.artifact_path(run_dir, artifacts.MANIFEST)
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{run_dir} has no {artifacts.MANIFEST}: only a run the runner "
                                "finished can be packed (imgclf run -f PARAMS)")
    manifest = {**artifacts.read_json(manifest_path), "run_name": run_dir.name,
                "run_dir_name": portable.run_dir_name(run_dir)}
    dataset_path = artifacts.artifact_path(run_dir, artifacts.DATASET_INFO)
    dataset = artifacts.read_json(dataset_path) if dataset_path.is_file() else {}
    out_dir = Path(out_dir or HANDINS_DIR / run_dir.name).resolve()
    items = data_items(manifest, dataset)
    mapping = outside_paths(items)
    with artifacts.atomic_directory(out_dir) as folder:
        copy_records(run_dir, folder)
        copy_notebooks(run_dir, folder, mapping)
        code = copy_code(manifest, folder)
        copy_data(items, folder, limit)
        parameters_file = write_parameters(manifest, folder, mapping)
        _replace_text(folder / RESULTS, mapping)
        artifacts.write_text(folder / "README.md", readme_text(
            manifest, dataset, parameters_file, items, code, limit))
        left = [line for line in locations.absolute_paths(folder)
                if not line.startswith(tuple(f"{name}/" for name in CODE))]
    archive = Path(shutil.make_archive(str(out_dir), "zip", out_dir.parent, out_dir.name))
    notes = [f"not packed ({item.size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit): "
             f"{item.recorded}" for item in items if item.source and not item.packed]
    notes += [f"an absolute path is left in {line}" for line in left]
    return Pack(out_dir, archive, notes)
