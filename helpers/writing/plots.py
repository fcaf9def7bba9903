"""The figures a report needs; each function returns a matplotlib Figure, which save_figure
writes and shows with a one-line caption and alt text (FIGURE_TEXTS)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers import artifacts
from helpers.writing.figure_texts import (  # noqa: F401 (FIGURE_OF_FUNCTION: read by the report)
    CAPTION_PREFIX,
    FIGURE_OF_FUNCTION,
    FIGURE_TEXTS,
    TRAINING_CURVES_WITHOUT_RATE,
    FigureText,
)


def figure_text(name: str, figure: Figure | None = None, caption: str | None = None,
                alt: str | None = None) -> FigureText:
    """A figure's caption and alt text: the given ones, else the name's, else its title.

    Raises ValueError when a caption is not one line, or when nothing names the figure.
    """
    known = FIGURE_TEXTS.get(name)
    if name == "training_curves" and figure is not None and len(figure.axes) == 2:
        known = TRAINING_CURVES_WITHOUT_RATE  # a history without the learning rate
    title = _title(figure) if figure is not None else ""
    caption = caption or (known.caption if known else title)
    if not caption:
        raise ValueError(f"figure {name!r} has no default caption and no title: pass "
                         f"caption= (figures with defaults: {', '.join(FIGURE_TEXTS)})")
    if "\n" in caption.strip():
        raise ValueError(f"caption of figure {name!r} must be one line, got {caption!r}")
    return FigureText(caption.strip(), alt or (known.alt if known else caption.strip()))


def _title(figure: Figure) -> str:
    """The figure's title, or its first axes' title, on one line ("" when untitled)."""
    titles = [figure.get_suptitle(), *(axis.get_title() for axis in figure.axes)]
    return " ".join(next((title for title in titles if title), "").split())


def caption_bundle(caption: str) -> dict[str, str]:
    """The display data of a caption: italic markdown, and the same words as plain text."""
    return {"text/markdown": f"*{CAPTION_PREFIX}{caption}*",
            "text/plain": f"{CAPTION_PREFIX}{caption}"}


def _in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (JupyterLab, papermill, nbval)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_figure(figure: Figure, name: str, caption: str | None = None,
                alt: str | None = None) -> bool:
    """In a notebook, show the figure once, with alt text and a one-line caption under it.

    Returns whether it was shown (outside a kernel nothing is); the figure is then closed,
    so the inline backend does not show it a second time at the cell's end.
    """
    text = figure_text(name, figure, caption, alt)
    if not _in_notebook():
        return False
    from IPython.core.pylabtools import print_figure
    from IPython.display import display

    # Drawn as the inline backend draws it; the alt text goes where nbconvert's templates and
    # the Jupyter alt-text convention look for it: the output's image/png metadata.
    png = print_figure(figure, "png", bbox_inches="tight")
    display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text.alt},
            raw=True, metadata={"image/png": {"alt": text.alt}})
    display(caption_bundle(text.caption), raw=True)
    plt.close(figure)
    return True


def save_figure(figure: Figure, path: str | Path, caption: str | None = None,
                alt: str | None = None) -> None:
    """Write the figure as PNG atomically (figures/ is created if needed) and, in a notebook,
    show it with its caption and alt text (the defaults of FIGURE_TEXTS[file name])."""
    name = Path(path).stem
    figure_text(name, figure, caption, alt)  # a bad caption fails before anything is written
    artifacts.save_with(
        path, lambda temporary: figure.savefig(temporary, format="png", dpi=110,
                                               bbox_inches="tight"))
    show_figure(figure, name, caption, alt)


def displayable(image: np.ndarray) -> np.ndarray:
    """An image of 0-255 pixel values (uint8, or floats as the input pipeline and augmentation
    give them) as uint8, the one form imshow draws on the 0-255 scale in colour as in gray:
    it reads float RGB as 0-1, so 0-255 floats came out white, clipped with a warning."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:
        image = np.rint(np.clip(np.nan_to_num(image.astype(np.float64)), 0, 255)).astype(np.uint8)
    return image


def show_image(axis: plt.Axes, image: np.ndarray) -> None:
    image = displayable(image)
    if image.ndim == 2:
        axis.imshow(image, cmap="gray", vmin=0, vmax=255)
    else:  # RGB takes no colour scale: uint8 is read as 0-255
        axis.imshow(image)
    axis.set_xticks([])
    axis.set_yticks([])


