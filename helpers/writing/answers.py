"""The end of the report: each of the brief's questions answered from the measurements, the
surprises a comparison found examined, and a recommendation only where a measurement
supports one.

A question the params file ties to comparison variants (`answered_by`) is answered by their
seed-paired differences to the run's own network (helpers.writing.experiment's rule); any
other question by the run's own test figures and their 95% interval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import artifacts, wording
from helpers.records import (
    MetricsRecord,
    ModelRecord,
    PreprocessRecord,
    TrainingRecord,
    read_record,
)
from helpers.writing import brief_comparisons, curve_diagnosis, experiment, surprises
from helpers.writing.introduction import question_texts


def _reversed(difference: experiment.Difference) -> experiment.Difference:
    """The same difference from the run's network's side: the run's minus the variant's."""
    return dataclasses.replace(difference, mean=-difference.mean)


def variant_answer(variant: str, difference: experiment.Difference, changed: str,
                   own: str) -> str:
    """'Against *no L2* (...), the brief's network's mean test accuracy was 0.30 points
    lower (interval ±0.52): no difference this data can detect.'"""
    what = f" ({changed})" if changed else ""
    return (f"Against *{variant}*{what}, the mean test accuracy of {own} was "
            f"{_reversed(difference).sentence()}.")


def own_answer(metrics: MetricsRecord, reported: Mapping[str, float] | None) -> str:
    """The run's own test figures with their interval, and the brief's figure beside them."""
    margin = wording.accuracy_interval(metrics.test_accuracy, metrics.test_images)
    text = (f"On {metrics.test_images:,} test images it never saw, the network classified "
            f"{metrics.test_accuracy:.2%} correctly (±{wording.points(margin)}, 95%), with a "
            f"macro F1 of {metrics.f1_macro:.4f}")
    if reported and "test_accuracy" in reported:
        text += f"; the brief reports {reported['test_accuracy']:.4f}"
    return text + "."


def answers(run_dir: str | Path, questions: Sequence[Any] | None,
            reported: Mapping[str, float] | None = None,
            departures: Sequence[str] | None = None) -> list[str]:
    """One paragraph per question: the question in bold, then its answer."""
    metrics = read_record(run_dir, MetricsRecord)
    runs = brief_comparisons.read_runs(run_dir)
    differences = ({difference.variant: difference for difference in
                    experiment.paired_differences(runs, brief_comparisons.BRIEF_RUN,
                                                  "test_accuracy")}
                   if runs is not None else {})
    changed = (runs.groupby("variant")[brief_comparisons.CHANGED_COLUMN].first().to_dict()
               if runs is not None and brief_comparisons.CHANGED_COLUMN in runs else {})
    own = brief_comparisons.own_network(departures)
    lines = []
    for question, text in zip(questions or [None], question_texts(questions) or [None],
                              strict=True):
        variants = [name for name in _answered_by(question) if name in differences]
        answer = (" ".join(variant_answer(name, differences[name],
                                          "" if pd.isna(changed.get(name)) else
                                          str(changed.get(name) or ""), own)
                           for name in variants)
                  if variants else own_answer(metrics, reported))
        lines.append(f"**{text}** {answer}" if text else answer)
    return lines


def _answered_by(question: Any) -> list[str]:
    if isinstance(question, Mapping):
        return list(question.get("answered_by") or [])
    return list(getattr(question, "answered_by", None) or [])


