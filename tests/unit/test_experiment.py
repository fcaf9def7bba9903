"""A comparison as an experiment: mean and spread over seeds, and the one rule for a difference."""

import math

import pandas as pd
import pytest
from scipy import stats

from helpers.writing import experiment

BRIEF = "as the brief describes"


def runs(rows: dict[str, list[float]], measure: str = "validation_accuracy") -> pd.DataFrame:
    """Seed-by-seed results: {network: [seed 0, seed 1, ...]} for one measure."""
    return pd.DataFrame([{"variant": name, "seed": seed, measure: value,
                          "test_accuracy" if measure != "test_accuracy" else "other": value}
                         for name, values in rows.items() for seed, value in enumerate(values)])


def test_a_consistent_difference_is_detected_with_its_interval() -> None:
    table = runs({BRIEF: [0.90, 0.91, 0.92], "no dropout": [0.92, 0.93, 0.94]})
    (difference,) = experiment.paired_differences(table, BRIEF, "validation_accuracy")
    assert difference.mean == pytest.approx(0.02) and difference.spread == pytest.approx(0.0)
    assert difference.half_width == pytest.approx(0.0) and difference.detected
    assert difference.sentence().startswith("2.0 points higher")


def test_the_interval_is_the_paired_t_interval_widened_for_several_variants() -> None:
    table = runs({BRIEF: [0.90, 0.91, 0.92], "a": [0.905, 0.92, 0.922],
                  "b": [0.89, 0.91, 0.93]})
    first, second = experiment.paired_differences(table, BRIEF, "validation_accuracy")
    paired = pd.Series([0.005, 0.01, 0.002])
    expected = stats.t.ppf(1 - 0.05 / 2 / 2, 2) * paired.std() / math.sqrt(3)
    assert first.half_width == pytest.approx(expected) and first.comparisons == 2
    assert not first.detected  # 0.57 points, but three seeds this noisy cannot tell
    assert "no difference this data can detect" in first.sentence()
    assert first.seeds_needed() and first.seeds_needed() > 3
    assert second.mean == pytest.approx(0.0, abs=1e-12)
    assert second.sentence().startswith("the same")


def test_one_seed_measures_no_spread_and_claims_nothing() -> None:
    table = runs({BRIEF: [0.90], "a": [0.95]})
    (difference,) = experiment.paired_differences(table, BRIEF, "validation_accuracy")
    assert math.isinf(difference.half_width) and not difference.detected
    assert "one seed cannot measure the spread" in difference.sentence()


def test_the_summary_gives_mean_and_spread_per_network_brief_first() -> None:
    table = runs({"a": [0.95, 0.97], BRIEF: [0.90, 0.92]})
    summary = experiment.summary_table(table, BRIEF)
    assert list(summary.index) == [BRIEF, "a"]
    assert summary.loc[BRIEF, "validation accuracy"] == "0.9100 ± 0.0141"
    assert summary.loc["a", "seeds"] == 2


def test_the_rule_says_the_design_in_words() -> None:
    assert "Bonferroni" in experiment.rule(3, 3) and "3 times" in experiment.rule(3, 3)
    assert "Bonferroni" not in experiment.rule(1, 3)
