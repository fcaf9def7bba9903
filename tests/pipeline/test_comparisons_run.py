"""Assignment B's comparisons end to end: `run` trains the run, then its three variants
through the sweep engine before 08_conclusion, and ranks all four on validation accuracy.
It reads B's small run (handin.small_run, 2 epochs on the 5,000 digits), shared with the
hand-in and truth checks, so the four networks are trained once per test session."""

import re
from pathlib import Path

import pandas as pd
import pytest
from handin import small_run

from helpers import artifacts
from helpers.writing import brief_comparisons

B = "b_mnist_5k_cnn_bn_dropout"


@pytest.mark.xdist_group(f"small-run-{B}")
def test_run_measures_b_batch_normalization_and_dropout_on_its_own_data(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    run_dir, result = small_run(B, tmp_path_factory.getbasetemp())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The variants finished before 08_conclusion ran, which reports them.
    assert output.index("comparisons: done") < output.index("08_conclusion         done"), output
    folder = Path(run_dir) / brief_comparisons.COMPARISONS_DIR
    board = pd.read_csv(folder / brief_comparisons.LEADERBOARD_FILE)
    assert set(board["run"]) == {brief_comparisons.BRIEF_RUN, "no batch normalization",
                                 "no dropout", "neither"}
    assert list(board["rank"]) == [1, 2, 3, 4]
    assert board["validation_accuracy"].is_monotonic_decreasing
    assert board[["validation_accuracy", "test_accuracy", "f1_macro"]].notna().all().all()
    for variant in ("no-batch-normalization", "no-dropout", "neither"):
        # Each variant stopped after 05_evaluate with the command line's overrides.
        assert (folder / variant / artifacts.METRICS).is_file()
        assert not (folder / variant / "06_misclassifications.ipynb").exists()
        assert len(pd.read_csv(folder / variant / artifacts.HISTORY)) == 2
    table = brief_comparisons.table(run_dir)
    assert table is not None and len(table) == 4
    lines = brief_comparisons.effects(run_dir)
    assert re.search(r"on [\d,]+ validation images is known to about ±", lines[1])
    assert sum(line.startswith("**n") for line in lines[2:-1]) == 3
