"""The committed reference runs are complete, meet their targets, and docs/ quotes them."""

import json
import re

import pytest

from helpers import artifacts
from helpers.runner import execute as pipeline

REFERENCES = artifacts.PROJECT_ROOT / "reports" / "reference"
REFERENCE = REFERENCES / "default"
# Reference run -> (its dataset, the least test accuracy it must reach, test images).
DATASET_REFERENCES = {"default": ("fashion_mnist", 0.925, 10_000),
                      "best": ("fashion_mnist", 0.940, 10_000),
                      "csv": ("csv", 0.915, 10_000),
                      "folder": ("folder", 0.915, 10_000),
                      "mnist_5k": ("mnist_5k", 0.950, 1_000)}


def readme_table(page: str, marker: str) -> list[list[str]]:
    """The rows of the table between <!-- marker --> comments in docs/<page>."""
    readme = (artifacts.PROJECT_ROOT / "docs" / page).read_text()
    table = re.search(rf"<!-- {marker} -->(.*?)<!-- /{marker} -->", readme, re.S)
    assert table, f"docs/{page} lost its {marker} markers"
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")]
            for line in table.group(1).strip().splitlines()[2:]]


@pytest.mark.parametrize("name", DATASET_REFERENCES)
def test_reference_run_is_complete_and_meets_its_target(name: str) -> None:
    dataset, least_accuracy, test_images = DATASET_REFERENCES[name]
    metrics = json.loads((REFERENCES / name / artifacts.METRICS).read_text())
    manifest = json.loads((REFERENCES / name / artifacts.MANIFEST).read_text())
    assert manifest["parameters"].get("dataset", "fashion_mnist") == dataset
    assert metrics["test_images"] == test_images
    assert metrics["test_accuracy"] >= least_accuracy
    assert manifest["git"]["commit"], "a reference must come from committed code"
    assert not manifest["git"]["uncommitted_changes"], "a reference needs a clean tree"
    assert list(manifest["step_seconds"]) == list(pipeline.NOTEBOOKS)
    for notebook in pipeline.NOTEBOOKS:
        assert (REFERENCES / name / f"{notebook}.ipynb").is_file()
    assert len(list((REFERENCES / name / "figures").glob("*.png"))) == 7  # with predictions


def test_results_table_quotes_the_default_references_own_timings() -> None:
    """Seconds depend on the CPU (docs/results.md says which): quoted as measured, not bounded."""
    manifest = json.loads((REFERENCE / artifacts.MANIFEST).read_text())
    training = json.loads((REFERENCE / artifacts.TRAINING_INFO).read_text())
    row = next(row for row in readme_table("results.md", "results-table") if row[0] == "default")
    notebooks = sum(seconds for step, seconds in manifest["step_seconds"].items()
                    if step != "07_export")
    assert f"{training['train_seconds']:.0f} s" in row
    assert f"{notebooks:.0f} s" in row
    assert f"{manifest['step_seconds']['07_export']:.0f} s" in row


def test_best_reference_is_the_median_of_three_seeds_each_within_thirty_minutes() -> None:
    """Issue 14's budget for the best profile: 30 minutes of training on the 2-core machines
    with bfloat16 units it was set for. A seed trained in float32 (a CPU without them, where
    docs/results.md records it over budget) has its seconds recorded, not bounded."""
    metrics = json.loads((REFERENCES / "best" / artifacts.METRICS).read_text())
    runs = metrics["seeds"]["runs"]
    assert len(runs) == 3 and len({run["seed"] for run in runs}) == 3
    accuracies = sorted(run["test_accuracy"] for run in runs)
    assert metrics["seeds"]["median_test_accuracy"] == accuracies[1] == metrics["test_accuracy"]
    assert accuracies[1] >= 0.940
    assert all(run["train_seconds"] <= 30 * 60 for run in runs
               if run.get("compute_dtype_policy", "mixed_bfloat16") != "float32")


