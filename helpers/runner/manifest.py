"""manifest.json: what a run ran, on what machine, from which code and data, and for how long."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers import artifacts
from helpers.records import DatasetRecord, TrainingRecord, read_record_if_present


def write_manifest(run_dir: Path, parameters: Mapping[str, Any],
                   step_state: Mapping[str, Mapping[str, Any]], started_at: str) -> Path:
    """manifest.json: what ran, on what, from which code and data, and how long each step took."""
    dataset = read_record_if_present(run_dir, DatasetRecord)
    # The training kernel reported its devices; asking TensorFlow here again would cost
    # the runner a TensorFlow import.
    trained = read_record_if_present(run_dir, TrainingRecord)
    devices = trained.devices if trained else []
    step_seconds = {name: record.get("seconds") for name, record in step_state.items()}
    manifest = {
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": dict(parameters),
        "seed": parameters.get("seed"),
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
