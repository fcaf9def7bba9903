"""A leaderboard of runs: the parameters that differ between them and what each reached.

Runs are ranked by validation accuracy at their best epoch (the epoch whose weights the
run kept), never by a test figure: the test set is only reported, so that choosing the
best run does not fit it. Test accuracy, macro F1 and test loss stand beside it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import artifacts
from helpers.parameters import RunParameters
from helpers.records import MetricsRecord, TrainingRecord, read_record, read_record_if_present
from helpers.runner import steps

LEADERBOARD = "leaderboard.csv"
VALIDATION_COLUMN = "val_accuracy"  # history.csv's column, as Keras names it
# Paths differ between machines and say nothing about the model; comparisons are other runs.
IGNORED_PARAMETERS = ("data_dir", "train_path", "test_path", "comparisons")


@dataclass(frozen=True)
class RunResult:
    """What one run reached: validation figures choose, test figures are only reported."""

    validation_accuracy: float  # at the kept epoch
    test_accuracy: float | None
    f1_macro: float | None
    test_loss: float | None
    epochs_run: int
    train_seconds: float
    best_epoch: int
    highest_validation_accuracy: float  # of any epoch
    final_validation_accuracy: float  # of the last epoch run
    seconds_per_epoch: float  # the median epoch, the first (which compiles) apart


def best_validation_accuracy(run_dir: str | Path) -> tuple[float, int]:
    """Validation accuracy at the kept epoch (training.json) from history.csv, and the epoch."""
    trained = read_record(run_dir, TrainingRecord)
    path = artifacts.require(run_dir, artifacts.HISTORY, TrainingRecord.STEP)
    history = pd.read_csv(path)
    if VALIDATION_COLUMN not in history or "epoch" not in history:
        raise ValueError(f"{path}: expected columns 'epoch' and {VALIDATION_COLUMN!r}, got "
                         f"{', '.join(history.columns)}")
    rows = history[history["epoch"] == trained.kept]
    if rows.empty:
        raise ValueError(f"{path}: no row for the kept epoch {trained.kept} that "
                         f"{TrainingRecord.FILE} names")
    return float(rows[VALIDATION_COLUMN].iloc[-1]), trained.kept


def run_result(run_dir: str | Path) -> RunResult:
    """A run's figures; the test ones are None before 05_evaluate has run."""
    validation_accuracy, best_epoch = best_validation_accuracy(run_dir)
    trained = read_record(run_dir, TrainingRecord)
    metrics = read_record_if_present(run_dir, MetricsRecord)
    history = pd.read_csv(artifacts.artifact_path(run_dir, artifacts.HISTORY))
    return RunResult(
        validation_accuracy=validation_accuracy, best_epoch=best_epoch,
        test_accuracy=metrics.test_accuracy if metrics else None,
        f1_macro=metrics.f1_macro if metrics else None,
        test_loss=metrics.test_loss if metrics else None,
        epochs_run=trained.epochs_run, train_seconds=trained.train_seconds,
        highest_validation_accuracy=float(history[VALIDATION_COLUMN].max()),
        final_validation_accuracy=float(history[VALIDATION_COLUMN].iloc[-1]),
        seconds_per_epoch=seconds_per_epoch(run_dir, trained))


def seconds_per_epoch(run_dir: str | Path, trained: TrainingRecord) -> float:
    """The median epoch's seconds, the first (which also compiles) left out, from the epoch
    log 04 writes (the last line of each epoch: a resumed run repeats none); the mean over
    training for a run without one (a published reference keeps no logs)."""
    path = artifacts.artifact_path(run_dir, artifacts.EPOCH_LOG)
    lines = path.read_text().splitlines() if path.is_file() else []
    seconds = {entry["epoch"]: float(entry["seconds"])
               for entry in map(json.loads, filter(None, lines)) if "seconds" in entry}
    ordered = [seconds[epoch] for epoch in sorted(seconds)]
    if len(ordered) > 1:
        return float(pd.Series(ordered[1:]).median())
    return ordered[0] if ordered else trained.train_seconds / max(trained.epochs_run, 1)


def run_parameters(run_dir: str | Path) -> dict[str, Any]:
    """Every parameter of a run (the manifest's, or steps.json's), unset ones at defaults."""
    manifest_path = artifacts.artifact_path(run_dir, artifacts.MANIFEST)
    if manifest_path.is_file():
        given = artifacts.read_json(manifest_path).get("parameters", {})
    else:
        given = {}
        for step in steps.read_state(Path(run_dir)).values():
            given.update(step.get("parameters", {}))
    defaults = {name: field.default for name, field in RunParameters.model_fields.items()}
    return {**defaults, **given}


def differing_parameters(parameter_sets: Sequence[Mapping[str, Any]]) -> list[str]:
    """The parameter names whose values are not the same in every run, in schema order."""
    names = [name for name in RunParameters.model_fields if name not in IGNORED_PARAMETERS]
    return [name for name in names
            if len({json.dumps(values.get(name), sort_keys=True)
                    for values in parameter_sets}) > 1]


def cell(value: Any) -> Any:
    """A parameter as a table cell: lists as their JSON text, so a CSV cell holds them."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def run_labels(run_dirs: Sequence[str | Path]) -> list[str]:
    """Each run's folder name, or parent/name where two runs share a name."""
    names = [Path(run).resolve().name for run in run_dirs]
    return [f"{Path(run).resolve().parent.name}/{name}" if names.count(name) > 1 else name
            for run, name in zip(run_dirs, names, strict=True)]


def build(run_dirs: Sequence[str | Path], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per run, best validation accuracy first: rank, run, differing parameters,
    validation accuracy, test accuracy, macro F1, test loss (blank if not recorded),
    epochs run, training seconds, the best epoch and the run directory."""
    labels = list(labels) if labels else run_labels(run_dirs)
    parameter_sets = [run_parameters(run) for run in run_dirs]
    differing = differing_parameters(parameter_sets)
    rows = []
    for run, label, values in zip(run_dirs, labels, parameter_sets, strict=True):
        result = asdict(run_result(run))
        rows.append({"run": label, **{name: cell(values.get(name)) for name in differing},
                     **{key: (math.nan if value is None else value)
                        for key, value in result.items()},
                     "run_dir": str(Path(run).resolve())})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values("validation_accuracy", ascending=False, kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def ignored_by_git(folder: Path) -> Path:
    """Create a reports/ folder of generated runs with a .gitignore of '*' (as pytest's cache
    and venv do), so sweeps and comparisons never show up as files to commit."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("# written by helpers.runner: everything here is generated\n*\n")
    return folder


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """The leaderboard as CSV (a blank cell where a figure is missing), written atomically.

    Run directories are written relative to the CSV's folder: a sweep's runs sit inside it,
    so the folder can be moved or committed whole, and no machine path is shown.
    """
    path = Path(path)
    if "run_dir" in table:
        folder = path.parent.resolve()
        table = table.assign(run_dir=[os.path.relpath(run, folder) for run in table["run_dir"]])
    return artifacts.write_text(path, table.to_csv(index=False))


def summary_text(table: pd.DataFrame) -> str:
    """The leaderboard as the terminal shows it, figures rounded, without the long paths."""
    shown = table.drop(columns=["run_dir"], errors="ignore").copy()
    for column in ("validation_accuracy", "test_accuracy", "f1_macro", "test_loss"):
        if column in shown:
            shown[column] = shown[column].map(lambda value: "" if pd.isna(value)
                                              else f"{value:.4f}")
    if "train_seconds" in shown:
        shown["train_seconds"] = shown["train_seconds"].map(lambda value: f"{value:.1f}")
    return shown.to_string(index=False)
