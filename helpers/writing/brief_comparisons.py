"""What the comparisons a brief asks for measured: a table, curves and sentences for 08.

A params file may declare `comparisons`, named variants of its parameters (no batch
normalization, no augmentation...). The runner trains the run's own network and each variant
with several seeds on the same data and split under <run_dir>/comparisons/ and writes
runs.csv (every run: network, seed, figures) and leaderboard.csv (one row per network) there,
the run's own network keyed BRIEF_RUN (helpers.runner.sweep_comparisons). This module reads
them back and words them by the one rule of helpers.writing.experiment; it imports neither
TensorFlow nor the runner.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import artifacts, wording
from helpers.writing import comparison_curves, experiment

COMPARISONS_DIR = "comparisons"  # inside the run directory
LEADERBOARD_FILE = "leaderboard.csv"  # one row per network, means over its seeds
RUNS_FILE = "runs.csv"  # every run: its network, seed and figures
DESIGN_FILE = "design.json"  # the run's values and each variant's changes
BRIEF_RUN = "as the brief describes"  # the run's own network, as the tables key it
NETWORK_COLUMN = "network"
CHANGED_COLUMN = "changed"
FIGURES = ("validation_accuracy", "test_accuracy", "f1_macro")


def value_text(value: Any) -> str:
    """A parameter value as a reader sees it: true, 0.0003, [512, 256, 128]."""
    return value if isinstance(value, str) else json.dumps(value)


def _entries_change(old: str, new: str) -> str:
    """One list entry edited in place: the words it lost and gained."""
    old_words, new_words = old.split(), new.split()
    lost = " ".join(word for word in old_words if word not in new_words)
    gained = " ".join(word for word in new_words if word not in old_words)
    if lost and not gained:
        return f"{lost} removed"
    if gained and not lost:
        return f"{gained} added"
    return f"{old} -> {new}"


def list_change(name: str, old: Sequence[Any], new: Sequence[Any]) -> str:
    """How a list parameter changed, entry by entry: 'batchnorm, dropout 0.25 removed'."""
    old_texts, new_texts = [value_text(item) for item in old], [value_text(item) for item in new]
    edits: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_texts, b=new_texts, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed, added = old_texts[old_start:old_end], new_texts[new_start:new_end]
        if operation == "delete":
            edits.append(f"{', '.join(removed)} removed")
        elif operation == "insert":
            edits.append(f"{', '.join(added)} added")
        elif operation == "replace" and len(removed) == len(added):
            edits.extend(_entries_change(before, after)
                         for before, after in zip(removed, added, strict=True))
        elif operation == "replace":
            edits.append(f"{', '.join(removed)} -> {', '.join(added)}")
    # The same edit on several entries (l2 removed from every weight layer) is said once.
    if len(edits) > 1 and len(set(edits)) == 1:
        return f"{name}: {edits[0]} ({len(edits)} entries)"
    return f"{name}: {'; '.join(edits)}" if edits else f"{name}: unchanged"


def describe_change(base: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
    """What a variant's overrides change from the run's values, parameter by parameter."""
    parts = []
    for name, new in changes.items():
        old = base.get(name)
        if isinstance(old, list) and isinstance(new, list) and name == "layers":
            parts.append(list_change(name, old, new))
        else:
            parts.append(f"{name} {value_text(old)} -> {value_text(new)}")
    return "; ".join(parts)


def leaderboard_path(run_dir: str | Path) -> Path:
    """Where the runner writes a run's comparison leaderboard (one row per network)."""
    return Path(run_dir) / COMPARISONS_DIR / LEADERBOARD_FILE


def run_label(network: str, seed: int) -> str:
    """A run of a comparison by its network and seed: 'no dropout (seed 43)'."""
    return f"{network} (seed {seed})"


def brief_name(departures: Sequence[str] | None) -> str:
    """The run's own network as the table names it: 'as the brief describes' only when the
    params file declares no departure from the brief."""
    return "this run's network (departs from the brief)" if departures else BRIEF_RUN


def own_network(departures: Sequence[str] | None) -> str:
    """The run's own network in a sentence: the brief's, unless the run departs from it."""
    return "this run's network" if departures else "the brief's network"


