"""Each assignment's report shows what its brief asks for, where a grader looks for it.

The committed reference runs are checked as they are; each assignment file is also run on a
small subset (two epochs, `handin.small_run`, shared with test_truthful_text.py), so a change
that drops an element from the hand-in fails here.
"""

from pathlib import Path

import nbformat
import pytest
from handin import BRIEFS, SMALL_RUN_NAMES, missing_elements, small_run

from helpers import artifacts
from helpers.runner import execute as pipeline

REFERENCES = artifacts.PROJECT_ROOT / "reports" / "reference"
LETTERS = {"a": "a_csv_cnn_l2", "b": "b_mnist_5k_cnn_bn_dropout", "c": "c_fashion_cnn_augment",
           "d": "d_fashion_mlp", "e": "e_mnist_5k_cnn"}
HIDDEN_FROM_THE_REPORT = ("injected-parameters",)


@pytest.mark.parametrize("letter", LETTERS)
def test_reference_report_shows_what_the_brief_asks(letter: str) -> None:
    assert missing_elements(REFERENCES / f"assignment-{letter}", BRIEFS[LETTERS[letter]]) == []


@pytest.mark.parametrize("name", [param for param in SMALL_RUN_NAMES
                                  if param.values[0] in BRIEFS])
def test_a_small_run_of_each_assignment_shows_what_its_brief_asks(
        tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    run_dir, result = small_run(name, tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.stdout + result.stderr
    assert missing_elements(run_dir, BRIEFS[name]) == []


def cell_sources(path: Path) -> list[tuple[str, str]]:
    """A notebook's cells as (type, source), without papermill's injected-parameters cell."""
    notebook = nbformat.read(path, as_version=4)
    return [(cell.cell_type, cell.source) for cell in notebook.cells
            if not set(HIDDEN_FROM_THE_REPORT) & set(cell.metadata.get("tags", []))]


@pytest.mark.parametrize("reference", sorted(path.name for path in REFERENCES.iterdir()
                                             if (path / "01_load_data.ipynb").is_file()))
def test_reference_notebooks_are_todays_notebooks(reference: str) -> None:
    """A committed reference never shows code that no longer exists."""
    for name in pipeline.NOTEBOOKS:
        executed = REFERENCES / reference / f"{name}.ipynb"
        assert executed.is_file(), f"{reference} lacks {name}: re-run it at this commit"
        assert cell_sources(executed) == cell_sources(pipeline.NOTEBOOKS_DIR / f"{name}.ipynb"), \
            f"reports/reference/{reference}/{name}.ipynb differs from notebooks/: re-run it"
