"""The conclusion of a run's report (08_conclusion), written from the run's own files.

What was built, the headline figures against validation (and against an assignment brief's
reported figures), what worked, the model's limits, concrete next steps, and a short
appendix on how the run was computed. Reading is separate from writing: `read_run` gathers
the artifacts; every other function is pure, so tests/unit/test_conclusion.py can feed
known figures and check the sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import artifacts, catalog, parameters, wording
from helpers.records import (
    DatasetRecord,
    MetricsRecord,
    ModelRecord,
    PreprocessRecord,
    TrainingRecord,
    read_record,
)
from helpers.writing import chance, curve_diagnosis, experiment, observations

# How the brief's figures are named in `reported_metrics`, and in the headline table.
METRIC_LABELS = {"test_accuracy": "accuracy", "test_loss": "loss (cross-entropy)",
                 "precision_macro": "precision (macro)", "recall_macro": "recall (macro)",
                 "f1_macro": "F1 (macro)"}
CONFUSED_PAIRS_FILE = "confused_pairs.csv"
SWEEP_LEADERBOARD = "leaderboard.csv"


@dataclass(frozen=True)
class RunFigures:
    """Everything the conclusion cites, as the earlier steps recorded it."""

    dataset: DatasetRecord
    split: PreprocessRecord
    model: ModelRecord
    training: TrainingRecord
    metrics: MetricsRecord
    history: pd.DataFrame
    pairs: pd.DataFrame
    top_probabilities: np.ndarray | None = None  # each test image's highest probability


def read_run(run_dir: str | Path) -> RunFigures:
    """The records of steps 01-06 of a run directory."""
    history = pd.read_csv(artifacts.require(run_dir, artifacts.HISTORY, "04_train"))
    pairs = pd.read_csv(artifacts.require(run_dir, CONFUSED_PAIRS_FILE, "06_misclassifications"),
                        dtype={"true class": str, "predicted as": str})  # digits stay names
    predictions = artifacts.read_arrays(artifacts.require(run_dir, artifacts.PREDICTIONS,
                                                          "05_evaluate"))
    return RunFigures(read_record(run_dir, DatasetRecord), read_record(run_dir, PreprocessRecord),
                      read_record(run_dir, ModelRecord), read_record(run_dir, TrainingRecord),
                      read_record(run_dir, MetricsRecord), history, pairs,
                      predictions["probabilities"].max(axis=1))


def network_description(architecture: Mapping) -> str:
    """The network in one phrase, from model.json's architecture parameters."""
    kind = catalog.network_of(architecture)
    return kind.describe(kind.effective(architecture))


def what_was_built(figures: RunFigures, subject: observations.Subject) -> str:
    """One paragraph: the data, the network, the training."""
    run, data = figures.training, figures.split
    return (f"This run trained {network_description(figures.model.architecture)}, "
            f"{figures.model.parameters['trainable']:,} trainable parameters, from scratch on "
            f"{data.train_images:,} {subject.plural} of "
            f"{observations.dataset_title(figures.dataset.name)}, holding "
            f"{data.validation_images:,} out for validation, for {run.epochs_run} epochs "
            f"({run.train_seconds:.0f} s of training), and tested it on "
            f"{figures.metrics.test_images:,} {subject.plural} it had never seen.")


def read_sweep(path: str | Path) -> pd.DataFrame:
    """A finished sweep's leaderboard (relative paths are from the project root).

    `attrs["measured_on"]` says on what the sweep measured, from its first point's manifest:
    a sweep on other data than this run's is quoted as such.
    """
    folder = Path(path) if Path(path).is_absolute() else artifacts.PROJECT_ROOT / path
    leaderboard = folder / SWEEP_LEADERBOARD
    if not leaderboard.is_file():
        raise FileNotFoundError(f"related_sweep {path!r}: {leaderboard} is missing; run the sweep "
                                "to the end first (docs/sweeps.md)")
    table = pd.read_csv(leaderboard)
    point = folder / str(table["run_dir"].iloc[0])
    manifest, training = point / artifacts.MANIFEST, point / artifacts.TRAINING_INFO
    if manifest.is_file():
        given = artifacts.read_json(manifest)["parameters"]
        # the epochs planned, which "auto" leaves to training.json
        epochs = (artifacts.read_json(training)["epochs"] if training.is_file()
                  else given.get("epochs", parameters.default("epochs")))
        dataset = observations.dataset_title(given.get("dataset", parameters.default("dataset")))
        table.attrs["measured_on"] = (f"{dataset}, {epochs} epochs per point"
                                      if isinstance(epochs, int) else
                                      f"{dataset}, the epochs of each point chosen from its data")
    return table


