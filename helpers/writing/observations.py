"""What this run's figures show, in sentences written from its own numbers.

The notebooks print these under their figures, so a report says what *this* run did (its
best epoch, its weakest class, its most frequent mistake) rather than only how to read a
curve. Every function is pure: numbers in, markdown out, worded for the dataset at hand
(digits are not garments). The training curves are read by helpers.writing.curve_diagnosis.
tests/unit/test_observations.py feeds known figures and checks the sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers import catalog, wording
from helpers.catalog import Subject
from helpers.writing import chance

# A mistake made with at least this probability is a "confident" one.
CONFIDENT = 0.9
# A model answers "often confidently" when at least this share of its test predictions reach
# CONFIDENT.
OFTEN = 0.5
# A confused pair stands out, and so shows two classes that look alike, when its count is at
# least STANDS_OUT times what the true class's mistakes would give it if they fell on the other
# classes as often as those are predicted overall, and at least MIN_PAIR images.
STANDS_OUT = 2.0
MIN_PAIR = 5


def subject(dataset: str, class_names: Sequence[str]) -> Subject:
    """Garments for Fashion-MNIST (also as CSV or folders), digits for MNIST, else images:
    the catalog's word for one image of the dataset these images are recognised as."""
    return catalog.recognised_dataset(dataset, class_names).subject


def dataset_title(name: str) -> str:
    """The dataset as a reader knows it: 'fashion_mnist' -> 'Fashion-MNIST'."""
    entry = catalog.DATASETS.get(name)
    return entry.title if entry else name


def best_epoch_row(history: pd.DataFrame) -> pd.Series:
    """The epoch with the lowest validation loss: the one whose weights the run keeps."""
    return history.loc[history["val_loss"].idxmin()]


def test_against_validation(test_accuracy: float, validation_accuracy: float,
                            test_images: int, validation_images: int, training: Any) -> str:
    """The test accuracy beside the kept model's validation accuracy, measured alike, with the
    chance difference between two samples of these sizes (95%) as the yardstick.

    `training` is training.json's record: its best_epoch is the epoch whose weights were kept,
    chosen on validation when it is not the last.
    """
    difference = test_accuracy - validation_accuracy
    kept = (f"the validation accuracy {validation_accuracy:.4f} of the kept epoch "
            f"(epoch {training.kept} of {training.epochs_run})")
    if abs(difference) < 0.0005:
        return f"Test accuracy **{test_accuracy:.4f}** equals {kept}."
    mean = (test_accuracy + validation_accuracy) / 2
    margin = 1.96 * math.sqrt(mean * (1 - mean) * (1 / test_images + 1 / validation_images))
    side = "under" if difference < 0 else "over"
    text = f"Test accuracy **{test_accuracy:.4f}** is {wording.points(difference)} {side} {kept}"
    chance = (f"the ±{wording.points(margin)} by which accuracies on {validation_images:,} and "
              f"{test_images:,} images can differ by chance (95%)")
    if abs(difference) <= margin:
        return f"{text}: within {chance}, so the two agree."
    if difference < 0 and training.kept < training.epochs_run:
        return (f"{text}, beyond {chance}: the kept epoch was chosen because it did best on "
                "validation, so its validation figure is a little optimistic.")
    return (f"{text}, beyond {chance}: the test images are "
            f"{'harder' if difference < 0 else 'easier'} for this model than the validation "
            "images.")


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
    lines.append(f"F1 spans {wording.points(spread)} from the strongest class to the weakest.")
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
    """How many mistakes, how confident they were, and the class most often predicted wrongly;
    for a model left at chance, that it did not learn instead."""
    predicted = probabilities.argmax(axis=1)
    wrong = predicted != true_labels
    count = int(wrong.sum())
    if count == 0:
        return [f"All {len(true_labels):,} test {subject_.plural} were classified correctly."]
    lines = [f"{count:,} of {len(true_labels):,} test {subject_.plural} were misclassified "
             f"({count / len(true_labels):.1%})."]
    level = chance.from_predictions(true_labels, probabilities)
    if level is not None:
        return lines + [chance.sentence(level) + " Its mistakes say nothing about which "
                        "images or classes are hard; 04 and 08 say what to check."]
    confidence = probabilities[np.flatnonzero(wrong), predicted[wrong]]
    confident = int((confidence >= CONFIDENT).sum())
    wrong_as = np.bincount(predicted[wrong], minlength=len(class_names))
    if confident:
        wrong_indices = np.flatnonzero(wrong)
        surest = wrong_indices[np.argsort(-confidence, kind="stable")[:3]]
        examples = wording.and_list([
            f"{class_names[int(true_labels[index])]} read as "
            f"{class_names[int(predicted[index])]} at {probabilities[index].max():.0%}"
            for index in surest])
        lines.append(f"{confident:,} of those mistakes ({confident / count:.0%}) were made with "
                     f"at least {CONFIDENT:.0%} confidence: the model was sure and wrong. The "
                     f"surest, first in the gallery: {examples}.")
    else:
        lines.append(f"None of those mistakes was made with {CONFIDENT:.0%} confidence or more "
                     f"(the most confident: {confidence.max():.0%}): where the model is wrong, "
                     "it hesitates.")
    return lines + [f"The class most often predicted wrongly is "
                    f"**{class_names[int(wrong_as.argmax())]}** ({int(wrong_as.max())} wrong "
                    "predictions)."]


