"""The prediction gallery (one tile per image, captioned and marked right or wrong), and every
figure's caption and alt text."""

import base64
import logging
import re
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import same_color

from helpers.writing import galleries, plots

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
    figure = galleries.prediction_gallery(images, TRUE, PROBABILITIES, indices, CLASSES, columns=3)
    tiles = [axis for axis in figure.axes if axis.images]
    assert len(tiles) == len(indices)
    assert [axis.get_xlabel() for axis in tiles] == [
        "Pred: T-shirt 97%\nTrue: T-shirt", "Pred: Coat 99%\nTrue: Coat",
        "Pred: T-shirt 60%\nTrue: Coat", "Pred: Trouser 70%\nTrue: T-shirt"]
    for axis, right in zip(tiles, [True, True, False, False], strict=True):
        color = galleries.RIGHT_COLOR if right else galleries.WRONG_COLOR
        assert same_color(axis.xaxis.label.get_color(), color)
        # Told apart without colour too: the mark, and a solid or dashed frame.
        assert [text.get_text() for text in axis.texts] == [
            galleries.RIGHT_MARK if right else galleries.WRONG_MARK]
        assert (axis.spines["left"].get_linestyle() == "solid") == right
    assert "2 right" in figure._suptitle.get_text()
    assert "2 wrong" in figure._suptitle.get_text()


