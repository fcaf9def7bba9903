"""The leaderboard and the comparison, from run directories whose records the tests write."""

import csv
import math
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

from helpers import artifacts
from helpers.records import MetricsRecord, TrainingRecord, write_record
from helpers.runner import compare, leaderboard

CLASSES = ["shirt", "shoe", "bag"]


def fake_run(run_dir: Path, parameters: dict[str, Any], validation: list[float],
             best_epoch: int, test_accuracy: float, test_loss: float | None = 0.5,
             f1: tuple[float, float, float] = (0.8, 0.9, 0.7)) -> Path:
    """A finished run's records: manifest, history.csv, training.json and metrics.json."""
    run_dir.mkdir(parents=True)
    artifacts.write_json(run_dir / artifacts.MANIFEST, {"parameters": parameters})
    epochs = len(validation)
    history = pd.DataFrame({"epoch": range(1, epochs + 1), "accuracy": validation,
                            "loss": [1.0] * epochs, "val_accuracy": validation,
                            "val_loss": [1.0 - value for value in validation]})
    artifacts.write_text(run_dir / artifacts.HISTORY, history.to_csv(index=False))
    write_record(run_dir, TrainingRecord(
        train_seconds=12.5 * epochs, epochs_run=epochs, best_epoch=best_epoch,
        learning_rate=0.001, lr_schedule="cosine", batch_size=32, global_batch_size=32,
        epochs=epochs, label_smoothing=0.0, ema_momentum=0.0, seed=42,
        augmentation={"flip": False}, devices=["CPU"], replicas=1,
        compute_dtype_policy="float32"))
    per_class = {name: {"precision": score, "recall": score, "f1": score, "support": 10}
                 for name, score in zip(CLASSES, f1, strict=True)}
    metrics = {"test_accuracy": test_accuracy, "precision_macro": 0.8, "recall_macro": 0.8,
               "f1_macro": sum(f1) / 3, "precision_weighted": 0.8, "recall_weighted": 0.8,
               "f1_weighted": 0.8, "test_images": 30, "per_class": per_class,
               "confusion_matrix": [[10, 0, 0], [0, 10, 0], [0, 0, 10]],
               "class_names": CLASSES, "train_seconds": 12.5 * epochs, "epochs_run": epochs,
               "best_epoch": best_epoch}
    if test_loss is not None:
        metrics["test_loss"] = test_loss
    write_record(run_dir, MetricsRecord(**metrics))
    return run_dir


@pytest.fixture
def three_runs(tmp_path: Path) -> list[Path]:
    base = {"dataset": "mnist_5k", "epochs": 3, "data_dir": None}
    return [
        # The best test accuracy, but not the best validation accuracy: it must not win.
        fake_run(tmp_path / "bn-false", {**base, "batch_norm": False}, [0.80, 0.86, 0.84],
                 best_epoch=2, test_accuracy=0.95, test_loss=None),
        fake_run(tmp_path / "bn-true", {**base, "batch_norm": True}, [0.85, 0.90, 0.88],
                 best_epoch=2, test_accuracy=0.89, f1=(0.9, 0.9, 0.2)),
        fake_run(tmp_path / "bn-true-dropout", {**base, "dropout_rate": 0.5},
                 [0.70, 0.75, 0.85], best_epoch=3, test_accuracy=0.84),
    ]


def test_validation_accuracy_is_the_best_epochs(three_runs: list[Path]) -> None:
    assert leaderboard.best_validation_accuracy(three_runs[0]) == (0.86, 2)
    assert leaderboard.best_validation_accuracy(three_runs[2]) == (0.85, 3)


def test_runs_are_ranked_by_validation_not_test_accuracy(three_runs: list[Path]) -> None:
    table = leaderboard.build(three_runs)
    assert list(table["run"]) == ["bn-true", "bn-false", "bn-true-dropout"]
    assert list(table["rank"]) == [1, 2, 3]
    assert list(table["validation_accuracy"]) == [0.90, 0.86, 0.85]
    assert list(table["test_accuracy"]) == [0.89, 0.95, 0.84]


