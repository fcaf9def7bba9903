"""The prediction gallery: one tile per image, captioned and marked right or wrong."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import same_color

from helpers import plots

CLASSES = ["T-shirt", "Trouser", "Coat"]
TRUE = np.array([0, 1, 2, 2, 0])
# Rows: right (97% T-shirt), right, wrong (Coat taken for a T-shirt), right, wrong.
PROBABILITIES = np.array([[0.97, 0.02, 0.01], [0.1, 0.8, 0.1], [0.6, 0.1, 0.3],
                          [0.0, 0.01, 0.99], [0.2, 0.7, 0.1]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("channels", [1, 3])
def test_one_captioned_tile_per_image(channels: int) -> None:
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, channels), dtype=np.uint8)
    indices = np.array([0, 3, 2, 4])
    figure = plots.prediction_gallery(images, TRUE, PROBABILITIES, indices, CLASSES, columns=3)
    tiles = [axis for axis in figure.axes if axis.images]
    assert len(tiles) == len(indices)
    assert [axis.get_xlabel() for axis in tiles] == [
        "Pred: T-shirt 97%\nTrue: T-shirt", "Pred: Coat 99%\nTrue: Coat",
        "Pred: T-shirt 60%\nTrue: Coat", "Pred: Trouser 70%\nTrue: T-shirt"]
    for axis, right in zip(tiles, [True, True, False, False], strict=True):
        color = plots.RIGHT_COLOR if right else plots.WRONG_COLOR
        assert same_color(axis.xaxis.label.get_color(), color)
        # Told apart without colour too: the mark, and a solid or dashed frame.
        assert [text.get_text() for text in axis.texts] == [
            plots.RIGHT_MARK if right else plots.WRONG_MARK]
        assert (axis.spines["left"].get_linestyle() == "solid") == right
    assert "2 right" in figure._suptitle.get_text()
    assert "2 wrong" in figure._suptitle.get_text()


def test_every_mark_is_drawn_with_a_real_glyph() -> None:
    images = np.zeros((5, 8, 8), dtype=np.uint8)
    figure = plots.prediction_gallery(images, TRUE, PROBABILITIES, np.arange(5), CLASSES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        figure.canvas.draw()


def test_misclassified_gallery_keeps_its_layout() -> None:
    images = np.zeros((5, 8, 8), dtype=np.uint8)
    figure = plots.misclassified_gallery(images, TRUE, PROBABILITIES, np.array([2, 4]),
                                         CLASSES, columns=6)
    shown = [axis for axis in figure.axes if axis.axison]
    assert len(figure.axes) == 6 and len(shown) == 2
    assert shown[0].get_title() == "true: Coat\npred: T-shirt (60%)"


def test_captions_clear_the_row_below() -> None:
    """Both caption lines stay visible: the next row's image does not cover the second."""
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    figure = plots.prediction_gallery(images, TRUE, PROBABILITIES, np.array([0, 1, 2, 3]),
                                      CLASSES, columns=2)
    figure.canvas.draw()
    tiles = [axis for axis in figure.axes if axis.images]
    for upper, lower in ((tiles[0], tiles[2]), (tiles[1], tiles[3])):
        caption_bottom = upper.xaxis.label.get_window_extent().y0
        assert caption_bottom > lower.get_window_extent().y1