def sweep_effects(leaderboard: pd.DataFrame) -> list[str]:
    """Each two-valued swept parameter's effect on test accuracy, at each setting of the rest."""
    swept = list(leaderboard.columns[leaderboard.columns.get_loc("run") + 1:
                                     leaderboard.columns.get_loc("validation_accuracy")])
    lines = []
    for name in swept:
        low, high = sorted(leaderboard[name].unique())[:2] if leaderboard[name].nunique() == 2 \
            else (None, None)
        if low is None:
            continue
        others = [other for other in swept if other != name]
        grouped = leaderboard.groupby(others) if others else [((), leaderboard)]
        effects = []
        for setting, rows in grouped:
            accuracy = rows.set_index(name)["test_accuracy"]
            if low in accuracy and high in accuracy:
                # groupby by a list of columns keys every group by a tuple, one per column.
                where = ", ".join(f"{other} {value}"
                                  for other, value in zip(others, setting, strict=True))
                change = accuracy[high] - accuracy[low]
                effects.append(f"{'+' if change >= 0 else '−'}{wording.points(change)}"
                               + (f" with {where}" if where else ""))
        if effects:
            lines.append(f"`{name}` {high} instead of {low} changed test accuracy by "
                         f"{' and '.join(effects)}.")
    best = leaderboard.sort_values("rank").iloc[0]
    if "measured_on" in leaderboard.attrs:
        lines.insert(0, f"The sweep measured on {leaderboard.attrs['measured_on']}.")
    lines.append(f"Ranked on validation accuracy (the test set chose nothing), the best point "
                 f"was {best['run']}: validation {best['validation_accuracy']:.4f}, test "
                 f"{best['test_accuracy']:.4f}.")
    return lines


def limits(figures: RunFigures, subject: observations.Subject,
           seeds: Sequence[float] = ()) -> list[str]:
    """What the figures cannot promise: the test set's size, the weakest class, the inputs,
    and the spread over seeds (`seeds`: the test accuracies of the network's seeds, when a
    comparison trained it with several)."""
    metrics, shape = figures.metrics, figures.dataset.image_shape
    margin = wording.accuracy_interval(metrics.test_accuracy, metrics.test_images)
    weakest = min(metrics.per_class.items(), key=lambda item: (item[1]["recall"], item[0]))
    learned = chance.from_history(figures.history, len(metrics.class_names)) is None
    lines = [f"One test set of {metrics.test_images:,} {subject.plural}: its accuracy "
             f"{metrics.test_accuracy:.4f} is known to about ±{margin:.4f} (95% interval), so "
             f"differences between runs smaller than {wording.points(margin)} are noise.",
             f"{weakest[0]} stays the weak spot: recall {weakest[1]['recall']:.3f}, "
             f"{observations.missed(weakest[1]['recall'])}."]
    if learned and observations.top_pair_stands_out(figures.pairs, metrics.confusion_matrix,
                                                      metrics.class_names):
        top = figures.pairs.iloc[0]
        lines.append(f"Its most frequent mistake, {top['true class']} taken for "
                     f"{top['predicted as']} ({top['images']} times), is between classes that "
                     f"look alike at {shape[0]}×{shape[1]} pixels; the model sees nothing else.")
    lines.append(observations.other_inputs(len(metrics.class_names), shape,
                                           figures.top_probabilities))
    if figures.dataset.name == "mnist_5k":
        lines.append(f"The data is the 5,000-digit MNIST subset, not full MNIST: "
                     f"{figures.split.train_images:,} training, "
                     f"{figures.split.validation_images:,} validation and "
                     f"{metrics.test_images:,} test digits. Full MNIST's 10,000 test digits "
                     f"would pin accuracy down to about ±"
                     f"{wording.accuracy_interval(metrics.test_accuracy, 10_000):.4f}.")
    if len(seeds) > 1:
        lines.append(f"Trained with {len(seeds)} seeds, this network's test accuracy was "
                     f"{experiment.mean_and_spread(seeds)} (mean ± standard deviation): one "
                     "run's figure moves by about that much with the seed alone.")
    else:
        lines.append(f"One training run with seed {figures.training.seed}: the spread over "
                     "seeds was not measured in this run.")
    return lines


