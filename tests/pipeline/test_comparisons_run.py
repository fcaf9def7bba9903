"""Assignment B's comparisons end to end, as an experiment: `run` trains the run, then its
own network's second seed and its three variants with two seeds each through the sweep
engine before 08_conclusion, and 08 and the report state the rule, the table and the answers.
It reads B's small run (handin.small_run, 2 epochs on the 5,000 digits, two seeds per
network), shared with the hand-in and truth checks, so the eight runs are trained once per
test session."""

from pathlib import Path

import pandas as pd
import pytest
from handin import small_run

from helpers import artifacts
from helpers.writing import brief_comparisons

B = "b_mnist_5k_cnn_bn_dropout"
NETWORKS = {brief_comparisons.BRIEF_RUN, "no batch normalization", "no dropout", "neither"}


@pytest.mark.xdist_group(f"small-run-{B}")
def test_run_measures_b_batch_normalization_and_dropout_over_seeds(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    run_dir, result = small_run(B, tmp_path_factory.getbasetemp())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The comparison's runs finished before 08_conclusion ran, which reports them.
    assert output.index("comparisons: done") < output.index("08_conclusion         done"), output
    folder = Path(run_dir) / brief_comparisons.COMPARISONS_DIR
    runs = pd.read_csv(folder / brief_comparisons.RUNS_FILE)
    assert sorted(zip(runs["network"], runs["seed"], strict=True)) == sorted(
        (network, seed) for network in NETWORKS for seed in (42, 43))
    board = pd.read_csv(folder / brief_comparisons.LEADERBOARD_FILE)
    assert set(board["network"]) == NETWORKS and list(board["seeds"]) == [2, 2, 2, 2]
    assert board["validation_accuracy"].is_monotonic_decreasing
    for run in runs["run_dir"]:
        # Each stopped after 05_evaluate with the command line's overrides, on the run's split.
        assert (folder / run / artifacts.METRICS).is_file()
        assert len(pd.read_csv(folder / run / artifacts.HISTORY)) == 2
        split = artifacts.read_json(folder / run / "preprocess.json")
        assert split["validation_images"] == artifacts.read_json(
            Path(run_dir) / "preprocess.json")["validation_images"]
    lines = brief_comparisons.effects(run_dir)
    assert "trained 2 times" in lines[0] and "Bonferroni" in lines[0]
    assert sum(line.startswith("**n") for line in lines[1:]) == 3


@pytest.mark.xdist_group(f"small-run-{B}")
def test_the_report_answers_the_questions_and_states_its_checklist(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    run_dir, result = small_run(B, tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.stdout + result.stderr
    html = (Path(run_dir) / "report.html").read_text()
    assert html.index("Introduction") < html.index("01 · Load the data")
    assert "Does batch normalization improve" in html and "Against <em>no dropout</em>" in html
    checklist = html[html.index("Reproducibility checklist"):]
    for item in ("Computing infrastructure", "Average runtime", "Number of parameters",
                 "Validation figure for each test figure", "Definition of each measure",
                 "Number of runs", "8: 4 networks × 2 seeds", "Settings tried",
                 "Summary statistics", "Data: counts"):
        assert item in checklist, item
    assert html.index("Reproducibility checklist") > html.index("08 · Conclusion")
    assert "07 · Export" not in html  # B's brief names no deployment
