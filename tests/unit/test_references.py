"""Publishing reference runs: the median of several seeds, and only finished runs."""

import json
from pathlib import Path

import pytest

from helpers import artifacts, records
from helpers.runner import references


def finished_run(run_dir: Path, seed: int, accuracy: float, **parameters: object) -> Path:
    """A run directory holding what publishing reads: manifest, metrics, training record."""
    (run_dir / "figures").mkdir(parents=True)
    artifacts.write_json(run_dir / artifacts.MANIFEST,
                         {"parameters": {"epochs": 30, **parameters, "seed": seed}})
    records.write_record(run_dir, records.MetricsRecord(
        test_accuracy=accuracy, precision_macro=accuracy, recall_macro=accuracy,
        f1_macro=accuracy, precision_weighted=accuracy, recall_weighted=accuracy,
        f1_weighted=accuracy, test_images=10, per_class={}, confusion_matrix=[],
        class_names=[], train_seconds=600.0 + seed, epochs_run=30, best_epoch=30))
    records.write_record(run_dir, records.TrainingRecord(
        train_seconds=600.0 + seed, epochs_run=30, best_epoch=30, learning_rate=1e-3,
        lr_schedule="cosine", batch_size=128, global_batch_size=128, epochs=30,
        label_smoothing=0.0, ema_momentum=0.0, seed=seed, augmentation={}, devices=["CPU"],
        replicas=1, compute_dtype_policy="float32"))
    (run_dir / "04_train.ipynb").write_text(f"seed {seed}")
    return run_dir


def test_publishing_three_seeds_keeps_the_median_run_and_lists_every_seed(
        tmp_path: Path) -> None:
    runs = [finished_run(tmp_path / f"seed{seed}", seed, accuracy)
            for seed, accuracy in [(1, 0.9431), (2, 0.9447), (3, 0.9402)]]
    published = references.publish_reference(runs[0], "best", tmp_path / "reference",
                                         other_seed_runs=tuple(runs[1:]))
    metrics = json.loads((published / artifacts.METRICS).read_text())
    assert metrics["test_accuracy"] == 0.9431  # seed 1's run: the median
    assert (published / "04_train.ipynb").read_text() == "seed 1"
    assert metrics["seeds"]["median_test_accuracy"] == 0.9431
    assert [(run["seed"], run["test_accuracy"], run["train_seconds"])
            for run in metrics["seeds"]["runs"]] == [(1, 0.9431, 601.0), (2, 0.9447, 602.0),
                                                     (3, 0.9402, 603.0)]


def test_seed_runs_must_share_every_other_parameter(tmp_path: Path) -> None:
    first = finished_run(tmp_path / "a", 1, 0.94)
    second = finished_run(tmp_path / "b", 2, 0.95, epochs=40)
    with pytest.raises(ValueError, match="differs from .* in more than the seed: epochs"):
        references.publish_reference(first, "best", tmp_path / "reference",
                                 other_seed_runs=(second,))
    assert not (tmp_path / "reference" / "best").exists()


def test_unfinished_run_cannot_be_published(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="only a finished run"):
        references.publish_reference(tmp_path, "default", tmp_path / "reference")


def test_publish_reference_keeps_small_files_only(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "figures").mkdir(parents=True)
    for name in ("01_load_data.ipynb", "metrics.json", "manifest.json", "history.csv",
                 "figures/samples.png", "model.keras", "dataset.npz", "report.html"):
        (run_dir / name).write_text(name)
    reference_dir = tmp_path / "reference"
    (reference_dir / "default").mkdir(parents=True)
    (reference_dir / "default" / "stale.json").write_text("old")
    published = references.publish_reference(run_dir, "default", reference_dir)
    kept = sorted(str(path.relative_to(published)) for path in published.rglob("*")
                  if path.is_file())
    assert kept == ["01_load_data.ipynb", "figures/samples.png", "history.csv",
                    "manifest.json", "metrics.json"]
    assert sorted(path.name for path in reference_dir.iterdir()) == ["default"]


def with_machine(run_dir: Path, commit: str) -> Path:
    """Give a finished run the git commit and CPU a real manifest records."""
    manifest = artifacts.read_json(run_dir / artifacts.MANIFEST)
    artifacts.write_json(run_dir / artifacts.MANIFEST, {**manifest, "git": {"commit": commit},
                                                        "machine": {"processor": "CPU " + commit}})
    return run_dir


def test_one_seed_rerun_keeps_the_other_seeds_with_the_commit_each_came_from(
        tmp_path: Path) -> None:
    old = [with_machine(finished_run(tmp_path / f"old{seed}", seed, accuracy), "aaaaaaa1")
           for seed, accuracy in [(1, 0.9431), (2, 0.9447), (3, 0.9402)]]
    references.publish_reference(old[0], "best", tmp_path / "reference",
                                 other_seed_runs=tuple(old[1:]))
    rerun = with_machine(finished_run(tmp_path / "new1", 1, 0.9440), "bbbbbbb2")
    published = references.publish_reference(rerun, "best", tmp_path / "reference",
                                             keep_other_seeds=True)
    metrics = json.loads((published / artifacts.METRICS).read_text())
    assert metrics["test_accuracy"] == metrics["seeds"]["median_test_accuracy"] == 0.9440
    assert [(run["seed"], run["test_accuracy"], run["commit"]) for run in
            metrics["seeds"]["runs"]] == [(1, 0.9440, "bbbbbbb"), (2, 0.9447, "aaaaaaa"),
                                          (3, 0.9402, "aaaaaaa")]
    too_low = with_machine(finished_run(tmp_path / "low1", 1, 0.9300), "ccccccc3")
    with pytest.raises(ValueError, match="no longer the median"):
        references.publish_reference(too_low, "best", tmp_path / "reference",
                                     keep_other_seeds=True)
    assert json.loads((published / artifacts.METRICS).read_text())["test_accuracy"] == 0.9440
