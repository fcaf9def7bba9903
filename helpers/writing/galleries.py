"""The galleries of test images: predictions right and wrong (05) and the most confident
mistakes (06), each tile captioned with the prediction, its probability and the true class."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from helpers.writing.plots import show_image

# The TensorFlow classification tutorial's colours: blue for right, red for wrong. Blue and
# red stay apart for red-green colour blindness; the marks and frame styles below keep them
# apart on a black-and-white print too.
RIGHT_COLOR = "tab:blue"
WRONG_COLOR = "firebrick"
RIGHT_MARK, WRONG_MARK = "\u2713", "\u2717"  # ✓ and ✗, both in matplotlib's DejaVu Sans


def _gallery_axes(count: int, columns: int,
                  tile_height: float = 2.5) -> tuple[Figure, list[plt.Axes]]:
    """A grid of image tiles 2.1 inches wide, with the tiles past `count` switched off;
    returns the figure and the `count` tiles in use."""
    rows = int(np.ceil(max(count, 1) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, tile_height * rows),
                                squeeze=False)
    for axis in axes.flat[count:]:
        axis.axis("off")
    return figure, list(axes.flat[:count])


def misclassified_gallery(images: np.ndarray, true_labels: np.ndarray,
                          probabilities: np.ndarray, indices: np.ndarray,
                          class_names: Sequence[str], columns: int = 6) -> Figure:
    """Misclassified images in the given order with true class, prediction and confidence."""
    figure, axes = _gallery_axes(len(indices), columns)
    for axis, index in zip(axes, indices, strict=True):
        predicted = int(np.argmax(probabilities[index]))
        show_image(axis, images[index])
        axis.set_title(f"true: {class_names[true_labels[index]]}\n"
                       f"pred: {class_names[predicted]} ({probabilities[index, predicted]:.0%})",
                       fontsize=8, color=WRONG_COLOR)
    figure.suptitle("Misclassified test images, most confident mistakes first")
    figure.tight_layout()
    return figure


def prediction_gallery(images: np.ndarray, true_labels: np.ndarray, probabilities: np.ndarray,
                       indices: np.ndarray, class_names: Sequence[str],
                       columns: int = 5) -> Figure:
    """Test images captioned with the prediction, its confidence and the true class, as
    TensorFlow's classification tutorial shows them: blue with ✓ when right, red with ✗ when
    wrong (indices from helpers.evaluation.scoring.gallery_sample)."""
    # Taller tiles than the mistakes gallery's: tight_layout leaves a caption under a square
    # image too little room at 2.5 inches, and the next row's image hid its second line.
    figure, axes = _gallery_axes(len(indices), columns, tile_height=2.9)
    right_count = 0
    for axis, index in zip(axes, indices, strict=True):
        predicted = int(np.argmax(probabilities[index]))
        right = predicted == int(true_labels[index])
        right_count += right
        show_image(axis, images[index])
        _mark_tile(axis, right)
        axis.set_xlabel(f"Pred: {class_names[predicted]} {probabilities[index, predicted]:.0%}\n"
                        f"True: {class_names[true_labels[index]]}",
                        fontsize=9, color=RIGHT_COLOR if right else WRONG_COLOR)
    # The sample over-represents mistakes on purpose, which the title says so that nobody
    # reads the share of red tiles as the test accuracy.
    figure.suptitle(f"Test predictions: {right_count} right ({RIGHT_MARK} blue), "
                    f"{len(indices) - right_count} wrong ({WRONG_MARK} red)\n"
                    "a random sample with mistakes over-represented, not the accuracy",
                    fontsize=11)
    figure.tight_layout()
    return figure


def _mark_tile(axis: plt.Axes, right: bool) -> None:
    """A coloured frame (solid when right, dashed when wrong) and a ✓ or ✗ in the corner."""
    color = RIGHT_COLOR if right else WRONG_COLOR
    for spine in axis.spines.values():
        spine.set(visible=True, color=color, linewidth=2.5,
                  linestyle="solid" if right else (0, (3, 2)))
    axis.text(0.03, 0.97, RIGHT_MARK if right else WRONG_MARK, transform=axis.transAxes,
              ha="left", va="top", fontsize=12, fontweight="bold", color=color,
              bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": color})