def future_work(figures: RunFigures, subject: observations.Subject, seeds: int = 1,
                without_effect: Sequence[str] = ()) -> list[str]:
    """Next steps in plain words, only what a measurement calls for: first the curves'
    diagnosis (helpers.writing.curve_diagnosis), then what the network and the mistakes
    suggest. A step about a regularizer whose comparison found no effect (`without_effect`:
    'dropout', 'augmentation', ...) is left out; so is 'more seeds' when `seeds` were run."""
    kind = catalog.network_of(figures.model.architecture)
    architecture = kind.effective(figures.model.architecture)
    steps = [_plain(step) for step in _diagnosis(figures).next_steps
             if not any(feature in step.lower() for feature in without_effect)]
    if chance.from_history(figures.history, len(figures.dataset.class_names)):
        return steps  # the checks: a network change means nothing before the model learns
    if kind.suggests_convolutions:
        steps.append("Use convolutions: a dense network sees pixels, not shapes, and cannot "
                     "reuse what it learns in one place of the image.")
    elif ("batch_norm" in kind.parameters and not architecture.get("batch_norm")
          and "batch normalization" not in without_effect):
        steps.append("Add batch normalization: it steadies training at the same learning "
                     "rate.")
    if observations.top_pair_stands_out(figures.pairs, figures.metrics.confusion_matrix,
                                        figures.metrics.class_names):
        top = figures.pairs.iloc[0]
        network = _plain(kind.wider_network(architecture)).rstrip("; ")
        if network:
            steps.append(f"Attack the {top['true class']} / {top['predicted as']} confusion: "
                         f"{network}.")
    if seeds < 2:
        steps.append("Train the network with more seeds and report the mean and spread: one "
                     "run's figures move with the seed alone.")
    return steps


def _plain(step: str) -> str:
    """A next step without the parameter names in parentheses: a reader acts on the words."""
    names = set(parameters.PARAMETER_NAMES)

    def drop(match: re.Match) -> str:
        inside = [part.strip() for part in match.group(1).split(",")]
        return "" if all(part in names for part in inside) else match.group(0)

    return re.sub(r" \(([a-z_, ]+)\)", drop, step)


def _diagnosis(figures: RunFigures) -> curve_diagnosis.Diagnosis:
    """The curves' diagnosis, or for a model left at chance the plain statement and checks."""
    return chance.unless_learned(
        curve_diagnosis.diagnose_recorded(figures.history, figures.model, figures.training,
                                          figures.split.validation_images),
        figures.history, len(figures.dataset.class_names), figures.training.learning_rate,
        figures.training.epochs_run)


def how_computed(figures: RunFigures) -> list[str]:
    """The engineering facts a reader may ask for, kept out of the narrative."""
    run = figures.training
    onednn = run.onednn or {}
    policy = {"float32": "32-bit floats", "mixed_bfloat16": "mixed bfloat16 (16-bit) with "
              "the CPU's bfloat16 instructions, weights kept in 32-bit", "mixed_float16":
              "mixed float16 on the GPU, weights kept in 32-bit"}.get(run.compute_dtype_policy,
                                                                      run.compute_dtype_policy)
    resumed = (f"it was interrupted and resumed after epoch {run.resumed_after_epoch}"
               if run.resumed_after_epoch else "it ran without interruption")
    return [f"Trained on {', '.join(run.devices)} ({run.replicas} replica"
            f"{'s' if run.replicas > 1 else ''}, global batch {run.global_batch_size}), "
            f"computing in {policy}; saved and evaluated in 32-bit floats.",
            f"oneDNN CPU kernels {'on' if onednn.get('enabled') else 'off'}"
            f"{' (set by the helpers)' if onednn.get('set_by') == 'helpers' else ''}.",
            f"Seed {run.seed} for the split, the initial weights, the batch order and dropout; "
            f"training backs up every epoch so an interrupted run continues, and {resumed}.",
            f"Learning rate {run.learning_rate} ({run.lr_schedule}), batch {run.batch_size}, "
            f"label smoothing {run.label_smoothing}, weight average momentum "
            f"{run.ema_momentum}."] + (
        ["Test predictions, the exports and the REST API average each image's class "
         "probabilities with its mirror image's; the validation figures of 04 do not."]
        if run.test_time_mirror else [])


def what_worked(figures: RunFigures, subject: observations.Subject,
                sweep: pd.DataFrame | None = None) -> list[str]:
    """The run's own evidence of what helped and what did not, then a sweep's, if given."""
    lines = list(_diagnosis(figures).observations)
    lines += observations.per_class(figures.metrics.per_class, subject)
    if sweep is not None:
        lines += [f"Sweep: {line}" for line in sweep_effects(sweep)]
    return lines
