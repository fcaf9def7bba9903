"""The headline figures of 08: the kept model on the validation and the test images, measured
alike, beside the figures a brief reports, and what the differences between them mean."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helpers import wording
from helpers.records import MetricsRecord
from helpers.writing import observations
from helpers.writing.conclusion import METRIC_LABELS, RunFigures


def validation_figures(figures: RunFigures) -> dict[str, float]:
    """The kept model's validation figures keyed like the test ones: measured by 05 alike
    (runs before it recorded them fall back to the kept epoch's row of history.csv, whose loss
    includes any weight penalty)."""
    measured = figures.metrics.validation
    if measured:
        return {"test_accuracy": measured["accuracy"], "test_loss": measured["loss"],
                **{name: measured[name] for name in ("precision_macro", "recall_macro",
                                                     "f1_macro")}}
    kept = figures.history[figures.history["epoch"] == figures.training.kept].iloc[0]
    return {"test_accuracy": float(kept["val_accuracy"])}


def headline_table(figures: RunFigures,
                   reported: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The kept model on the validation and the test images, measured alike, and the brief's
    figures when it reports any."""
    validation = validation_figures(figures)
    column = f"validation (epoch {figures.training.kept}, kept)"
    rows = []
    for name, label in METRIC_LABELS.items():
        row = {"figure": label, column: validation.get(name),
               "test": getattr(figures.metrics, name)}
        if reported:
            row["reported by the brief"] = reported.get(name)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("figure")
    # Four decimals, and a dash where a column has no such figure.
    return table.map(lambda value: "–" if pd.isna(value) else f"{value:.4f}")


def highest_validation(figures: RunFigures) -> str | None:
    """The highest validation accuracy of any epoch, when it is not the kept epoch's."""
    history = figures.history
    top = history.loc[history["val_accuracy"].idxmax()]
    kept = history[history["epoch"] == figures.training.kept]
    if kept.empty or float(top["val_accuracy"]) <= float(kept["val_accuracy"].iloc[0]):
        return None
    return (f"The highest validation accuracy of any epoch was {top['val_accuracy']:.4f}, at "
            f"epoch {int(top['epoch'])}; the kept epoch, {figures.training.kept}, had "
            f"{float(kept['val_accuracy'].iloc[0]):.4f}.")


def headline_observations(figures: RunFigures,
                          reported: Mapping[str, float] | None = None) -> list[str]:
    """Test against the kept model's validation figure, then against the brief's."""
    validation = figures.metrics.validation
    lines = [observations.test_against_validation(
        figures.metrics.test_accuracy, validation_figures(figures)["test_accuracy"],
        figures.metrics.test_images,
        int(validation.get("images") or figures.split.validation_images), figures.training)]
    highest = highest_validation(figures)
    if highest:
        lines.append(highest)
    if figures.training.test_time_mirror and not validation:
        lines[0] += (" The two are not measured alike: the test predictions average each "
                     "image with its mirror image, the validation figure does not.")
    return lines + (against_brief(figures.metrics, reported) if reported else [])


def against_brief(metrics: MetricsRecord, reported: Mapping[str, float]) -> list[str]:
    """One sentence per figure the brief reports: ours, theirs, and the difference. A rate that
    differs by less than the test set's 95% interval on accuracy is called a tie, not a win."""
    margin = wording.accuracy_interval(metrics.test_accuracy, metrics.test_images)
    lines = []
    for name, theirs in reported.items():
        ours = getattr(metrics, name)
        ours_text = f"Test {METRIC_LABELS[name]} {ours:.4f}"
        better = ours < theirs if name == "test_loss" else ours > theirs
        if abs(ours - theirs) < 0.0005:
            lines.append(f"{ours_text} matches the brief's {theirs:.4f}.")
        elif name == "test_loss":
            lines.append(f"{ours_text} {'beats' if better else 'falls short of'} the brief's "
                         f"{theirs:.4f}.")
        elif abs(ours - theirs) <= margin:
            lines.append(f"{ours_text} is {wording.points(ours - theirs)} "
                         f"{'over' if better else 'under'} the brief's {theirs:.4f}: within the "
                         f"±{wording.points(margin)} a test set of "
                         f"{metrics.test_images:,} images can tell apart, so the two agree.")
        else:
            lines.append(f"{ours_text} {'beats' if better else 'falls short of'} the brief's "
                         f"{theirs:.4f} by {wording.points(ours - theirs)}.")
    return lines