def examined_surprises(run_dir: str | Path) -> list[str]:
    """For each variant that takes out one thing the brief expects to help (augmentation, L2,
    dropout, batch normalization) and is not beaten by a difference this data detects: the
    surprise said plainly, the classes that moved most, and a hypothesis."""
    runs = brief_comparisons.read_runs(run_dir)
    if runs is None:
        return []
    folder = Path(run_dir) / brief_comparisons.COMPARISONS_DIR
    given, sets = brief_comparisons.design(run_dir)
    differences = {difference.variant: difference for difference in
                   experiment.paired_differences(runs, brief_comparisons.BRIEF_RUN,
                                                 "test_accuracy")}
    lines: list[str] = []
    overfit = None  # the run's own curve reading, read once and only if a surprise needs it
    for variant, difference in differences.items():
        removed = surprises.removed_features(given, sets.get(variant, {}))
        # A variant that takes out two of them cannot say which one mattered, so only one
        # that takes out a single one is examined; one whose removal detectably hurt is no
        # surprise.
        if len(removed) != 1 or (difference.detected and difference.mean < 0):
            continue
        overfit = _overfit(Path(run_dir)) if overfit is None else overfit
        lines += _one_surprise(runs, folder, variant, removed[0], difference, given, overfit)
    return lines


def without_effect(run_dir: str | Path) -> list[str]:
    """What a variant took out (augmentation, dropout, ...) with no difference in test accuracy
    this data can detect: a change of it is not recommended on this evidence."""
    runs = brief_comparisons.read_runs(run_dir)
    if runs is None:
        return []
    given, sets = brief_comparisons.design(run_dir)
    return sorted({feature for difference in experiment.paired_differences(
        runs, brief_comparisons.BRIEF_RUN, "test_accuracy") if not difference.detected
        for feature in surprises.removed_features(given, sets.get(difference.variant, {}))})


def _f1(runs: pd.DataFrame, folder: Path, network: str) -> pd.DataFrame:
    return surprises.f1_by_class([read_record(folder / run, MetricsRecord) for run
                                  in runs[runs["variant"] == network]["run_dir"]])


def _one_surprise(runs: pd.DataFrame, folder: Path, variant: str, feature: str,
                  difference: experiment.Difference, given: Mapping[str, Any],
                  overfit: bool) -> list[str]:
    changes = surprises.class_changes(_f1(runs, folder, brief_comparisons.BRIEF_RUN),
                                      _f1(runs, folder, variant))
    mirrored = None
    arrays = artifacts.artifact_path(folder.parent, artifacts.DATASET_ARRAYS)
    losers = [name for name, change in changes.items() if change < 0][:3]
    if feature == "augmentation" and given.get("augment_flip") and arrays.is_file() and losers:
        data = artifacts.read_arrays(arrays)
        info = artifacts.read_json(artifacts.artifact_path(folder.parent, artifacts.DATASET_INFO))
        mirrored = surprises.mirror_hypothesis(surprises.left_right_asymmetry(
            data["x_train"], data["y_train"], info["class_names"]), losers)
    supported = mirrored if mirrored and mirrored.startswith("The classes") else None
    lines = surprises.surprise_lines(feature, variant,
                                     f"had a mean test accuracy {difference.sentence()}",
                                     changes, overfit=overfit,
                                     hypothesis=supported,
                                     hurt=difference.detected)
    if mirrored and not supported:
        lines.insert(-1, mirrored)
    return lines


def _overfit(run_dir: Path) -> bool:
    """Whether the run's own curves show overfitting, as 04 and 08 read them."""
    history = pd.read_csv(artifacts.require(run_dir, artifacts.HISTORY, "04_train"))
    diagnosis = curve_diagnosis.diagnose_recorded(
        history, read_record(run_dir, ModelRecord), read_record(run_dir, TrainingRecord),
        read_record(run_dir, PreprocessRecord).validation_images)
    return curve_diagnosis.Finding.OVERFITTING in diagnosis.findings


def read_discussion(path: str | Path) -> str:
    """The student's own discussion (discussion_file), a Markdown file; a relative path is
    from the project's root."""
    path = Path(path)
    full = path if path.is_absolute() else artifacts.PROJECT_ROOT / path
    if not full.is_file():
        raise FileNotFoundError(f"discussion_file {str(path)!r}: no such file ({full}); give a "
                                "Markdown file of your own discussion, relative to the project")
    text = full.read_text(encoding="utf-8").strip()
    if not text:
        raise ValueError(f"discussion_file {str(path)!r} is empty")
    return text