def sample_grid(images: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                per_class: int = 6) -> Figure:
    """The first `per_class` training images of every class, one row per class."""
    figure, axes = plt.subplots(len(class_names), per_class,
                                figsize=(1.1 * per_class + 1.4, 1.1 * len(class_names)),
                                squeeze=False)
    for class_index, name in enumerate(class_names):
        examples = np.flatnonzero(labels == class_index)[:per_class]
        for column in range(per_class):
            axis = axes[class_index, column]
            if column < len(examples):
                show_image(axis, images[examples[column]])
            else:
                axis.axis("off")
        axes[class_index, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    figure.suptitle("Sample training images per class")
    figure.tight_layout()
    return figure


def image_row(images: np.ndarray, title: str) -> Figure:
    """Images side by side in one row (e.g. a training batch after augmentation)."""
    figure, axes = plt.subplots(1, len(images), figsize=(1.1 * len(images), 1.5),
                                squeeze=False)
    for axis, image in zip(axes.flat, images, strict=True):
        show_image(axis, image)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def class_distribution(counts_by_split: Mapping[str, np.ndarray],
                       class_names: Sequence[str]) -> Figure:
    """Images per class in each split, side by side."""
    table = pd.DataFrame({split: counts for split, counts in counts_by_split.items()},
                         index=list(class_names))
    table = table.reset_index(names="class").melt(id_vars="class", var_name="split",
                                                  value_name="images")
    figure, axis = plt.subplots(figsize=(10, 3.8))
    sns.barplot(data=table, x="class", y="images", hue="split", ax=axis)
    axis.set_xlabel("")
    axis.set_title("Images per class and split")
    axis.tick_params(axis="x", rotation=30)
    # Beside the axes, not over them: inside, the legend covered the first class's bars.
    axis.legend(title="split", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    figure.tight_layout()
    return figure


# A learning rate that spans more than this factor is drawn on a log scale, where a halving
# is a step of the same height wherever it happens.
LOG_RATE_SPAN = 10


def training_curves(history: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch, training against validation, and the learning rate of each
    epoch when the history records it (history.csv's `learning_rate`, the epoch's mean)."""
    with_rate = "learning_rate" in history.columns
    figure, axes = plt.subplots(1, 3 if with_rate else 2, figsize=(15 if with_rate else 11, 4))
    for axis, metric, title in ((axes[0], "loss", "Loss (lower is better)"),
                                (axes[1], "accuracy", "Accuracy (higher is better)")):
        axis.plot(history["epoch"], history[metric], marker="o", label="training")
        axis.plot(history["epoch"], history[f"val_{metric}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend()
    if with_rate:
        _rate_panel(axes[2], history)
    figure.tight_layout()
    return figure


def _rate_panel(axis: plt.Axes, history: pd.DataFrame) -> None:
    """The learning rate of each epoch, on a log scale where it spans a factor over 10."""
    rates = history["learning_rate"].astype(float)
    axis.plot(history["epoch"], rates, marker="o", color="tab:green", drawstyle="steps-mid")
    positive = rates[rates > 0]
    if len(positive) and positive.max() / positive.min() > LOG_RATE_SPAN:
        axis.set_yscale("log")
    else:
        axis.set_ylim(0, rates.max() * 1.1 or 1)
    axis.set_xlabel("epoch")
    axis.set_title("Learning rate (mean of each epoch)")
    axis.grid(alpha=0.3, which="both")


def confusion_heatmap(confusion: np.ndarray, class_names: Sequence[str],
                      normalized: bool) -> Figure:
    """Confusion matrix as a heatmap: counts, or each row as shares of its true class."""
    figure, axis = plt.subplots(figsize=(9, 7.5))
    sns.heatmap(confusion, annot=True, fmt=".2f" if normalized else "d", cmap="Blues",
                xticklabels=class_names, yticklabels=class_names, square=True, ax=axis,
                vmin=0, vmax=1 if normalized else None, annot_kws={"fontsize": 8},
                cbar_kws={"label": "share of true class" if normalized else "images"})
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title("Confusion matrix, row-normalized" if normalized
                   else "Confusion matrix, counts")
    axis.tick_params(axis="x", rotation=45)
    axis.tick_params(axis="y", rotation=0)
    figure.tight_layout()
    return figure
