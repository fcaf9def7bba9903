"""What a run's training curves show: a diagnosis of the whole history, each claim with its
evidence.

The categories are the standard ones (google-research/tuning_playbook, "examining the training
curves"; Google's Machine Learning Crash Course, "interpreting loss curves"): overfitting,
still improving at the end, a plateau the learning-rate schedule caused, training loss above
validation loss because dropout or augmentation act only while training, early stopping, and
noise that a small validation set cannot tell from a trend. `diagnose` is pure (a history and
a small context in, a Diagnosis out); 04_train prints its observations under the curves
(`observations_for_run`), 08_conclusion its observations and next steps.
tests/unit/test_curves.py holds a table of histories and the diagnosis each must get.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import catalog, wording
from helpers.records import ModelRecord, PreprocessRecord, TrainingRecord, read_record
from helpers.writing import chance, observations
from helpers.writing.curve_diagnosis.history import (
    IMPROVING,
    RISE,
    CurveContext,
    Curves,
    Finding,
    is_noise,
    learning_rate_share,
    low_rate_tail,
    rate_cuts,
    read_curves,
    small_validation,
    window_start,
)
from helpers.writing.curve_diagnosis.rates import (
    improving_at_low_rate_sentence,
    level_rate,
    levelled_step,
    plateau_sentence,
    plateau_step,
    rate_cut_sentence,
)
from helpers.writing.curve_diagnosis.sentences import (
    best_sentence,
    early_stopping_sentence,
    gap_sentence,
    improving_sentence,
    last_epoch_rise_sentence,
    levelled_sentence,
    noise_sentence,
    overfitting_sentence,
    train_above_sentence,
    unstable_sentence,
)

# Re-exported: callers and tests build a context and read findings from this module.
__all__ = ["CurveContext", "Diagnosis", "Finding", "diagnose", "diagnose_recorded",
           "learning_rate_share", "observations_for_run", "train_only_regularizers"]
@dataclass(frozen=True)
class Diagnosis:
    """The categories found, the observations (markdown) and the next steps (plain words)."""

    findings: tuple[Finding, ...]
    observations: tuple[str, ...]
    next_steps: tuple[str, ...]
    best_epoch: int

    @property
    def categories(self) -> tuple[str, ...]:
        """The findings as plain strings, e.g. ('overfitting', 'noise')."""
        return tuple(finding.value for finding in self.findings)


def train_only_regularizers(architecture: Mapping[str, Any],
                            augmentation: Mapping[str, float | bool] | Any) -> tuple[str, ...]:
    """Dropout in the network and augmentation, in words, from model.json and training's
    augmentation (a dict or helpers.data.input_pipeline.Augmentation).

    The network kind's catalog entry says which dropout counts (for `layers` only its dropout
    entries; older runs' model.json holds every architecture parameter, used or not).
    """
    if dataclasses.is_dataclass(augmentation) and not isinstance(augmentation, type):
        augmentation = dataclasses.asdict(augmentation)
    rates = catalog.network_of(architecture).dropout_rates(architecture)
    found = [f"dropout {' and '.join(f'{rate:g}' for rate in rates if rate > 0)}"] \
        if any(rate > 0 for rate in rates) else []
    used = wording.augmentation_phrases(augmentation)
    if used:
        found.append(f"augmentation ({', '.join(used)})")
    return tuple(found)


def _settings_context(settings: Any) -> dict[str, Any]:
    """What the curve reading takes from a run's parameters or training.json (same names)."""
    return {"monitor": getattr(settings, "early_stopping_monitor", "val_loss"),
            "restore_best_weights": getattr(settings, "restore_best_weights", True),
            "lr_plateau_patience": getattr(settings, "lr_plateau_patience", 2)}


def context_from_records(model: ModelRecord, training: TrainingRecord,
                         validation_images: int) -> CurveContext:
    """The context of a finished run, from its model.json, training.json and split size."""
    return CurveContext(training.epochs, training.early_stopping_patience,
                        training.learning_rate, training.lr_schedule, validation_images,
                        train_only_regularizers(model.architecture, training.augmentation),
                        model.architecture["architecture"], **_settings_context(training))