@pytest.mark.parametrize("name", ["default", "best"])
def test_readme_results_table_quotes_the_reference(name: str) -> None:
    metrics = json.loads((REFERENCES / name / artifacts.METRICS).read_text())
    row = next(row for row in readme_table("results.md", "results-table") if row[0] == name)
    assert f"{metrics['test_accuracy']:.4f}" in " ".join(row)
    assert f"{metrics['f1_macro']:.4f}" in row
    for run in metrics.get("seeds", {}).get("runs", []):
        assert f"{run['test_accuracy']:.4f}" in " ".join(row)


def test_readme_dataset_table_quotes_each_reference_run() -> None:
    rows = readme_table("datasets.md", "datasets-table")
    assert [row[0] for row in rows] == ["fashion_mnist", "mnist", "cifar10", "mnist_5k", "csv",
                                        "folder"]
    quoted = {row[5]: row[6] for row in rows if row[5] in DATASET_REFERENCES}
    assert set(quoted) == set(DATASET_REFERENCES) - {"best"}  # a profile, in the results table
    for name, accuracy in quoted.items():
        metrics = json.loads((REFERENCES / name / artifacts.METRICS).read_text())
        assert accuracy == f"{metrics['test_accuracy']:.4f}", name


# Assignment reference -> (its params file, the brief's reported test accuracy or None).
ASSIGNMENT_REFERENCES = {"a": ("a_csv_cnn_l2", 0.9000), "b": ("b_mnist_5k_cnn_bn_dropout", None),
                         "c": ("c_fashion_cnn_augment", None), "d": ("d_fashion_mlp", 0.87),
                         "e": ("e_mnist_5k_cnn", None)}


@pytest.mark.parametrize("letter", ASSIGNMENT_REFERENCES)
def test_assignment_reference_runs_its_file_and_reaches_the_briefs_figure(letter: str) -> None:
    from helpers import parameters

    params_file, reported = ASSIGNMENT_REFERENCES[letter]
    reference = REFERENCES / f"assignment-{letter}"
    manifest = json.loads((reference / artifacts.MANIFEST).read_text())
    metrics = json.loads((reference / artifacts.METRICS).read_text())
    written = parameters.read_parameters_file(
        artifacts.PROJECT_ROOT / "params" / "assignments" / f"{params_file}.yaml")
    recorded = {name: value for name, value in manifest["parameters"].items()
                if name not in ("train_path", "test_path")}  # made absolute by the runner
    assert recorded == {name: value for name, value in written.items()
                        if name not in ("train_path", "test_path")}
    assert not manifest["git"]["uncommitted_changes"]
    if reported is not None:
        assert metrics["test_accuracy"] >= reported
    row = next(row for row in readme_table("assignments.md", "assignments-table")
               if row[0].startswith(letter.upper()))
    assert f"{metrics['test_accuracy']:.4f}" in row[2]
    assert row[4] == f"{metrics['test_loss']:.4f}"
    training = json.loads((reference / artifacts.TRAINING_INFO).read_text())
    assert row[6] == f"{training['train_seconds']:.0f} s", "docs/assignments.md's training time"


def test_committed_sweep_ranks_on_validation_and_docs_quote_it() -> None:
    import csv

    sweep = REFERENCES / "sweep-bn-dropout"
    rows = list(csv.DictReader((sweep / "leaderboard.csv").open()))
    assert {(row["batch_norm"], row["dropout_rate"]) for row in rows} == {
        ("True", "0.0"), ("True", "0.3"), ("False", "0.0"), ("False", "0.3")}
    validation = [float(row["validation_accuracy"]) for row in rows]
    assert validation == sorted(validation, reverse=True)  # ranked on validation, never test
    quoted = readme_table("sweeps.md", "sweep-table")
    for row, line in zip(rows, quoted, strict=True):
        metrics = json.loads((sweep / row["run"] / artifacts.METRICS).read_text())
        assert line[3] == f"{float(row['validation_accuracy']):.4f}"
        assert line[4] == f"{metrics['test_accuracy']:.4f}"
        assert line[6] == f"{metrics['test_loss']:.4f}"
