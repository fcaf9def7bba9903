import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from helpers.evaluation import scoring

CLASSES = ["cat", "dog", "owl"]
TRUE = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
PREDICTED = np.array([0, 0, 1, 1, 1, 0, 2, 2, 1, 0])


def test_metrics_match_scikit_learn() -> None:
    figures = scoring.classification_metrics(TRUE, PREDICTED, CLASSES)
    assert figures["test_accuracy"] == pytest.approx(0.6)
    assert figures["f1_macro"] == pytest.approx(
        sk_metrics.f1_score(TRUE, PREDICTED, average="macro"))
    assert figures["precision_weighted"] == pytest.approx(
        sk_metrics.precision_score(TRUE, PREDICTED, average="weighted"))
    assert figures["recall_macro"] == pytest.approx((2 / 3 + 2 / 3 + 2 / 4) / 3)
    assert figures["per_class"]["owl"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 4})


def test_class_never_predicted_scores_zero_not_nan() -> None:
    figures = scoring.classification_metrics(np.array([0, 1, 2]), np.array([0, 0, 0]), CLASSES)
    assert figures["per_class"]["dog"]["precision"] == 0.0


def test_confusion_matrix_and_row_normalization() -> None:
    confusion = scoring.confusion_matrix(TRUE, PREDICTED, 3)
    np.testing.assert_array_equal(confusion, [[2, 1, 0], [1, 2, 0], [1, 1, 2]])
    normalized = scoring.row_normalize(confusion)
    np.testing.assert_allclose(normalized.sum(axis=1), 1.0)
    assert normalized[2, 2] == pytest.approx(0.5)
    np.testing.assert_array_equal(scoring.row_normalize(np.zeros((2, 2), int)), 0.0)


def test_most_confused_pairs_sorted_by_count() -> None:
    confusion = np.array([[5, 3, 0], [1, 6, 0], [0, 7, 1]])
    pairs = scoring.most_confused_pairs(confusion, CLASSES, top=2)
    assert list(zip(pairs["true class"], pairs["predicted as"], pairs["images"], strict=True)) == [
        ("owl", "dog", 7), ("cat", "dog", 3)]
    assert pairs["share of true class"].iloc[0] == pytest.approx(7 / 8)


def test_misclassified_sorted_by_confidence() -> None:
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4]])
    true = np.array([0, 0, 0, 1])
    np.testing.assert_array_equal(scoring.misclassified_by_confidence(true, probabilities),
                                  [2, 1, 3])


def test_one_hot_labels_become_indices() -> None:
    np.testing.assert_array_equal(scoring.as_class_indices(np.eye(3)[[2, 0]]), [2, 0])


def test_length_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="3 true labels but 2 predictions"):
        scoring.classification_metrics(np.zeros(3, int), np.zeros(2, int), CLASSES)


def test_test_loss_is_the_mean_cross_entropy_with_kerass_clipping() -> None:
    labels = np.array([0, 1, 2, 1])
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4],
                              [0.0, 0.0, 1.0]])
    # -log 0.7, -log 0.8, -log 0.4, and -log 1e-7 for the confident mistake (clipped).
    expected = (0.35667 + 0.22314 + 0.91629 + 16.11810) / 4
    assert scoring.cross_entropy(labels, probabilities) == pytest.approx(expected, rel=1e-4)


def gallery_labels(right: int, wrong: int) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted labels with `right` correct predictions, then `wrong` mistakes."""
    true = np.arange(right + wrong) % 3
    predicted = true.copy()
    predicted[right:] = (true[right:] + 1) % 3
    return true, predicted


@pytest.mark.parametrize("right, wrong, count, expected_wrong", [
    (90, 30, 15, 5),   # about a third mistakes
    (98, 2, 15, 2),    # fewer mistakes than a third: all of them
    (100, 0, 15, 0),   # a perfect model: right ones only
    (0, 40, 15, 15),   # nothing right: mistakes only
    (3, 40, 15, 12),   # too few right ones: mistakes fill the gallery
    (5, 2, 15, 2),     # a test set smaller than the gallery: all of it
])
def test_gallery_sample_mixes_right_and_wrong(right: int, wrong: int, count: int,
                                              expected_wrong: int) -> None:
    true, predicted = gallery_labels(right, wrong)
    indices = scoring.gallery_sample(true, predicted, count, seed=7)
    assert len(indices) == min(count, right + wrong)
    assert len(set(indices.tolist())) == len(indices)
    mistakes = true[indices] != predicted[indices]
    assert mistakes.sum() == expected_wrong
    # Right ones first, then mistakes, each group in test-set order.
    first_mistake = len(indices) - expected_wrong
    np.testing.assert_array_equal(mistakes, np.arange(len(indices)) >= first_mistake)
    for group in (indices[~mistakes], indices[mistakes]):
        assert (np.diff(group) > 0).all()


def test_gallery_sample_is_seeded() -> None:
    true, predicted = gallery_labels(700, 300)
    first = scoring.gallery_sample(true, predicted, 12, seed=1)
    np.testing.assert_array_equal(first, scoring.gallery_sample(true, predicted, 12, seed=1))
    assert not np.array_equal(first, scoring.gallery_sample(true, predicted, 12, seed=2))
    assert first.dtype == np.int64


def test_gallery_sample_refuses_an_empty_gallery_and_mismatched_labels() -> None:
    true, predicted = gallery_labels(5, 5)
    with pytest.raises(ValueError, match="count must be at least 1"):
        scoring.gallery_sample(true, predicted, 0, seed=0)
    with pytest.raises(ValueError, match="10 true labels but 9 predictions"):
        scoring.gallery_sample(true, predicted[:9], 4, seed=0)