def diagnose_recorded(history: pd.DataFrame, model: ModelRecord, training: TrainingRecord,
                      validation_images: int) -> Diagnosis:
    """The diagnosis of a finished run, from its history and records (08_conclusion)."""
    return diagnose(history, context_from_records(model, training, validation_images))


def observations_for_run(run_dir: str | Path, history: pd.DataFrame, epochs: int,
                         early_stopping_patience: int | None, learning_rate: float,
                         lr_schedule: str, augmentation: Mapping[str, float | bool] | Any,
                         params: Any = None) -> str:
    """04_train's observations under the curves, as markdown: the network and the split
    are read from 03's model.json and 02's preprocess.json in the run directory; `params`
    (the run's parameters) give what early stopping watched and the plateau's patience."""
    model = read_record(run_dir, ModelRecord)
    split = read_record(run_dir, PreprocessRecord)
    context = CurveContext(epochs, early_stopping_patience, learning_rate, lr_schedule,
                           split.validation_images,
                           train_only_regularizers(model.architecture, augmentation),
                           model.architecture["architecture"], **_settings_context(params))
    # A model left at chance gets the plain statement instead of readings of its curves.
    return observations.as_markdown(chance.unless_learned(
        diagnose(history, context), history, chance.classes_in(run_dir), learning_rate,
        epochs).observations)


def _end_of_run(curves: Curves) -> tuple[list[Finding], list[str]]:
    """What the last epochs show: a rise, progress, a schedule's flat end or a level."""
    best, last = curves.best, curves.last
    tail = low_rate_tail(curves)
    ceiling = curves.val_loss[best] * (1 + RISE)
    last_change = curves.val_loss[last] / curves.val_loss[last - 1] - 1
    plateau = bool(tail) and -IMPROVING < last_change < RISE
    findings: list[Finding] = []
    lines: list[str] = []
    if curves.val_loss[last] > ceiling and best < last - 1 and curves.val_loss[last - 1] > ceiling:
        if curves.loss[last] < curves.loss[best]:
            findings, lines = [Finding.OVERFITTING], [overfitting_sentence(curves)]
        else:
            findings, lines = [Finding.UNSTABLE], [unstable_sentence(curves)]
    elif curves.val_loss[last] > ceiling:
        findings, lines = [Finding.LAST_EPOCH_RISE], [last_epoch_rise_sentence(curves)]
        change = curves.val_accuracy[last] - curves.val_accuracy[last - 1]
        if abs(change) < curves.noise:
            findings.append(Finding.NOISE)
    elif tail:
        if last_change <= -IMPROVING:
            findings, lines = [Finding.STILL_IMPROVING], [improving_at_low_rate_sentence(curves)]
    else:
        start = window_start(curves)
        fall = 1 - min(curves.val_loss[start + 1:]) / curves.val_loss[start]
        gain = max(curves.val_accuracy[start + 1:]) - curves.val_accuracy[start]
        if best > start and (fall >= IMPROVING or gain > curves.noise):
            findings, lines = [Finding.STILL_IMPROVING], [improving_sentence(curves)]
        else:
            findings, lines = [Finding.LEVELLED_OFF], [levelled_sentence(curves,
                                                                         level_rate(curves))]
    if plateau:
        findings.append(Finding.SCHEDULE_PLATEAU)
        lines.append(plateau_sentence(curves, tail, Finding.OVERFITTING in findings))
    return findings, lines


