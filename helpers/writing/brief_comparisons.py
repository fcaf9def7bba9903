"""What the comparisons a brief asks for measured: a table and sentences for 08_conclusion.

A params file may declare `comparisons`, named variants of its parameters (no batch
normalization, no augmentation...). The runner trains each variant on the same data and
split under <run_dir>/comparisons/ and writes leaderboard.csv there, ranked on validation
accuracy, with the run itself as the row BRIEF_RUN (helpers.runner.sweep_comparisons).
This module reads that table back and words it; it imports neither TensorFlow nor the runner.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.records import MetricsRecord, PreprocessRecord, read_record_if_present
from helpers.wording import accuracy_interval, points, signed_points

COMPARISONS_DIR = "comparisons"  # inside the run directory
LEADERBOARD_FILE = "leaderboard.csv"
BRIEF_RUN = "as the brief describes"  # the run itself, as its leaderboard row is named
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
    """Where the runner writes a run's comparison leaderboard."""
    return Path(run_dir) / COMPARISONS_DIR / LEADERBOARD_FILE


def read(run_dir: str | Path) -> pd.DataFrame | None:
    """The run's comparison leaderboard, best validation accuracy first; None without one."""
    path = leaderboard_path(run_dir)
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [column for column in ("run", *FIGURES) if column not in table]
    if missing:
        raise ValueError(f"{path}: expected columns {', '.join(missing)}")
    if BRIEF_RUN not in set(table["run"]):
        raise ValueError(f"{path}: no row {BRIEF_RUN!r} (the run itself)")
    return table.sort_values("validation_accuracy", ascending=False, kind="stable")


def _brief_row(leaderboard: pd.DataFrame) -> pd.Series:
    return leaderboard[leaderboard["run"] == BRIEF_RUN].iloc[0]


def comparison_table(leaderboard: pd.DataFrame) -> pd.DataFrame:
    """Per variant: what changed, validation and test accuracy, test macro F1, and the
    differences to the brief's run in percentage points; ranked on validation accuracy."""
    brief = _brief_row(leaderboard)
    rows = []
    for rank, (_, row) in enumerate(leaderboard.iterrows(), start=1):
        is_brief = row["run"] == BRIEF_RUN
        changed = row.get(CHANGED_COLUMN)
        rows.append({
            "rank": rank, "variant": row["run"],
            "what changed": "nothing" if is_brief or pd.isna(changed) else changed,
            "validation accuracy": round(float(row["validation_accuracy"]), 4),
            "test accuracy": round(float(row["test_accuracy"]), 4),
            "test macro F1": round(float(row["f1_macro"]), 4),
            "validation vs brief (points)": "" if is_brief else signed_points(
                row["validation_accuracy"] - brief["validation_accuracy"]),
            "test vs brief (points)": "" if is_brief else signed_points(
                row["test_accuracy"] - brief["test_accuracy"]),
        })
    return pd.DataFrame(rows).set_index("rank")


def table(run_dir: str | Path) -> pd.DataFrame | None:
    """The comparison table of a run (comparison_table), or None when it ran none."""
    leaderboard = read(run_dir)
    return None if leaderboard is None else comparison_table(leaderboard)


def noise(accuracy: float, images: int) -> float:
    """The 95% interval of an accuracy on that many images; one error's worth at 100%."""
    return accuracy_interval(min(accuracy, 1 - 0.5 / images), images)


def _difference(variant: float, brief: float, noise_level: float) -> tuple[str, bool]:
    """'0.9740 against 0.9800, 0.6 points lower: a tie (within ±1.2 points)', and whether
    the difference is beyond the noise."""
    difference = variant - brief
    beyond = abs(difference) > noise_level
    direction = "higher" if difference > 0 else "lower"
    size = "the same" if round(difference, 6) == 0 else f"{points(difference)} {direction}"
    verdict = (f"a measured effect (beyond ±{points(noise_level)})" if beyond
               else f"a tie (within ±{points(noise_level)})")
    return f"{variant:.4f} against {brief:.4f}, {size}: {verdict}", beyond


def effect_sentences(leaderboard: pd.DataFrame, validation_images: int,
                     test_images: int) -> list[str]:
    """The effect of each change on validation and test accuracy, a difference within the
    95% interval of an accuracy on that many images called a tie."""
    if validation_images < 1 or test_images < 1:
        raise ValueError(f"validation_images {validation_images} and test_images "
                         f"{test_images}: both need one image or more")
    brief = _brief_row(leaderboard)
    variants = leaderboard[leaderboard["run"] != BRIEF_RUN]
    if variants.empty:
        return []
    validation_noise = noise(brief["validation_accuracy"], validation_images)
    test_noise = noise(brief["test_accuracy"], test_images)
    lines = [f"Besides the run the brief describes, {len(variants)} variant"
             f"{'s were' if len(variants) > 1 else ' was'} trained on the same images and "
             "split, each changing only what its row says, and ranked on validation accuracy; "
             "test accuracy stands beside it as the estimate for new images and played no "
             "part in the ranking.",
             f"Noise level: an accuracy near {brief['validation_accuracy']:.2f} measured on "
             f"{validation_images:,} validation images is known to about "
             f"±{points(validation_noise)}, and near {brief['test_accuracy']:.2f} on "
             f"{test_images:,} test images to ±{points(test_noise)} (95% intervals); a "
             "difference inside that is a tie, not an effect."]
    measured, tied = [], set()
    for _, row in variants.iterrows():
        validation, validation_beyond = _difference(
            row["validation_accuracy"], brief["validation_accuracy"], validation_noise)
        test, _ = _difference(row["test_accuracy"], brief["test_accuracy"], test_noise)
        changed = row.get(CHANGED_COLUMN)
        what = "" if pd.isna(changed) else f" ({changed})"
        lines.append(f"**{row['run']}**{what}: validation accuracy {validation}; test "
                     f"accuracy {test}.")
        difference = signed_points(row["validation_accuracy"] - brief["validation_accuracy"])
        if validation_beyond:
            measured.append(f"{row['run']} ({difference} points of validation accuracy)")
        else:
            tied.add(row["run"])
    lines.append(closing(leaderboard.iloc[0], measured, tied, validation_images))
    return lines


def closing(best: pd.Series, measured: Sequence[str], tied: set[str],
            validation_images: int) -> str:
    """Which run ranks first on validation, and which changes made a difference beyond noise."""
    if not measured:
        return ("No change moved validation accuracy beyond the noise: on "
                f"{validation_images:,} validation images these variants cannot be told apart "
                "from the brief's run, so this run does not measure their effect; a larger "
                "validation set (more images) or longer training would be needed.")
    first = ("The brief's run ranks first on validation accuracy" if best["run"] == BRIEF_RUN
             else f"**{best['run']}** ranks first on validation accuracy "
                  f"({best['validation_accuracy']:.4f})"
                  + (", within the noise of the brief's run" if best["run"] in tied else ""))
    return f"{first}; beyond the noise: {', '.join(measured)}."


def effects(run_dir: str | Path) -> list[str]:
    """The comparison's sentences for a run (effect_sentences); empty when it ran none."""
    leaderboard = read(run_dir)
    if leaderboard is None:
        return []
    split = read_record_if_present(run_dir, PreprocessRecord)
    metrics = read_record_if_present(run_dir, MetricsRecord)
    if split is None or metrics is None:
        raise ValueError(f"{run_dir}: {PreprocessRecord.FILE} and {MetricsRecord.FILE} are "
                         "needed for the comparison's noise level; run 02 and 05 first")
    return effect_sentences(leaderboard, split.validation_images, metrics.test_images)
