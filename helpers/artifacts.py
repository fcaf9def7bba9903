"""The run directory: artifact names, atomic writes and provenance for manifest.json."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

# Stable names of what each step writes; later steps read them, so they never change.
DATASET_ARRAYS = "dataset.npz"  # 01: raw uint8 images and integer labels, train and test
DATASET_INFO = "dataset.json"  # 01: name, class names, source files and their checksums
SPLIT_INDICES = "split.npz"  # 02: indices of the training images kept for training / validation
PREPROCESS_INFO = "preprocess.json"  # 02: split sizes, label encoding, seed
UNTRAINED_MODEL = "model_untrained.keras"  # 03: the compiled-free architecture
MODEL_INFO = "model.json"  # 03: parameter counts and the architecture parameters
BEST_CHECKPOINT = "checkpoints/best.keras"  # 04: best model so far, by validation loss
TRAINING_BACKUP = "checkpoints/backup"  # 04: the last finished epoch's state, to resume from
MODEL = "model.keras"  # 04: the final model (best weights restored)
HISTORY = "history.csv"  # 04: per-epoch losses and accuracies
TRAINING_INFO = "training.json"  # 04: train_seconds, epochs_run, best_epoch
PREDICTIONS = "predictions.npz"  # 05: test-set class probabilities
METRICS = "metrics.json"  # 05: every test figure
CLASSIFICATION_REPORT = "classification_report.txt"  # 05
CONFUSED_PAIRS = "confused_pairs.csv"  # 06
EPOCH_LOG = "logs/epochs.jsonl"  # 04: one JSON line per finished epoch, which the runner shows
TENSORBOARD_DIR = "tensorboard"  # 04: event files for `tensorboard --logdir reports/runs`
MANIFEST = "manifest.json"  # runner: parameters, versions, commit, checksums, timings
REPORT = "report.html"  # runner or `make report`: the hand-in report
FIGURES = "figures"
# 07: every deployed format under export/; serving reads the Keras file and the table.
EXPORT_DIR = "export"
KERAS_EXPORT = f"{EXPORT_DIR}/model.keras"
SAVED_MODEL = f"{EXPORT_DIR}/saved_model"  # a folder: what TensorFlow Serving loads
TFLITE_MODELS = {variant: f"{EXPORT_DIR}/model_{variant}.tflite"
                 for variant in ("float32", "float16", "int8")}
EXPORT_INFO = f"{EXPORT_DIR}/export.json"  # the measurement table
FORMATS = ("keras", "saved_model", *(f"tflite_{variant}" for variant in TFLITE_MODELS))

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class MissingArtifactError(FileNotFoundError):
    """An artifact a step needs has not been written by the step that produces it."""


def inside_project(path: str | Path) -> Path | None:
    """An absolute path as seen from the project root, or None when it lies outside."""
    path = Path(path)
    return path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else None


def artifact_path(run_dir: str | Path, name: str) -> Path:
    """Path of a named artifact inside a run directory."""
    return Path(run_dir) / name


def figure_path(run_dir: str | Path, name: str) -> Path:
    """Path of a figure (PNG) inside the run's figures/ folder."""
    return Path(run_dir) / FIGURES / f"{name}.png"


def require(run_dir: str | Path, name: str, produced_by: str) -> Path:
    """Return the artifact's path, or explain which step must run first."""
    path = artifact_path(run_dir, name)
    if not path.exists():
        raise MissingArtifactError(
            f"{path} does not exist: run {produced_by} with run_dir={str(run_dir)!r} first"
        )
    return path


@contextmanager
def atomic_path(destination: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `destination`; rename it into place only on success.

    A reader therefore sees the old file or the complete new one, never half a file.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Keep every suffix (".weights.h5", ".keras"): savers check the file name.
    handle, temporary_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.",
        suffix="".join(destination.suffixes),
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp's 0600 is for secrets
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(destination: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `destination`; swap it into place on success."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}."))
    retired = destination.parent / f".{destination.name}.retired"
    try:
        yield temporary
        shutil.rmtree(retired, ignore_errors=True)
        if destination.exists():
            destination.rename(retired)
        temporary.rename(destination)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def write_text(path: str | Path, text: str) -> Path:
    """Write text atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, payload: Any) -> Path:
    """Write JSON atomically, indented for people and diffs."""
    text = json.dumps(payload, indent=2, default=_to_builtin)
    return write_text(path, text + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_arrays(path: str | Path, **arrays: np.ndarray) -> Path:
    """Save named numpy arrays as an uncompressed .npz, atomically."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
    return Path(path)


def read_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Load every array of an .npz file; pickled objects are refused."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def save_with(path: str | Path, save: Callable[[Path], None]) -> Path:
    """Atomically write a file produced by `save(temporary_path)` (a Keras model, a figure)."""
    with atomic_path(path) as temporary:
        save(temporary)
    return Path(path)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that decide the results."""
    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "tensorflow-cpu", "keras", "numpy", "scikit-learn", "pandas",
                    "matplotlib", "seaborn", "papermill"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_state(repository: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The commit the code came from and whether the tree had uncommitted changes."""

    def git(*arguments: str) -> str | None:
        try:
            completed = subprocess.run(["git", "-C", str(repository), *arguments],
                                       capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return completed.stdout.strip() if completed.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "uncommitted_changes": bool(status) if status is not None else None}


def machine_info(gpus: list[str]) -> dict[str, Any]:
    """The machine a run ran on: OS, CPU, core count, and the GPUs training reported."""
    return {"platform": platform.platform(), "processor": _cpu_model(),
            "cpu_count": os.cpu_count(), "gpus": list(gpus)}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _to_builtin(value: Any) -> Any:
    """JSON fallback for numpy scalars, arrays and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
