"""Comparing runs side by side: the comparison notebook's figures, tables and sentences, and
executing that notebook (compare_runs.ipynb) into a self-contained HTML report."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from helpers import artifacts
from helpers.records import MetricsRecord, read_record_if_present
from helpers.runner import leaderboard
from helpers.runner.exceptions import StepFailedError
from helpers.streams import native_stderr_to
from helpers.writing import brief_comparisons, comparison_curves

TEMPLATE = Path(__file__).with_name("compare_runs.ipynb")
COMPARISONS_DIR = artifacts.PROJECT_ROOT / "reports" / "comparisons"
NOTEBOOK = "compare.ipynb"


def new_out_dir(comparisons_dir: Path = COMPARISONS_DIR) -> Path:
    """A fresh folder reports/comparisons/<UTC time>."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    leaderboard.ignored_by_git(comparisons_dir)
    candidate, suffix = comparisons_dir / stamp, 1
    while candidate.exists():
        suffix += 1
        candidate = comparisons_dir / f"{stamp}-{suffix}"
    return candidate


def validation_curves(run_dirs: Sequence[str | Path], labels: Sequence[str]) -> Figure:
    """Validation loss and accuracy per epoch, one line per run: the overlay a brief's
    comparison draws (helpers.writing.comparison_curves), each run a group of one."""
    return comparison_curves.overlay_figure(
        {label: comparison_curves.mean_curves([pd.read_csv(artifacts.artifact_path(
            run, artifacts.HISTORY))]) for run, label in zip(run_dirs, labels, strict=True)},
        "Validation curves")


def per_class_f1(run_dirs: Sequence[str | Path], labels: Sequence[str]) -> pd.DataFrame:
    """Test F1 per class (rows) and run (columns); blank for a run not yet evaluated."""
    columns = {}
    for run, label in zip(run_dirs, labels, strict=True):
        metrics = read_record_if_present(run, MetricsRecord)
        columns[label] = pd.Series({name: figures["f1"] for name, figures
                                    in (metrics.per_class.items() if metrics else [])},
                                   dtype=float)
    table = pd.DataFrame(columns)
    table.index.name = "class"
    return table


def leaderboard_observation(table: pd.DataFrame) -> str:
    """Which run chose itself by validation accuracy, and how it did on the test set."""
    if table.empty:
        return "No run has finished training yet."
    best = table.iloc[0]
    text = (f"**{best['run']}** reached the best validation accuracy, "
            f"{best['validation_accuracy']:.4f} at epoch {best['best_epoch']}")
    if len(table) > 1:
        margin = best["validation_accuracy"] - table.iloc[1]["validation_accuracy"]
        text += f", {margin:.4f} above the next, {table.iloc[1]['run']}"
    tested = table.dropna(subset=["test_accuracy"])
    if pd.notna(best["test_accuracy"]):
        text += f". On the test set it scores {best['test_accuracy']:.4f}"
        top = tested.sort_values("test_accuracy", ascending=False).iloc[0]
        if top["run"] != best["run"]:
            text += (f"; {top['run']} scores more there ({top['test_accuracy']:.4f}), but "
                     "choosing by the test set would fit it, so the validation choice stands")
    return text + "."


def curves_observation(run_dirs: Sequence[str | Path], labels: Sequence[str]) -> str:
    """How far apart the runs are after their first and their last epoch."""
    firsts, lasts = {}, {}
    for run, label in zip(run_dirs, labels, strict=True):
        history = pd.read_csv(artifacts.artifact_path(run, artifacts.HISTORY))
        firsts[label] = float(history["val_accuracy"].iloc[0])
        lasts[label] = float(history["val_accuracy"].iloc[-1])
    if not firsts:
        return "No run to show."

    def spread(values: dict[str, float]) -> str:
        low, high = min(values, key=values.get), max(values, key=values.get)
        return f"{values[low]:.4f} ({low}) to {values[high]:.4f} ({high})"

    return (f"After the first epoch validation accuracy ranges from {spread(firsts)}; after "
            f"the last, from {spread(lasts)}.")