def test_every_mark_is_drawn_with_a_real_glyph() -> None:
    images = np.zeros((5, 8, 8), dtype=np.uint8)
    figure = galleries.prediction_gallery(images, TRUE, PROBABILITIES, np.arange(5), CLASSES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        figure.canvas.draw()


def test_misclassified_gallery_keeps_its_layout() -> None:
    images = np.zeros((5, 8, 8), dtype=np.uint8)
    figure = galleries.misclassified_gallery(images, TRUE, PROBABILITIES, np.array([2, 4]),
                                         CLASSES, columns=6)
    shown = [axis for axis in figure.axes if axis.axison]
    assert len(figure.axes) == 6 and len(shown) == 2
    assert shown[0].get_title() == "true: Coat\npred: T-shirt (60%)"


def test_captions_clear_the_row_below() -> None:
    """Both caption lines stay visible: the next row's image does not cover the second."""
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    figure = galleries.prediction_gallery(images, TRUE, PROBABILITIES, np.array([0, 1, 2, 3]),
                                      CLASSES, columns=2)
    figure.canvas.draw()
    tiles = [axis for axis in figure.axes if axis.images]
    for upper, lower in ((tiles[0], tiles[2]), (tiles[1], tiles[3])):
        caption_bottom = upper.xaxis.label.get_window_extent().y0
        assert caption_bottom > lower.get_window_extent().y1


# ---- Captions and alt text ----

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_every_saved_figure_has_a_caption_and_alt_text() -> None:
    sources = "\n".join(cell.source for path in sorted(NOTEBOOKS.glob("0*.ipynb"))
                        for cell in nbformat.read(path, as_version=4).cells)
    saved = set(re.findall(r"""figure_path\(run_dir, ["'](\w+)["']\)""", sources))
    assert saved == {"samples", "class_distribution", "training_curves", "predictions",
                     "confusion_counts", "confusion_normalized", "misclassified",
                     "comparison_curves"}
    assert saved <= set(plots.FIGURE_TEXTS)
    for name, text in plots.FIGURE_TEXTS.items():
        assert "\n" not in text.caption and text.caption.endswith("."), name
        assert len(text.alt) > 30 and text.alt != text.caption, name
    assert set(plots.FIGURE_OF_FUNCTION.values()) <= set(plots.FIGURE_TEXTS)


def test_figure_text_prefers_what_it_is_given() -> None:
    figure, _ = plt.subplots()
    figure.suptitle("Loss  per\nepoch")
    default = plots.FIGURE_TEXTS["samples"]
    assert plots.figure_text("samples") == default
    assert plots.figure_text("samples", figure, caption="Mine.") == plots.FigureText(
        "Mine.", default.alt)
    assert plots.figure_text("samples", alt="Seen.").alt == "Seen."
    # A name without defaults takes the figure's title, on one line.
    assert plots.figure_text("extra", figure) == plots.FigureText("Loss per epoch",
                                                                  "Loss per epoch")


@pytest.mark.parametrize(("name", "caption", "message"), [
    ("extra", None, "figure 'extra' has no default caption"),
    ("samples", "two\nlines", "must be one line"),
])
def test_a_figure_without_words_is_refused(name: str, caption: str | None,
                                           message: str) -> None:
    figure, _ = plt.subplots()
    with pytest.raises(ValueError, match=message):
        plots.figure_text(name, figure, caption)


def test_save_figure_outside_a_notebook_only_writes(tmp_path: Path) -> None:
    figure, axis = plt.subplots()
    axis.plot([1, 2])
    path = tmp_path / "figures" / "training_curves.png"
    plots.save_figure(figure, path)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert plt.fignum_exists(figure.number)  # not shown, so not closed
    with pytest.raises(ValueError, match="one line"):
        plots.save_figure(figure, tmp_path / "figures" / "other.png", caption="a\nb")
    assert not (tmp_path / "figures" / "other.png").exists()


def test_show_figure_in_a_notebook_shows_it_once_with_alt_and_caption(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown: list[tuple[dict, dict]] = []
    monkeypatch.setattr(plots, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw, metadata=None: shown.append((data, metadata or {})))
    figure, axis = plt.subplots()
    axis.plot([1, 2])
    assert plots.show_figure(figure, "training_curves")
    text = plots.FIGURE_TEXTS["training_curves"]
    (image, image_metadata), (caption, _) = shown
    assert base64.b64decode(image["image/png"]).startswith(b"\x89PNG")
    assert image_metadata == {"image/png": {"alt": text.alt}}
    assert caption == {"text/markdown": f"*Figure: {text.caption}*",
                       "text/plain": f"Figure: {text.caption}"}
    # Closed, so the inline backend does not show it a second time at the cell's end.
    assert not plt.fignum_exists(figure.number)


def _drawn_pixels(figure) -> list[np.ndarray]:
    """Each image tile as imshow will draw it: the RGBA values of its colour-mapped data."""
    figure.canvas.draw()
    return [axis.images[0].to_rgba(axis.images[0].get_array(), bytes=True)
            for axis in figure.axes if axis.images]


@pytest.mark.parametrize("draw", [
    lambda images: plots.image_row(images, "augmented"),
    lambda images: plots.sample_grid(images, np.array([0, 1, 0, 1]), ["a", "b"], per_class=2),
    lambda images: galleries.misclassified_gallery(images, np.array([0, 1, 0, 1]),
                                               np.full((4, 2), 0.5), np.arange(4), ["a", "b"]),
])
def test_a_0_255_float_rgb_batch_is_drawn_like_its_uint8_version_without_warnings(
        draw, caplog: pytest.LogCaptureFixture) -> None:
    """Augmentation gives float RGB in 0-255, which imshow reads as 0-1: it drew the preview
    almost white, logging 'Clipping input data to the valid range for imshow with RGB data'
    (matplotlib says it through logging, not the warnings module)."""
    as_bytes = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    as_floats = as_bytes.astype(np.float32) + np.float32(0.2)  # as a layer hands them over
    as_floats[0, 0, 0] = [-3.0, 260.0, 127.6]  # a shift or zoom can overshoot a little
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = _drawn_pixels(draw(as_floats))
        expected = _drawn_pixels(draw(_rounded(as_floats)))
    for tile, reference in zip(drawn, expected, strict=True):
        np.testing.assert_array_equal(tile, reference)
    first = _drawn_pixels(draw(as_bytes))
    np.testing.assert_array_equal(first[1], drawn[1])  # an untouched image: exactly uint8's
    assert plots.displayable(as_floats)[0, 0, 0].tolist() == [0, 255, 128]
    assert not [record.getMessage() for record in caplog.records
                if record.levelno >= logging.WARNING]


def _rounded(images: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(images, 0, 255)).astype(np.uint8)


def test_grayscale_floats_keep_their_0_255_scale(caplog: pytest.LogCaptureFixture) -> None:
    image = np.linspace(0, 255, 64, dtype=np.float32).reshape(1, 8, 8, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = plots.image_row(image, "gray")
        figure.canvas.draw()
    shown = figure.axes[0].images[0]
    assert shown.get_array().shape == (8, 8) and shown.get_clim() == (0, 255)
    assert not caplog.records


def curves_history(rates: list[float] | None) -> pd.DataFrame:
    table = pd.DataFrame({"epoch": [1, 2, 3, 4], "loss": [0.6, 0.5, 0.45, 0.4],
                          "accuracy": [0.8, 0.85, 0.87, 0.9], "val_loss": [0.55, 0.5, 0.5, 0.48],
                          "val_accuracy": [0.82, 0.84, 0.85, 0.86]})
    return table if rates is None else table.assign(learning_rate=rates)


@pytest.mark.parametrize("rates, panels, scale", [
    (None, 2, None),  # a history recorded before the rate was
    ([0.05, 0.05, 0.025, 0.0125], 3, "linear"),  # halvings, drawn from 0
    ([0.1, 0.01, 0.001, 0.0001], 3, "log"),  # a span over 10x: a log scale
])
def test_training_curves_draw_the_learning_rate_of_each_epoch(rates, panels: int,
                                                              scale: str | None) -> None:
    figure = plots.training_curves(curves_history(rates))
    assert len(figure.axes) == panels
    caption = plots.figure_text("training_curves", figure).caption
    assert ("learning rate" in caption) == (rates is not None)  # the caption fits the panels
    if rates is not None:
        axis = figure.axes[2]
        assert axis.get_yscale() == scale
        assert list(axis.lines[0].get_ydata()) == rates
        assert "Learning rate" in axis.get_title()
    plt.close(figure)