def next_steps(curves: Curves, findings: Sequence[Finding]) -> list[str]:
    """What to try, in plain words with a parameter name at most in parentheses."""
    context, best = curves.context, curves.epoch[curves.best]
    network = catalog.network(context.architecture)
    dropout_parameter = network.dropout_parameter
    has_dropout = any(item.startswith("dropout") for item in context.train_only)
    has_augmentation = any(item.startswith("augmentation") for item in context.train_only)
    cosine = context.lr_schedule == "cosine"
    kept = curves.epoch[curves.kept]
    keeps = (f"early stopping already keeps epoch {kept}'s weights" if context.restore_best_weights
             else f"keeping the best epoch's weights would keep epoch "
             f"{curves.epoch[curves.monitored_best]}'s rather than the last epoch's")
    steps = []
    if Finding.OVERFITTING in findings:
        steps.append(f"Regularize against the overfitting that began after epoch {best}: "
                     f"{'a higher dropout rate' if has_dropout else 'dropout'} "
                     f"({dropout_parameter}), {'more ' if has_augmentation else ''}augmentation "
                     f"(augment_shift, augment_rotation) or more training images; {keeps}.")
    if Finding.UNSTABLE in findings:
        steps.append("Lower the learning rate (learning_rate): validation and training loss "
                     "both rose, the sign of steps too large for the network.")
    if Finding.LAST_EPOCH_RISE in findings:
        steps.append(f"Train a few epochs more (epochs) to see whether validation loss keeps "
                     f"rising after epoch {curves.epoch[-1]} (overfitting) or falls back "
                     f"(noise); the saved weights are epoch {kept}'s either way.")
    if Finding.STILL_IMPROVING in findings:
        steps.append("Train for more epochs (epochs): validation loss was still falling when "
                     "training stopped" + ("; the cosine decay stretches over them."
                                           if cosine else "."))
    if Finding.SCHEDULE_PLATEAU in findings and Finding.OVERFITTING not in findings:
        steps.append(plateau_step(curves))
    if Finding.LEVELLED_OFF in findings:
        steps.append(levelled_step(curves))
    if (Finding.TRAIN_ABOVE_VALIDATION in findings and Finding.OVERFITTING not in findings
            and Finding.LAST_EPOCH_RISE not in findings):
        steps.append("The model is not overfitting, so it has room for more capacity: try "
                     + wording.or_list([f"a larger network ({network.capacity_parameters})"]
                               + ([f"less dropout ({dropout_parameter})"] if has_dropout else [])
                               + (["milder augmentation"] if has_augmentation else []))
                     + ", compared on validation.")
    if Finding.NOISE in findings and small_validation(curves):
        steps.append(f"Read differences under ±{wording.points(curves.noise, fine=True)} "
                     "between epochs or "
                     "runs "
                     f"as noise: {context.validation_images:,} validation images cannot tell "
                     "them apart; a larger validation set (val_fraction) or more data would.")
    if len(curves.epoch) < 2:
        steps.append("Train for more than one epoch (epochs): a single point is not a curve.")
    return steps


def diagnose(history: pd.DataFrame, context: CurveContext) -> Diagnosis:
    """The whole history read in the standard categories, each sentence with its evidence."""
    curves = read_curves(history, context)
    findings: list[Finding] = []
    lines = [best_sentence(curves)]
    if len(curves.epoch) < context.planned_epochs:
        findings.append(Finding.EARLY_STOPPING)
        lines.append(early_stopping_sentence(curves))
    cuts = rate_cuts(curves)
    if cuts:
        findings.append(Finding.RATE_CUT)
        lines.append(rate_cut_sentence(curves, cuts))
    if len(curves.epoch) >= 2:
        end_findings, end_lines = _end_of_run(curves)
        findings += end_findings
        lines += end_lines
        if curves.loss[-1] > curves.val_loss[-1]:
            findings.append(Finding.TRAIN_ABOVE_VALIDATION)
            rose = {Finding.OVERFITTING, Finding.LAST_EPOCH_RISE} & set(findings)
            lines.append(train_above_sentence(curves, overfitting=bool(rose)))
        if Finding.NOISE not in findings and is_noise(curves):
            findings.append(Finding.NOISE)
        if Finding.NOISE in findings and Finding.LAST_EPOCH_RISE not in findings:
            lines.append(noise_sentence(curves))
    lines.append(gap_sentence(curves))
    ordered = tuple(finding for finding in Finding if finding in findings)
    return Diagnosis(ordered, tuple(lines), tuple(next_steps(curves, ordered)),
                     curves.epoch[curves.best])
