"""The committed reference runs are complete, meet their targets, and the README quotes them."""

import json
import re

import pytest

from helpers import artifacts, pipeline

REFERENCES = artifacts.PROJECT_ROOT / "reports" / "reference"
REFERENCE = REFERENCES / "default"
# Reference run -> (its dataset, the least test accuracy it must reach, test images).
DATASET_REFERENCES = {"default": ("fashion_mnist", 0.920, 10_000),
                      "csv": ("csv", 0.915, 10_000),
                      "folder": ("folder", 0.915, 10_000),
                      "mnist_5k": ("mnist_5k", 0.950, 1_000)}


def readme_table(marker: str) -> list[list[str]]:
    readme = (artifacts.PROJECT_ROOT / "README.md").read_text()
    table = re.search(rf"<!-- {marker} -->(.*?)<!-- /{marker} -->", readme, re.S)
    assert table, f"README.md lost its {marker} markers"
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
    assert len(list((REFERENCES / name / "figures").glob("*.png"))) == 6


def test_default_reference_runs_every_step_within_five_minutes() -> None:
    manifest = json.loads((REFERENCE / artifacts.MANIFEST).read_text())
    six_notebooks = sum(seconds for step, seconds in manifest["step_seconds"].items()
                        if step != "07_export")
    assert six_notebooks <= 300  # the six training notebooks on a 2-core machine


def test_readme_results_table_quotes_the_reference() -> None:
    metrics = json.loads((REFERENCE / artifacts.METRICS).read_text())
    row = next(row for row in readme_table("results-table") if row[0] == "default")
    assert f"{metrics['test_accuracy']:.4f}" in row
    assert f"{metrics['f1_macro']:.4f}" in row


def test_readme_dataset_table_quotes_each_reference_run() -> None:
    rows = readme_table("datasets-table")
    assert [row[0] for row in rows] == ["fashion_mnist", "mnist", "cifar10", "mnist_5k", "csv",
                                        "folder"]
    quoted = {row[5]: row[6] for row in rows if row[5] in DATASET_REFERENCES}
    assert set(quoted) == set(DATASET_REFERENCES)
    for name, accuracy in quoted.items():
        metrics = json.loads((REFERENCES / name / artifacts.METRICS).read_text())
        assert accuracy == f"{metrics['test_accuracy']:.4f}", name
