"""A comparison read as an experiment: the brief's network and each variant trained with
several seeds on the same data and split, their mean and spread, and each variant's
difference from the brief's network judged by one stated rule.

The rule (RULE, said once in the report): a difference is paired seed by seed (seed k of a
variant against seed k of the brief's network: the same split, the same batch order), and is
called real only when the 95% interval of its mean excludes zero. With several variants the
intervals are widened (Bonferroni: each at 1 - 0.05/m), so that all of them hold together at
95%. Otherwise the answer is "no difference this data can detect", with the number of seeds
that would resolve a difference of the size seen. Pure: tables in, numbers and words out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from helpers import wording

# The measures compared: validation accuracy chooses, test accuracy estimates.
MEASURES = {"validation_accuracy": "validation accuracy", "test_accuracy": "test accuracy"}
CONFIDENCE = 0.95
MAX_SEEDS_NEEDED = 100  # beyond this, "more seeds" is not a practical answer


def rule(variants: int, seeds: int) -> str:
    """The decision rule in plain words, for this design."""
    corrected = (f"; with {variants} variants each interval is widened so that all {variants} "
                 "hold together at 95% (Bonferroni)") if variants > 1 else ""
    return (f"Each network was trained {seeds} times, with seeds that change the initial "
            "weights, the batch order, dropout and augmentation but not the data or its split. "
            "A variant is compared with the brief's network seed by seed, and a difference "
            "counts as real only when the 95% interval of its mean difference excludes zero"
            f"{corrected}. Otherwise the answer is that this data cannot detect a difference.")


@dataclass(frozen=True)
class Difference:
    """One variant against the brief's network on one measure, over the paired seeds."""

    variant: str
    measure: str  # a key of MEASURES
    mean: float  # variant minus brief, as a fraction (0.004 = 0.4 points)
    half_width: float  # of the (corrected) interval; inf with one seed
    spread: float  # standard deviation of the paired differences
    seeds: int
    comparisons: int  # variants judged together

    @property
    def detected(self) -> bool:
        """Whether the interval excludes zero."""
        return abs(self.mean) > self.half_width

    @property
    def direction(self) -> str:
        return "higher" if self.mean > 0 else "lower"

    def seeds_needed(self) -> int | None:
        """Seeds that would resolve a difference of this size at this spread; None if the
        spread is zero or no practical number would."""
        if self.detected or self.spread == 0 or self.mean == 0:
            return None
        for seeds in range(max(self.seeds, 2) + 1, MAX_SEEDS_NEEDED + 1):
            if _half_width(self.spread, seeds, self.comparisons) < abs(self.mean):
                return seeds
        return None

    def sentence(self) -> str:
        """'0.7 points higher (95% interval ±0.4): a real difference' or the undetected kind."""
        size = wording.points(self.mean, fine=True)
        interval = ("one seed cannot measure the spread" if math.isinf(self.half_width)
                    else f"interval ±{wording.points(self.half_width, fine=True)}")
        if self.detected:
            return f"{size} {self.direction} ({interval}): a difference this data detects"
        needed = self.seeds_needed()
        more = (f"; about {needed} seeds would resolve a difference of this size" if needed
                else "")
        same = "the same" if round(self.mean, 6) == 0 else f"{size} {self.direction}"
        return f"{same} ({interval}): no difference this data can detect{more}"


def _half_width(spread: float, seeds: int, comparisons: int) -> float:
    """Half-width of the Bonferroni-corrected t interval of a mean of `seeds` values."""
    if seeds < 2:
        return math.inf
    level = 1 - (1 - CONFIDENCE) / 2 / max(comparisons, 1)
    return float(stats.t.ppf(level, seeds - 1)) * spread / math.sqrt(seeds)


def paired_differences(runs: pd.DataFrame, brief: str, measure: str) -> list[Difference]:
    """Each variant against `brief` on `measure`, paired by seed (seeds both have)."""
    variants = [name for name in dict.fromkeys(runs["variant"]) if name != brief]
    by_seed = runs.pivot_table(index="seed", columns="variant", values=measure)
    differences = []
    for variant in variants:
        paired = (by_seed[variant] - by_seed[brief]).dropna().to_numpy()
        spread = float(np.std(paired, ddof=1)) if len(paired) > 1 else 0.0
        differences.append(Difference(
            variant, measure, float(paired.mean()) if len(paired) else math.nan,
            _half_width(spread, len(paired), len(variants)), spread, len(paired),
            len(variants)))
    return differences


def summary_table(runs: pd.DataFrame, brief: str) -> pd.DataFrame:
    """Per network: seeds, and mean ± standard deviation of each measure; the brief's first."""
    rows = []
    order = [brief, *(name for name in dict.fromkeys(runs["variant"]) if name != brief)]
    for variant in order:
        own = runs[runs["variant"] == variant]
        row = {"network": variant, "seeds": len(own)}
        for column, label in MEASURES.items():
            row[label] = mean_and_spread(own[column])
        rows.append(row)
    return pd.DataFrame(rows).set_index("network")


def mean_and_spread(values: Sequence[float] | pd.Series) -> str:
    """'0.9330 ± 0.0012' (standard deviation over seeds), or the one value."""
    array = np.asarray(values, dtype=float)
    if len(array) == 1:
        return f"{array[0]:.4f}"
    return f"{array.mean():.4f} ± {array.std(ddof=1):.4f}"