def per_class_observation(table: pd.DataFrame) -> str:
    """The class the runs disagree on most, and the one they agree on most."""
    complete = table.dropna(axis=1, how="all").dropna()
    if complete.empty or complete.shape[1] < 2:
        return "Per-class F1 needs two or more evaluated runs to compare."
    spread = complete.max(axis=1) - complete.min(axis=1)
    widest, narrowest = spread.idxmax(), spread.idxmin()
    return (f"The runs differ most on **{widest}** (F1 from {complete.loc[widest].min():.3f} "
            f"to {complete.loc[widest].max():.3f}) and least on **{narrowest}** (within "
            f"{spread[narrowest]:.3f}). The hardest class, by F1 averaged over the runs, is "
            f"**{complete.mean(axis=1).idxmin()}**.")


def conclusion(table: pd.DataFrame) -> str:
    """The choice the comparison supports, in one paragraph."""
    if table.empty:
        return "Nothing to conclude yet: no run has finished training."
    best = table.iloc[0]
    worst = table.iloc[-1]
    text = (f"Of {len(table)} runs, **{best['run']}** is the one to keep: it has the best "
            f"validation accuracy ({best['validation_accuracy']:.4f})")
    if len(table) > 1:
        text += (f", {best['validation_accuracy'] - worst['validation_accuracy']:.4f} above "
                 f"the weakest, {worst['run']}")
    text += (". Each run here is one training with one seed: its figures move with the seed "
             "alone, so these ranks are not judged; to judge a difference, declare the runs as "
             "a params file's comparisons, which train each with several seeds and state the "
             "rule (docs/runner.md)")
    study = brief_comparisons.tradeoff(table)
    return text + "." + (f" {study}" if study else "")


def compare_runs(run_dirs: Sequence[str | Path], out_dir: str | Path,
                 title: str = "Comparison of runs", labels: Sequence[str] | None = None,
                 log: Callable[[str], None] = print) -> Path:
    """Write leaderboard.csv, the executed comparison notebook and report.html to out_dir."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not run_dirs:
        raise ValueError("nothing to compare: give one or more run directories")
    run_dirs = [str(Path(run).resolve()) for run in run_dirs]
    labels = list(labels) if labels else leaderboard.run_labels(run_dirs)
    table = leaderboard.build(run_dirs, labels)  # a run without results fails here, named
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    log(leaderboard.summary_text(table))
    log(f"leaderboard: {leaderboard.write_csv(table, out_dir / leaderboard.LEADERBOARD)}")
    # The kernel's start-up warnings go to a log, not between the runner's lines. It runs in
    # out_dir and gets the runs from there: the report shows no machine path (as a run's
    # report leaves out run_dir), and a sweep folder holding its runs can move whole.
    try:
        with native_stderr_to(out_dir / "logs" / "compare.log"):
            papermill.execute_notebook(
                str(TEMPLATE), str(out_dir / NOTEBOOK), kernel_name="python3",
                progress_bar=False, cwd=str(out_dir), shutdown_kernel="immediate",
                parameters={"run_dirs": [os.path.relpath(run, out_dir) for run in run_dirs],
                            "labels": labels, "title": title})
    except PapermillExecutionError as error:
        raise StepFailedError(f"the comparison notebook failed in cell {error.cell_index}: "
                              f"{error.ename}: {error.evalue}\nThe executed notebook is "
                              f"{out_dir / NOTEBOOK}") from error
    return write_report(out_dir / NOTEBOOK, out_dir / artifacts.REPORT, title)


def write_report(notebook: Path, destination: Path, title: str) -> Path:
    """The executed notebook as one HTML file, figures embedded, no code prompts."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True)
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4),
                                          resources={"metadata": {"name": title}})
    return artifacts.write_text(destination, body)