def test_only_the_differing_parameters_are_columns(three_runs: list[Path]) -> None:
    table = leaderboard.build(three_runs)
    assert list(table.columns) == [
        "rank", "run", "dropout_rate", "batch_norm", "validation_accuracy", "test_accuracy",
        "f1_macro", "test_loss", "epochs_run", "train_seconds", "best_epoch",
        "highest_validation_accuracy", "final_validation_accuracy", "seconds_per_epoch",
        "run_dir"]
    # A parameter left out of a run's file is at its default, the same as one written out.
    assert list(table["batch_norm"]) == [True, False, True]
    assert list(table["dropout_rate"]) == [0.3, 0.3, 0.5]


def test_a_missing_test_loss_is_a_blank_cell(three_runs: list[Path], tmp_path: Path) -> None:
    table = leaderboard.build(three_runs)
    assert math.isnan(table.loc[table["run"] == "bn-false", "test_loss"].item())
    path = leaderboard.write_csv(table, tmp_path / leaderboard.LEADERBOARD)
    rows = {row["run"]: row for row in csv.DictReader(path.open())}
    assert rows["bn-false"]["test_loss"] == ""
    assert float(rows["bn-true"]["test_loss"]) == 0.5
    assert rows["bn-true"]["epochs_run"] == "3" and rows["bn-true"]["train_seconds"] == "37.5"
    assert "bn-false" in leaderboard.summary_text(table)


def test_lists_are_json_cells(tmp_path: Path) -> None:
    runs = [fake_run(tmp_path / name, {"conv_filters": filters}, [0.5], 1, 0.5)
            for name, filters in (("small", [16, 32]), ("large", [32, 64]))]
    table = leaderboard.build(runs)
    assert set(table["conv_filters"]) == {"[16, 32]", "[32, 64]"}


def test_a_run_without_training_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="training.json"):
        leaderboard.build([tmp_path / "empty"])


def test_a_best_epoch_missing_from_the_history_is_named(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run", {}, [0.5, 0.6], best_epoch=2, test_accuracy=0.5)
    write_record(run, TrainingRecord.model_validate(
        {**artifacts.read_json(run / artifacts.TRAINING_INFO), "best_epoch": 7}))
    with pytest.raises(ValueError, match="no row for the kept epoch 7"):
        leaderboard.build([run])


def test_runs_sharing_a_folder_name_are_told_apart(tmp_path: Path) -> None:
    assert leaderboard.run_labels([tmp_path / "a" / "run", tmp_path / "b" / "run"]) == \
        ["a/run", "b/run"]


def test_per_class_f1_side_by_side(three_runs: list[Path]) -> None:
    table = compare.per_class_f1(three_runs, ["one", "two", "three"])
    assert list(table.index) == CLASSES and list(table.columns) == ["one", "two", "three"]
    assert table.loc["bag", "two"] == 0.2
    assert "**bag**" in compare.per_class_observation(table)


def test_the_observations_keep_the_validation_choice(three_runs: list[Path]) -> None:
    table = leaderboard.build(three_runs)
    text = compare.leaderboard_observation(table)
    assert text.startswith("**bn-true** reached the best validation accuracy, 0.9000")
    assert "bn-false scores more there (0.9500)" in text
    assert "**bn-true** is the one to keep" in compare.conclusion(table)


@pytest.mark.slow
def test_the_comparison_notebook_writes_a_report(three_runs: list[Path],
                                                 tmp_path: Path) -> None:
    report = compare.compare_runs(three_runs, tmp_path / "out", "Three runs",
                                  log=lambda *_: None)
    assert report == tmp_path / "out" / "report.html"
    html = report.read_text()
    assert "Three runs" in html and "bn-true-dropout" in html and "data:image/png" in html
    assert str(tmp_path) not in html  # no machine path: the runs are named from out/
    executed = nbformat.read(tmp_path / "out" / compare.NOTEBOOK, as_version=4)
    outputs = [output for cell in executed.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    rows = csv.DictReader((tmp_path / "out" / leaderboard.LEADERBOARD).open())
    assert sorted((tmp_path / "out" / row["run_dir"]).resolve() for row in rows) == \
        sorted(run.resolve() for run in three_runs)