def read_runs(run_dir: str | Path) -> pd.DataFrame | None:
    """Every run of the comparison (runs.csv), network and seed; None without one."""
    path = Path(run_dir) / COMPARISONS_DIR / RUNS_FILE
    if not path.is_file():
        return None
    runs = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [column for column in (NETWORK_COLUMN, "seed", *FIGURES) if column not in runs]
    if missing:
        raise ValueError(f"{path}: expected columns {', '.join(missing)}")
    if BRIEF_RUN not in set(runs[NETWORK_COLUMN]):
        raise ValueError(f"{path}: no runs of {BRIEF_RUN!r} (the run's own network)")
    return runs.rename(columns={NETWORK_COLUMN: "variant"})


MEAN_COLUMNS = ("validation_accuracy", "highest_validation_accuracy",
                "final_validation_accuracy", "test_accuracy", "f1_macro", "test_loss",
                "epochs_run", "seconds_per_epoch")


def network_means(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per network: its seeds and the mean of each figure over them, ranked on mean
    validation accuracy (the test figures are reported, never ranked on)."""
    column = NETWORK_COLUMN if NETWORK_COLUMN in runs else "variant"
    present = [name for name in MEAN_COLUMNS if name in runs]
    grouped = runs.groupby(column, sort=False)
    means = grouped[present].mean().reset_index()
    means.insert(1, "seeds", grouped.size().to_numpy())
    if CHANGED_COLUMN in runs:
        means.insert(2, CHANGED_COLUMN, grouped[CHANGED_COLUMN].first().to_numpy())
    means = means.sort_values("validation_accuracy", ascending=False, kind="stable")
    means.insert(0, "rank", range(1, len(means) + 1))
    return means.reset_index(drop=True)


def table(run_dir: str | Path, departures: Sequence[str] | None = None) -> pd.DataFrame | None:
    """Per network: what changed, seeds, mean ± standard deviation of validation and test
    accuracy, the mean highest and final validation accuracy, seconds per epoch, and the
    difference to the run's own network with its interval; None when it ran none."""
    runs = read_runs(run_dir)
    if runs is None:
        return None
    summary = experiment.summary_table(runs, BRIEF_RUN)
    means = network_means(runs).set_index(NETWORK_COLUMN if NETWORK_COLUMN in runs
                                          else "variant")
    differences = {difference.variant: difference for difference
                   in experiment.paired_differences(runs, BRIEF_RUN, "test_accuracy")}
    rows = []
    for network, row in summary.iterrows():
        mean = means.loc[network]
        changed = mean.get(CHANGED_COLUMN)
        difference = differences.get(network)
        rows.append({
            "network": brief_name(departures) if network == BRIEF_RUN else network,
            "what changed": "nothing" if network == BRIEF_RUN or pd.isna(changed) else changed,
            "seeds": row["seeds"], "validation accuracy (kept epoch)": row["validation accuracy"],
            "test accuracy": row["test accuracy"],
            "highest / final validation accuracy": (
                f"{mean['highest_validation_accuracy']:.4f} / "
                f"{mean['final_validation_accuracy']:.4f}"),
            "seconds per epoch": f"{mean['seconds_per_epoch']:.1f}",
            "test accuracy against the run's network (points)": "" if difference is None else
            interval_text(difference)})
    return pd.DataFrame(rows).set_index("network")


STUDY_IGNORED = ("seed", "split_seed")


def tradeoff(runs: pd.DataFrame) -> str | None:
    """For a study over one numeric setting (batch size, learning rate...): each value's
    median seconds per epoch and mean test accuracy, and what the fastest costs against the
    most accurate. None when the networks differ in anything else."""
    from helpers.parameters import PARAMETER_NAMES

    varied = [name for name in runs.columns if name in PARAMETER_NAMES
              and name not in STUDY_IGNORED]
    if len(varied) != 1 or "seconds_per_epoch" not in runs:
        return None
    name = varied[0]
    values = pd.to_numeric(runs[name], errors="coerce")
    if values.isna().any() or values.nunique() < 2:
        return None
    per = runs.assign(value=values).groupby("value").agg(
        seconds=("seconds_per_epoch", "median"), test=("test_accuracy", "mean"))
    fastest, best = per["seconds"].idxmin(), per["test"].idxmax()
    shown = "; ".join(f"{value:g}: {row['seconds']:.1f} s per epoch, test accuracy "
                      f"{row['test']:.4f}" for value, row in per.iterrows())
    text = f"Over {name}, {shown}."
    if fastest != best:
        speed = per.loc[best, "seconds"] / per.loc[fastest, "seconds"]
        cost = per.loc[best, "test"] - per.loc[fastest, "test"]
        text += (f" The fastest, {name} {fastest:g}, trains {speed:.1f}× faster per epoch than "
                 f"the most accurate, {name} {best:g}, for {wording.points(cost, fine=True)} "
                 "less mean test accuracy (whether that difference is real, the rule above "
                 "says).")
    else:
        text += f" {name} {best:g} is both the fastest and the most accurate here."
    return text


def design(run_dir: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The comparison's design: the run's parameter values and each variant's changes; empty
    without one (or for a comparison run before the design was recorded)."""
    path = Path(run_dir) / COMPARISONS_DIR / DESIGN_FILE
    if not path.is_file():
        return {}, {}
    recorded = artifacts.read_json(path)
    return recorded["base"], {variant["name"]: variant["set"]
                              for variant in recorded["variants"]}


def own_test_accuracies(run_dir: str | Path) -> list[float]:
    """The test accuracy of each seed of the run's own network; empty without a comparison."""
    runs = read_runs(run_dir)
    if runs is None:
        return []
    return [float(value) for value in runs[runs["variant"] == BRIEF_RUN]["test_accuracy"]]


def network_curves(run_dir: str | Path,
                   departures: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Each network's mean curves over its seeds (comparison_curves.mean_curves), the run's
    own network first; empty when the run compared nothing."""
    runs = read_runs(run_dir)
    if runs is None:
        return {}
    folder = Path(run_dir) / COMPARISONS_DIR
    order = [BRIEF_RUN, *(name for name in dict.fromkeys(runs["variant"]) if name != BRIEF_RUN)]
    return {brief_name(departures) if network == BRIEF_RUN else network:
            comparison_curves.mean_curves([
                pd.read_csv(artifacts.artifact_path(folder / run, artifacts.HISTORY))
                for run in runs[runs["variant"] == network]["run_dir"]])
            for network in order}


def interval_text(difference: experiment.Difference) -> str:
    """'+0.80 ± 0.41' (95%, corrected), or '+0.80 (one seed)'."""
    shown = f"{difference.mean * 100:+.2f}"
    if difference.seeds < 2:
        return f"{shown} (one seed)"
    return f"{shown} ± {difference.half_width * 100:.2f}" + (" *" if difference.detected else "")


def effects(run_dir: str | Path, departures: Sequence[str] | None = None) -> list[str]:
    """The rule, then each variant's difference on validation (which chooses) and test
    accuracy (which estimates), and the choice; empty when the run compared nothing."""
    runs = read_runs(run_dir)
    if runs is None:
        return []
    variants = [name for name in dict.fromkeys(runs["variant"]) if name != BRIEF_RUN]
    seeds = int(runs[runs["variant"] == BRIEF_RUN]["seed"].nunique())
    lines = [experiment.rule(len(variants), seeds) + " In the table, * marks such a difference."]
    by_measure = {measure: {difference.variant: difference for difference
                            in experiment.paired_differences(runs, BRIEF_RUN, measure)}
                  for measure in experiment.MEASURES}
    own = own_network(departures)
    for variant in variants:
        validation = by_measure["validation_accuracy"][variant]
        test = by_measure["test_accuracy"][variant]
        lines.append(f"**{variant}** against {own}: validation accuracy "
                     f"{validation.sentence()}; test accuracy {test.sentence()}.")
    means = network_means(runs)
    best = means.iloc[0]
    chosen = own if best["variant"] == BRIEF_RUN else f"**{best['variant']}**"
    detected = by_measure["validation_accuracy"].get(best["variant"])
    study = tradeoff(runs)
    if study:
        lines.append(study)
    lines.append(f"Chosen on validation alone: {chosen}, with the highest mean validation "
                 f"accuracy ({best['validation_accuracy']:.4f})"
                 + ("" if best["variant"] == BRIEF_RUN or (detected and detected.detected)
                    else f", though not by a difference this data can detect from {own}")
                 + ".")
    return lines
