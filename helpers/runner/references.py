"""Committed references: a finished run's small files copied to reports/reference/<name>/."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import artifacts, locations, parameters
from helpers.records import MetricsRecord, TrainingRecord, read_record

REFERENCE_DIR = artifacts.PROJECT_ROOT / "reports" / "reference"
# What a committed reference keeps: the report material, none of the large arrays or models.
REFERENCE_PATTERNS = ("[0-9][0-9]_*.ipynb", "*.json", "*.csv", "*.txt", "figures/*.png",
                      "comparisons/leaderboard.csv",  # the brief's comparisons, ranked
                      "export/export.json")


def seed_runs_summary(run_dirs: list[Path]) -> tuple[dict, Path]:
    """The test accuracy and training time of runs that differ only in their seed.

    Returns the runs' seeds, accuracies and seconds (in the given order) with the median
    accuracy, and the run that reached it (the one to publish, with its notebooks).
    """
    manifests = [artifacts.read_json(artifacts.artifact_path(run, artifacts.MANIFEST))
                 for run in run_dirs]
    first = manifests[0]["parameters"]
    for run, manifest in zip(run_dirs[1:], manifests[1:], strict=True):
        other = manifest["parameters"]
        differing = sorted(name for name in set(first) | set(other)
                           if name != "seed" and first.get(name) != other.get(name))
        if differing:
            raise ValueError(f"{run} differs from {run_dirs[0]} in more than the seed: "
                             f"{', '.join(differing)}")
    seeds = [manifest["parameters"]["seed"] for manifest in manifests]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"the runs must have different seeds, got {seeds}")
    rows = [{"seed": seed,
             "test_accuracy": read_record(run, MetricsRecord).test_accuracy,
             "train_seconds": read_record(run, TrainingRecord).train_seconds,
             "compute_dtype_policy": read_record(run, TrainingRecord).compute_dtype_policy}
            for run, seed in zip(run_dirs, seeds, strict=True)]
    ranked = sorted(range(len(rows)), key=lambda index: rows[index]["test_accuracy"])
    median = ranked[(len(rows) - 1) // 2]  # for an even count, the lower of the middle two
    summary = {"runs": rows, "median_test_accuracy": rows[median]["test_accuracy"],
               "median_seed": rows[median]["seed"]}
    return summary, run_dirs[median]


def _with_commit(row: dict, manifest: dict) -> dict:
    """A seed's row, with the commit and CPU it ran on (kept when a later publish keeps it)."""
    return {**row, "commit": row.get("commit") or manifest["git"]["commit"][:7],
            "processor": row.get("processor") or manifest["machine"]["processor"]}


def rerun_seed_summary(run_dir: Path, earlier: Path) -> dict:
    """The seed summary of an earlier reference with one seed re-run at this commit.

    A long profile's other seeds keep their figures, each labelled with the commit and CPU it
    ran on; the re-run seed must come out as the median, since its notebooks are the ones
    published.
    """
    old_metrics = artifacts.read_json(earlier / artifacts.METRICS)
    old_manifest = artifacts.read_json(earlier / artifacts.MANIFEST)
    manifest = artifacts.read_json(artifacts.artifact_path(run_dir, artifacts.MANIFEST))
    # A params file that leaves the seed out ran with the schema's default.
    seed = manifest["parameters"].get("seed", parameters.default("seed"))
    trained = read_record(run_dir, TrainingRecord)
    # The number format says which budget a seed's seconds are held to (results.md).
    new_row = _with_commit({"seed": seed,
                            "test_accuracy": read_record(run_dir, MetricsRecord).test_accuracy,
                            "train_seconds": trained.train_seconds,
                            "compute_dtype_policy": trained.compute_dtype_policy}, manifest)
    rows = [new_row if row["seed"] == seed else _with_commit(row, old_manifest)
            for row in old_metrics["seeds"]["runs"]]
    if new_row not in rows:
        raise ValueError(f"{earlier} has no run of seed {seed} to replace")
    ranked = sorted(rows, key=lambda row: row["test_accuracy"])
    median = ranked[(len(rows) - 1) // 2]
    if median is not new_row:
        raise ValueError(f"seed {seed} re-run reached {new_row['test_accuracy']:.4f}, no longer "
                         f"the median of {[row['test_accuracy'] for row in rows]}: re-run every "
                         "seed and publish them together (--seed-runs)")
    return {"runs": rows, "median_test_accuracy": median["test_accuracy"],
            "median_seed": seed}


class MachinePathError(ValueError):
    """A run whose files name paths of the machine that made it cannot be published."""


def refuse_machine_paths(staging: Path, run_dir: Path) -> None:
    """The last guard: a reference holds no absolute path (a run records paths relative to
    the project, data by its package); anything left stops the publish, naming it."""
    found = locations.absolute_paths(staging)
    if found:
        shutil.rmtree(staging, ignore_errors=True)
        shown = "\n  ".join(found[:10]) + (f"\n  ... and {len(found) - 10} more"
                                             if len(found) > 10 else "")
        raise MachinePathError(
            f"{run_dir} cannot be published: its files hold {len(found)} absolute path(s) of "
            f"this machine or a site-packages path:\n  {shown}\nRun it again with this "
            "version of the runner (it records paths relative to the project), or move data "
            "read from outside the project into data/")


def publish_reference(run_dir: Path, name: str, references_dir: Path = REFERENCE_DIR,
                      other_seed_runs: tuple[Path, ...] = (), keep_other_seeds: bool = False,
                      ) -> Path:
    """Copy a finished run's small files to reports/reference/<name>/, replacing the old ones.

    With other_seed_runs (the same profile trained with other seeds), the run with the median
    test accuracy is the one copied, and its metrics.json lists every seed's accuracy. With
    keep_other_seeds, the run re-runs one seed of the existing reference and the others'
    figures are kept, each with the commit it came from (rerun_seed_summary).
    """
    runs = [Path(run_dir), *map(Path, other_seed_runs)]
    for run in runs:
        if not artifacts.artifact_path(run, artifacts.MANIFEST).is_file():
            raise FileNotFoundError(f"{run} has no {artifacts.MANIFEST}: only a finished run "
                                    "can become a reference")
    summary, run_dir = (seed_runs_summary(runs) if other_seed_runs
                        else (None, Path(run_dir)))
    destination = references_dir / name
    if keep_other_seeds:
        summary = rerun_seed_summary(Path(run_dir), destination)
    staging = references_dir / f".{name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    for pattern in REFERENCE_PATTERNS:
        for source in sorted(Path(run_dir).glob(pattern)):
            target = staging / source.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if summary:
        metrics = artifacts.read_json(staging / artifacts.METRICS)
        artifacts.write_json(staging / artifacts.METRICS, {**metrics, "seeds": summary})
    refuse_machine_paths(staging, Path(run_dir))
    # Swap whole folders so a failure never leaves half an old and half a new reference.
    retired = references_dir / f".{name}.retired"
    shutil.rmtree(retired, ignore_errors=True)
    if destination.exists():
        destination.rename(retired)
    staging.rename(destination)
    shutil.rmtree(retired, ignore_errors=True)
    return destination
