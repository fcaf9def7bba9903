"""What this run's figures show, in sentences written from its own numbers.

The notebooks print these under their figures, so a report says what *this* run did (its
best epoch, its weakest class, its most frequent mistake) rather than only how to read a
curve. Every function is pure: numbers in, markdown out, worded for the dataset at hand
(digits are not garments). tests/unit/test_observations.py feeds known figures and checks
the sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Validation loss within this share of its best value counts as "levelled off" there.
LEVEL_TOLERANCE = 0.03
# A run whose last third of epochs raised the best validation accuracy by less than this
# (in accuracy, 0.3 points) has stopped learning much: under a cosine schedule the last,
# smallest steps still shave the loss, so "the best epoch was the last" alone does not show
# that more epochs would help (the best profile: +0.18 points over its last 10 of 30 epochs).
STILL_IMPROVING_GAIN = 0.003
# A mistake made with at least this probability is a "confident" one.
CONFIDENT = 0.9


@dataclass(frozen=True)
class Subject:
    """How to name one image of the dataset and its classes in a sentence."""

    singular: str
    plural: str


_FASHION_NAMES = {"t-shirt/top", "t-shirt-top", "trouser", "pullover", "dress", "coat",
                  "sandal", "shirt", "sneaker", "bag", "ankle boot"}


def subject(dataset: str, class_names: Sequence[str]) -> Subject:
    """Garments for Fashion-MNIST (also as CSV or folders), digits for MNIST, else images."""
    names = {name.strip().lower() for name in class_names}
    if dataset == "fashion_mnist" or names <= _FASHION_NAMES:
        return Subject("garment", "garments")
    if dataset in ("mnist", "mnist_5k") or all(name.split()[-1].isdigit() for name in names):
        return Subject("digit", "digits")
    if dataset == "cifar10":
        return Subject("photo", "photos")
    return Subject("image", "images")


_DATASET_TITLES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST",
                   "mnist_5k": "MNIST (the 5,000-digit subset)", "cifar10": "CIFAR-10",
                   "csv": "CSV", "folder": "image-folder"}


def dataset_title(name: str) -> str:
    """The dataset as a reader knows it: 'fashion_mnist' -> 'Fashion-MNIST'."""
    return _DATASET_TITLES.get(name, name)


def points(difference: float) -> str:
    """An accuracy difference in percentage points, e.g. 0.0123 -> '1.2 points'."""
    shown = f"{round(abs(difference) * 100, 6):.1f}"  # 0.9295 - 0.924 is 0.549999...: 0.6
    return f"{shown} point{'' if shown == '1.0' else 's'}"


def best_epoch_row(history: pd.DataFrame) -> pd.Series:
    """The epoch with the lowest validation loss: the one whose weights the run keeps."""
    return history.loc[history["val_loss"].idxmin()]


def accuracy_interval(accuracy: float, images: int) -> float:
    """Half-width of the 95% normal-approximation interval of an accuracy on `images` images."""
    return 1.96 * math.sqrt(accuracy * (1 - accuracy) / images)


def levelled_off_epoch(val_loss: Sequence[float], tolerance: float = LEVEL_TOLERANCE) -> int:
    """The first epoch (1-based) from which validation loss stays within tolerance of its best."""
    losses = np.asarray(val_loss, dtype=float)
    ceiling = losses.min() * (1 + tolerance)
    above = np.flatnonzero(losses > ceiling)
    return int(above[-1]) + 2 if len(above) else 1


def curve_shape(history: pd.DataFrame) -> str:
    """'overfitting', 'levelled' or 'improving': validation loss while training loss fell."""
    best_index = int(history["val_loss"].idxmin())
    last = history.iloc[-1]
    train_falling = last["loss"] < history["loss"].iloc[best_index] - 1e-9
    if last["val_loss"] > history["val_loss"].min() * (1 + LEVEL_TOLERANCE) and train_falling:
        return "overfitting"
    if levelled_off_epoch(history["val_loss"]) < len(history) and train_falling:
        return "levelled"
    return "improving"


def training_curves(history: pd.DataFrame, planned_epochs: int,
                    patience: int | None) -> list[str]:
    """Observations on the loss and accuracy curves: best epoch, stopping, gap, overfitting."""
    epochs_run = len(history)
    best = best_epoch_row(history)
    best_epoch = int(best["epoch"])
    lines = [f"Validation loss was lowest at **epoch {best_epoch} of {epochs_run}** "
             f"({best['val_loss']:.3f}, validation accuracy {best['val_accuracy']:.4f}); the "
             "saved model has that epoch's weights."]
    if epochs_run < planned_epochs:
        lines.append(f"**Early stopping fired** after epoch {epochs_run} of the {planned_epochs} "
                     f"planned: validation loss had not improved for {patience} epochs.")
    elif best_epoch == epochs_run and still_improving(history):
        lines.append(f"All {planned_epochs} planned epochs ran and validation loss was still "
                     "at its lowest in the last one: training had not converged, so more epochs "
                     "would probably still help.")
    elif best_epoch == epochs_run:
        lines.append(f"All {planned_epochs} planned epochs ran and validation loss was lowest "
                     f"in the last one, but validation accuracy rose only "
                     f"{points(last_third_gain(history))} after epoch "
                     f"{last_third_start(epochs_run)}: training had "
                     "all but converged, so more epochs of this network would add little.")
    else:
        later = epochs_run - best_epoch
        last = f"last {later} epochs" if later > 1 else "last epoch"
        lines.append(f"All {planned_epochs} planned epochs ran; early stopping did not fire, "
                     f"and the {last} did not improve on epoch {best_epoch}.")
    lines.append(_gap(history, best_epoch))
    return lines


def last_third_gain(history: pd.DataFrame) -> float:
    """How much the last third of the epochs raised the best validation accuracy (inf for a
    run of one epoch, which has nothing to compare with)."""
    accuracy, recent = history["val_accuracy"], last_third_start(len(history))
    if recent == 0:
        return math.inf
    return float(accuracy.iloc[recent:].max() - accuracy.iloc[:recent].max())


def last_third_start(epochs: int) -> int:
    """The last epoch before the run's last third (at least one epoch long)."""
    return epochs - max(1, epochs // 3)


def still_improving(history: pd.DataFrame) -> bool:
    """Whether the last third of the epochs still raised validation accuracy noticeably."""
    return last_third_gain(history) >= STILL_IMPROVING_GAIN


def _gap(history: pd.DataFrame, best_epoch: int) -> str:
    """Whether validation loss kept falling, levelled off or rose while training loss fell."""
    first, last = history.iloc[0], history.iloc[-1]
    best_val, shape = history["val_loss"].min(), curve_shape(history)
    accuracy_gap = last["accuracy"] - last["val_accuracy"]
    gap = (f" By the last epoch training accuracy was {last['accuracy']:.4f} against "
           f"{last['val_accuracy']:.4f} on validation, a gap of {points(accuracy_gap)}"
           f"{' in favour of validation' if accuracy_gap < 0 else ''}.")
    if shape == "overfitting":
        return (f"Validation loss rose from {best_val:.3f} at epoch {best_epoch} to "
                f"{last['val_loss']:.3f} at epoch {int(last['epoch'])} while training loss kept "
                f"falling ({history['loss'].iloc[best_epoch - 1]:.3f} → {last['loss']:.3f}): "
                f"**the model began to overfit after epoch {best_epoch}**." + gap)
    if shape == "levelled":
        settled = levelled_off_epoch(history["val_loss"])
        return (f"Validation loss **levelled off** near {best_val:.3f} from epoch {settled} "
                f"while training loss kept falling to {last['loss']:.3f}: further epochs fit "
                "the training images better without helping on new ones." + gap)
    return (f"Training loss ({first['loss']:.3f} → {last['loss']:.3f}) and validation loss "
            f"({first['val_loss']:.3f} → {last['val_loss']:.3f}) fell together, with no sign of "
            "overfitting yet." + gap)


def test_against_validation(test_accuracy: float, validation_accuracy: float,
                            test_images: int | None = None) -> str:
    """How the test figure compares with the validation figure the model was chosen on."""
    difference = test_accuracy - validation_accuracy
    if abs(difference) < 0.0005:
        return (f"Test accuracy {test_accuracy:.4f} equals the best validation accuracy "
                f"{validation_accuracy:.4f}: the model did as well on the unseen test images.")
    side = "under" if difference < 0 else "over"
    margin = accuracy_interval(test_accuracy, test_images) if test_images else 0.0
    if abs(difference) <= margin:
        why = (f" That is within the ±{points(margin)} a test set of "
               f"{test_images:,} images can tell apart (95% interval): the two agree.")
    elif difference < 0:
        why = " Some drop is expected: the epoch was chosen because it did best on validation."
    else:
        why = " The test images happened to be a little easier than the validation images."
    return (f"Test accuracy **{test_accuracy:.4f}** is {points(difference)} {side} the best "
            f"validation accuracy {validation_accuracy:.4f}.{why}")


def per_class(per_class_metrics: Mapping[str, Mapping[str, float]], subject_: Subject,
              shown: int = 2) -> list[str]:
    """The strongest and weakest classes by F1, with the weakest's recall and precision."""
    ranked = sorted(per_class_metrics.items(), key=lambda item: (-item[1]["f1"], item[0]))
    strongest = ", ".join(f"{name} (F1 {figures['f1']:.3f})" for name, figures in ranked[:shown])
    weakest_name, weakest = ranked[-1]
    lowest_recall = min(per_class_metrics.items(), key=lambda item: (item[1]["recall"], item[0]))
    lines = [f"Strongest classes: {strongest}.",
             f"Weakest class: **{weakest_name}** (F1 {weakest['f1']:.3f}: precision "
             f"{weakest['precision']:.3f}, recall {weakest['recall']:.3f}), so "
             + (f"{(1 - weakest['recall']) * 100:.0f}% of the {subject_.plural} of class "
                f"{weakest_name} were given another class."
                if weakest["recall"] <= weakest["precision"] else
                f"{(1 - weakest['precision']) * 100:.0f}% of the {subject_.plural} predicted "
                f"as {weakest_name} were of another class.")]
    if lowest_recall[0] != weakest_name:
        lines.append(f"The lowest recall is {lowest_recall[0]}'s, "
                     f"{lowest_recall[1]['recall']:.3f}.")
    spread = ranked[0][1]["f1"] - weakest["f1"]
    lines.append(f"F1 spans {points(spread)} from the strongest class to the weakest.")
    return lines


def confused_pairs(pairs: pd.DataFrame, mistakes: int, shown: int = 3) -> list[str]:
    """The most frequent kinds of mistake, with their counts and share of all mistakes."""
    if mistakes == 0 or pairs.empty:
        return ["No test image was misclassified, so there is no confused pair."]
    top = pairs.head(shown)
    listed = "; ".join(f"{row['true class']} taken for {row['predicted as']} "
                       f"{row['images']} times ({row['share of true class']:.1%} of "
                       f"{row['true class']})" for _, row in top.iterrows())
    covered = int(top["images"].sum())
    return [f"Most-confused pairs: {listed}.",
            f"These {len(top)} pairs account for {covered} of the {mistakes} mistakes "
            f"({covered / mistakes:.0%})."]


def mistakes(true_labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str],
             subject_: Subject) -> list[str]:
    """How many mistakes, how confident they were, and the class most often predicted wrongly."""
    predicted = probabilities.argmax(axis=1)
    wrong = predicted != true_labels
    count = int(wrong.sum())
    if count == 0:
        return [f"All {len(true_labels):,} test {subject_.plural} were classified correctly."]
    confidence = probabilities[np.flatnonzero(wrong), predicted[wrong]]
    confident = int((confidence >= CONFIDENT).sum())
    wrong_as = np.bincount(predicted[wrong], minlength=len(class_names))
    return [f"{count:,} of {len(true_labels):,} test {subject_.plural} were misclassified "
            f"({count / len(true_labels):.1%}).",
            f"{confident:,} of those mistakes ({confident / count:.0%}) were made with at "
            f"least {CONFIDENT:.0%} confidence: there the model is sure and wrong, which "
            "usually means the image is ambiguous or its label is questionable rather than "
            "that the model is hesitant.",
            f"The class most often predicted wrongly is **{class_names[int(wrong_as.argmax())]}** "
            f"({int(wrong_as.max())} wrong predictions)."]


def as_markdown(lines: Sequence[str], title: str = "What this run shows") -> str:
    """The observations as a short bulleted markdown block."""
    return f"**{title}**\n\n" + "\n".join(f"- {line}" for line in lines)


def more_regularization(augmentation: dict[str, float | bool],
                        subject_: Subject) -> str:
    """The augmentations this run did not use, then dropout: advising one it had is no advice."""
    suggestions = {"flip": "`augment_flip: true`", "shift": "`augment_shift: 0.1`",
                   "rotation": "`augment_rotation: 10`"}  # flip only clothes: a mirrored 7 is no 7
    untried = [setting for name, setting in suggestions.items() if not augmentation.get(name)
               and (name != "flip" or subject_.plural == "garments")]
    more = "more " if any(augmentation.values()) else ""
    return (f"{more}augmentation ({', '.join(untried)}) or a higher `dropout_rate`" if untried
            else "a higher `dropout_rate`")
