"""The committed reference run is complete, meets the target, and the README quotes it."""

import json
import re

from helpers import artifacts, pipeline

REFERENCE = artifacts.PROJECT_ROOT / "reports" / "reference" / "default"


def test_reference_run_is_complete_and_meets_the_target() -> None:
    metrics = json.loads((REFERENCE / artifacts.METRICS).read_text())
    manifest = json.loads((REFERENCE / artifacts.MANIFEST).read_text())
    assert metrics["test_images"] == 10_000 and metrics["test_accuracy"] >= 0.920
    assert manifest["total_seconds"] <= 300  # the six notebooks on a 2-core machine
    assert manifest["git"]["commit"], "the reference must come from committed code"
    for name in pipeline.NOTEBOOKS:
        assert (REFERENCE / f"{name}.ipynb").is_file()
    assert len(list((REFERENCE / "figures").glob("*.png"))) == 6


def test_readme_results_table_quotes_the_reference() -> None:
    metrics = json.loads((REFERENCE / artifacts.METRICS).read_text())
    readme = (artifacts.PROJECT_ROOT / "README.md").read_text()
    table = re.search(r"<!-- results-table -->(.*?)<!-- /results-table -->", readme, re.S)
    assert table, "README.md lost its results table markers"
    row = next(line for line in table.group(1).splitlines() if line.startswith("| default"))
    assert f"{metrics['test_accuracy']:.4f}" in row
    assert f"{metrics['f1_macro']:.4f}" in row
