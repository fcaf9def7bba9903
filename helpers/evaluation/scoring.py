"""Test-set figures: accuracy, precision/recall/F1, confusion matrices, the worst mistakes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as sk_metrics

INFERENCE_BATCH_SIZE = 1024


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """The most probable class of each row."""
    return np.argmax(probabilities, axis=1)


def as_class_indices(labels: np.ndarray) -> np.ndarray:
    """Integer labels from either sparse integers or one-hot rows."""
    return np.argmax(labels, axis=1) if labels.ndim == 2 else labels.astype(np.int64)


def cross_entropy(true_labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean -log p(true class) over the images: the test loss, without label smoothing.

    Probabilities are clipped at 1e-7 (Keras's epsilon), so one confident mistake costs at
    most 16.1 rather than infinity, as Keras's own cross-entropy does.
    """
    _check_same_length(true_labels, probabilities)
    chosen = probabilities[np.arange(len(true_labels)), true_labels.astype(np.int64)]
    return float(-np.mean(np.log(np.clip(chosen, 1e-7, 1.0))))


def validation_figures(true_labels: np.ndarray, probabilities: np.ndarray,
                       class_names: Sequence[str]) -> dict[str, float]:
    """The kept model's figures on the validation images, measured as the test figures are
    (cross-entropy without any weight penalty), so the two can be set side by side."""
    figures = classification_metrics(true_labels, predicted_classes(probabilities), class_names)
    return {"accuracy": figures["test_accuracy"],
            "loss": cross_entropy(true_labels, probabilities),
            **{name: figures[name] for name in ("precision_macro", "recall_macro", "f1_macro")},
            "images": len(true_labels)}


def classification_metrics(true_labels: np.ndarray, predicted_labels: np.ndarray,
                           class_names: Sequence[str]) -> dict:
    """Accuracy, macro and weighted precision/recall/F1, and the same per class."""
    _check_same_length(true_labels, predicted_labels)
    label_ids = list(range(len(class_names)))
    figures: dict = {"test_accuracy": float(sk_metrics.accuracy_score(true_labels,
                                                                      predicted_labels))}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = sk_metrics.precision_recall_fscore_support(
            true_labels, predicted_labels, labels=label_ids, average=average, zero_division=0)
        figures[f"precision_{average}"] = float(precision)
        figures[f"recall_{average}"] = float(recall)
        figures[f"f1_{average}"] = float(f1)
    precision, recall, f1, support = sk_metrics.precision_recall_fscore_support(
        true_labels, predicted_labels, labels=label_ids, average=None, zero_division=0)
    figures["test_images"] = int(len(true_labels))
    figures["per_class"] = {
        name: {"precision": float(precision[index]), "recall": float(recall[index]),
               "f1": float(f1[index]), "support": int(support[index])}
        for index, name in enumerate(class_names)
    }
    return figures


def classification_report_text(true_labels: np.ndarray, predicted_labels: np.ndarray,
                               class_names: Sequence[str]) -> str:
    """scikit-learn's per-class report, with class names instead of numbers."""
    return sk_metrics.classification_report(
        true_labels, predicted_labels, labels=list(range(len(class_names))),
        target_names=list(class_names), digits=4, zero_division=0)


def confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    _check_same_length(true_labels, predicted_labels)
    return sk_metrics.confusion_matrix(true_labels, predicted_labels,
                                       labels=list(range(num_classes)))


def row_normalize(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of a true class predicted as each class."""
    totals = confusion.sum(axis=1, keepdims=True)
    return np.divide(confusion, totals, out=np.zeros(confusion.shape, dtype=float),
                     where=totals > 0)


def most_confused_pairs(confusion: np.ndarray, class_names: Sequence[str],
                        top: int = 10) -> pd.DataFrame:
    """The off-diagonal cells with the most images: which true class is taken for which."""
    shares = row_normalize(confusion)
    rows = [
        {"true class": class_names[true], "predicted as": class_names[predicted],
         "images": int(confusion[true, predicted]),
         "share of true class": float(shares[true, predicted])}
        for true in range(len(class_names)) for predicted in range(len(class_names))
        if true != predicted and confusion[true, predicted] > 0
    ]
    table = pd.DataFrame(rows, columns=["true class", "predicted as", "images",
                                        "share of true class"])
    table = table.sort_values(["images", "true class", "predicted as"],
                              ascending=[False, True, True], kind="stable")
    return table.head(top).reset_index(drop=True)


def misclassified_by_confidence(true_labels: np.ndarray,
                                probabilities: np.ndarray) -> np.ndarray:
    """Indices of wrong predictions, most confident mistakes first."""
    predicted = predicted_classes(probabilities)
    wrong = np.flatnonzero(predicted != true_labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")]


# About one gallery image in three is a mistake: enough to show what the model confuses
# beside what it gets right, few enough that the gallery still looks like a working model.
GALLERY_MISTAKE_SHARE = 1 / 3


def gallery_sample(true_labels: np.ndarray, predicted_labels: np.ndarray, count: int,
                   seed: int) -> np.ndarray:
    """Test indices for a predictions gallery: a seeded random sample, right ones then wrong ones.

    About a third are mistakes (all of them when the model made fewer, more when it got
    too few right), the rest right. Right ones come first and mistakes last, each group in
    test-set order, rather than interleaved: the gallery then reads as two blocks, and the
    mistakes sit side by side where they can be compared. The whole test set is returned
    when it holds fewer than `count` images.
    """
    _check_same_length(true_labels, predicted_labels)
    if count < 1:
        raise ValueError(f"count must be at least 1 image, got {count}")
    count = min(count, len(true_labels))
    right = np.flatnonzero(true_labels == predicted_labels)
    wrong = np.flatnonzero(true_labels != predicted_labels)
    wrong_count = min(len(wrong), int(np.ceil(count * GALLERY_MISTAKE_SHARE)))
    right_count = min(len(right), count - wrong_count)
    wrong_count = count - right_count  # a model with too few right fills up with mistakes
    generator = np.random.default_rng(seed)
    groups = [np.sort(generator.choice(group, size, replace=False)) if size else group[:0]
              for group, size in ((right, right_count), (wrong, wrong_count))]
    return np.concatenate(groups).astype(np.int64)


def _check_same_length(true_labels: np.ndarray, predicted_labels: np.ndarray) -> None:
    if len(true_labels) != len(predicted_labels):
        raise ValueError(f"{len(true_labels)} true labels but {len(predicted_labels)} predictions")
