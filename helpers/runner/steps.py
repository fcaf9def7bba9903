"""What each step of a run directory ran with (steps.json), and which steps a re-run repeats.

A run directory records, per notebook, the parameters it was given, whether it finished,
and a fingerprint of everything it depended on: its parameters, the notebook's own source,
for 01_load_data the dataset files it read, and for a step given a `model_file` that file's
text. Running the same command again on an unfinished run skips the steps that finished
with an unchanged fingerprint and repeats the rest (04_train then resumes after its last
completed epoch); a step whose parameters changed is refused rather than silently mixed with
the old results.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import artifacts, locations
from helpers.model import own_model

STEPS_STATE = "steps.json"
STARTED, COMPLETED = "started", "completed"


class RunStateError(ValueError):
    """A re-run that would mix results made with different parameters."""


@dataclass(frozen=True)
class StepPlan:
    """Whether a step runs or is skipped, and why."""

    name: str
    runs: bool
    reason: str


def read_state(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Per step: status, parameters, fingerprint and seconds (empty for a new run)."""
    path = artifacts.artifact_path(run_dir, STEPS_STATE)
    return artifacts.read_json(path) if path.is_file() else {}


def record(run_dir: Path, name: str, status: str, parameters: Mapping[str, Any],
           fingerprint: str, seconds: float | None = None) -> None:
    """Record a step as started or completed (atomically, like every artifact)."""
    state = read_state(run_dir)
    state[name] = {"status": status, "parameters": dict(parameters),
                   "fingerprint": fingerprint, "seconds": seconds}
    artifacts.write_json(artifacts.artifact_path(run_dir, STEPS_STATE), state)


def fingerprint(name: str, parameters: Mapping[str, Any], notebook: Path,
                run_dir: Path) -> str:
    """A hash of what the step's results depend on."""
    inputs: dict[str, Any] = {"parameters": dict(parameters),
                              "notebook": artifacts.file_sha256(notebook)}
    if name == "01_load_data":
        inputs["dataset_files"] = _dataset_file_checksums(run_dir)
    if parameters.get("model_file"):
        # The parameter is only the file's name: an edited model file must re-run the steps
        # that built and trained it, not resume them. (Runs without one keep their old hash.)
        inputs["model_file"] = _model_file_checksum(str(parameters["model_file"]))
    encoded = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def _dataset_file_checksums(run_dir: Path) -> list[str]:
    """Current checksums of the files the run's dataset was read from."""
    info_path = artifacts.artifact_path(run_dir, artifacts.DATASET_INFO)
    if not info_path.is_file():
        return []
    # dataset.json names each file portably (project-relative, or by its package): found
    # again on this machine to see whether it changed.
    found = [locations.locate(file) for file in artifacts.read_json(info_path).get("files", [])]
    return [artifacts.file_sha256(path) if path is not None and path.is_file() else "missing"
            for path in found]


def _model_file_checksum(model_file: str) -> str:
    path = own_model.resolve_model_file(model_file)
    return artifacts.file_sha256(path) if path.is_file() else "missing"


def forget_interrupted_training(run_dir: Path) -> None:
    """Remove what an interrupted 04_train left to resume from: the step starts afresh."""
    shutil.rmtree(artifacts.artifact_path(run_dir, artifacts.TRAINING_BACKUP), ignore_errors=True)


def parameter_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """'name: old -> new' for every parameter that differs."""
    return [f"{name}: {old.get(name)!r} -> {new.get(name)!r}"
            for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]


def plan(names: Sequence[str], state: Mapping[str, Mapping[str, Any]],
         parameters: Mapping[str, Mapping[str, Any]], fingerprints: Mapping[str, str],
         from_step: str | None = None, to_step: str | None = None) -> list[StepPlan]:
    """Which steps to run: skip finished, unchanged steps; refuse changed parameters.

    `from_step` re-runs that step and every later one of a run whose earlier steps
    finished with the same parameters; `to_step` stops after that step.
    """
    for bound in (from_step, to_step):
        if bound is not None and bound not in names:
            raise RunStateError(f"no step {bound!r}; steps: {', '.join(names)}")
    first = names.index(from_step) if from_step else 0
    last = names.index(to_step) if to_step else len(names) - 1
    if first > last:
        raise RunStateError(f"--from {from_step} comes after --to {to_step}")
    steps: list[StepPlan] = []
    upstream_ran = False
    for index, name in enumerate(names[: last + 1]):
        recorded = state.get(name)
        if recorded:
            changes = parameter_changes(recorded["parameters"], parameters[name])
            if changes and (index < first or not from_step):
                raise RunStateError(
                    f"{name} already ran in this run directory with other parameters "
                    f"({'; '.join(changes)}). Pass --fresh to start the run over, choose "
                    "another --run-dir, or re-run from this step with --from " + name)
        finished = bool(recorded) and recorded["status"] == COMPLETED
        if index < first:
            if not finished:
                raise RunStateError(f"--from {from_step} needs {name} to have finished in "
                                    "this run directory; it has not")
            steps.append(StepPlan(name, False, "before --from, kept"))
        elif (not from_step and not upstream_ran and finished
              and recorded["fingerprint"] == fingerprints.get(name)):
            steps.append(StepPlan(name, False, "unchanged, skipped"))
        else:
            # An interrupted step resumes only if nothing before it ran again: after a
            # changed earlier step its saved state belongs to other data or another network.
            resumes = bool(recorded) and not finished and not upstream_ran
            upstream_ran = True
            reason = "resuming" if resumes else "running"
            steps.append(StepPlan(name, True, reason))
    return steps