def pair_stands_out(confusion: np.ndarray | Sequence[Sequence[int]], true_index: int,
                    predicted_index: int) -> bool:
    """Whether images of one class are taken for another well above chance: more often than
    that class's mistakes would land there if they fell as the model's predictions do."""
    confusion = np.asarray(confusion, dtype=float)
    mistakes_ = confusion[true_index].sum() - confusion[true_index, true_index]
    predicted = confusion.sum(axis=0)
    elsewhere = predicted.sum() - predicted[true_index]
    if mistakes_ == 0 or elsewhere == 0:
        return False
    expected = mistakes_ * predicted[predicted_index] / elsewhere
    count = confusion[true_index, predicted_index]
    return bool(count >= MIN_PAIR and count >= STANDS_OUT * expected)


def top_pair_stands_out(pairs: pd.DataFrame, confusion: Sequence[Sequence[int]],
                        class_names: Sequence[str]) -> bool:
    """pair_stands_out for the first row of a most-confused-pairs table (06's)."""
    names = [str(name) for name in class_names]
    if pairs.empty or len(confusion) != len(names):
        return False
    top = pairs.iloc[0]
    if str(top["true class"]) not in names or str(top["predicted as"]) not in names:
        return False
    return pair_stands_out(confusion, names.index(str(top["true class"])),
                           names.index(str(top["predicted as"])))


def often_confident(top_probabilities: np.ndarray | None) -> bool:
    """Whether at least OFTEN of the test predictions reach CONFIDENT (False when unknown)."""
    return top_probabilities is not None and len(top_probabilities) > 0 and \
        float((np.asarray(top_probabilities) >= CONFIDENT).mean()) >= OFTEN


def other_inputs(classes: int, image_shape: Sequence[int],
                 top_probabilities: np.ndarray | None) -> str:
    """What the model does with inputs unlike its training images; "often confidently" only
    where its own test predictions mostly reach CONFIDENT."""
    return (f"It only knows {classes} classes and {image_shape[0]}×{image_shape[1]} "
            f"{'grayscale' if image_shape[-1] == 1 else 'colour'} inputs like its training "
            "images: anything else still gets one of these classes"
            + (", often confidently." if often_confident(top_probabilities) else "."))


def missed(recall: float) -> str:
    """A class's misses in words: 'about one in 5 missed', '40% missed', 'none missed'."""
    share = 1 - recall
    if share <= 0:
        return "none missed"
    return f"about one in {round(1 / share)} missed" if 1 / share >= 3 else f"{share:.0%} missed"


def as_markdown(lines: Sequence[str], title: str = "What this run shows") -> str:
    """The observations as a short bulleted markdown block."""
    return f"**{title}**\n\n" + "\n".join(f"- {line}" for line in lines)

