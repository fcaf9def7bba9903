"""manifest.json: what a run ran, on what machine, from which code and data, and for how long."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers import artifacts, locations
from helpers import parameters as schema
from helpers.records import DatasetRecord, TrainingRecord, read_record_if_present


def parameters_file_name(parameters_file: str | Path | None) -> str | None:
    """The params file as the manifest names it: relative to the project root, or by its name
    alone when it lies elsewhere (a path on the user's machine would mean nothing to others)."""
    if parameters_file is None:
        return None
    named = locations.project_path(parameters_file)
    return Path(named).name if Path(named).is_absolute() else named


def write_manifest(run_dir: Path, parameters: Mapping[str, Any],
                   step_state: Mapping[str, Mapping[str, Any]], started_at: str,
                   parameters_file: str | Path | None = None,
                   overrides: Mapping[str, Any] | None = None) -> Path:
    """manifest.json: what ran, on what, from which code and data, and how long each step took.

    `parameters` are the ones given (the params file's and the -p overrides'), data paths
    relative to the project root; `overrides` are the -p ones alone, so the command that made
    the run can be written out again (helpers.runner.pack).
    """
    dataset = read_record_if_present(run_dir, DatasetRecord)
    # The training kernel reported its devices; asking TensorFlow here again would cost
    # the runner a TensorFlow import.
    trained = read_record_if_present(run_dir, TrainingRecord)
    devices = trained.devices if trained else []
    step_seconds = {name: record.get("seconds") for name, record in step_state.items()}
    manifest = {
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters_file": parameters_file_name(parameters_file),
        "overrides": dict(overrides or {}),
        "parameters": dict(parameters),
        # A params file that leaves the seed out runs with the schema's default.
        "seed": parameters.get("seed", schema.default("seed")),
        "git": artifacts.git_state(),
        "versions": artifacts.package_versions(),
        "machine": artifacts.machine_info([device for device in devices if device != "CPU"]),
        "onednn": trained.onednn if trained else None,  # as the training kernel ran it
        "dataset": ({"name": dataset.name, "source": dataset.source, "files": dataset.files}
                    if dataset else {"name": None, "source": None, "files": None}),
        "step_seconds": step_seconds,
        "total_seconds": round(sum(seconds or 0 for seconds in step_seconds.values()), 2),
    }
    return artifacts.write_json(artifacts.artifact_path(run_dir, artifacts.MANIFEST), manifest)
