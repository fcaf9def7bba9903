"""Several networks' training curves overlaid: each network's mean over its seeds with a band
from the lowest to the highest seed, and what they show about how fast each converges and
how far its training figures run ahead of validation.

One figure code for a brief's comparisons (08) and for `compare` (helpers.runner.compare), where
each run is a group of one, drawn without a band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from helpers import wording

PANELS = (("val_loss", "validation loss"), ("val_accuracy", "validation accuracy"))
NEAR_BEST = 0.005  # "converged": within half a point of the network's best mean accuracy


def mean_curves(histories: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per epoch, the mean, lowest and highest of each curve over the seeds' histories (only
    epochs every seed reached, so a mean never mixes fewer seeds in)."""
    last = min(int(history["epoch"].max()) for history in histories)
    stacked = pd.concat([history[history["epoch"] <= last] for history in histories])
    grouped = stacked.groupby("epoch")
    columns = [name for name in ("loss", "accuracy", "val_loss", "val_accuracy")
               if name in stacked]
    return pd.concat({"mean": grouped[columns].mean(), "low": grouped[columns].min(),
                      "high": grouped[columns].max()}, axis=1)


def overlay_figure(curves: Mapping[str, pd.DataFrame], title: str) -> Figure:
    """Validation loss and accuracy per epoch, one colour per network: its mean line and,
    with several seeds, a band from the lowest to the highest seed."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for label, frame in curves.items():
        for axis, (column, _) in zip(axes, PANELS, strict=True):
            line, = axis.plot(frame.index, frame[("mean", column)], marker=".", label=label)
            if (frame[("high", column)] > frame[("low", column)]).any():
                axis.fill_between(frame.index, frame[("low", column)], frame[("high", column)],
                                  color=line.get_color(), alpha=0.15, linewidth=0)
    for axis, (_, name) in zip(axes, PANELS, strict=True):
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def converged_epoch(frame: pd.DataFrame) -> int:
    """The first epoch whose mean validation accuracy is within NEAR_BEST of its best."""
    accuracy = frame[("mean", "val_accuracy")]
    return int(accuracy[accuracy >= accuracy.max() - NEAR_BEST].index[0])


def final_gap(frame: pd.DataFrame) -> float | None:
    """Mean training minus validation accuracy at the last epoch, if training's is recorded."""
    if ("mean", "accuracy") not in frame:
        return None
    last = frame.iloc[-1]
    return float(last[("mean", "accuracy")] - last[("mean", "val_accuracy")])


def observations(curves: Mapping[str, pd.DataFrame]) -> list[str]:
    """How fast each network's mean validation accuracy came near its best, where its mean
    validation loss was lowest, and its train/validation gap at the end."""
    if len(curves) < 2:
        return []
    speed = wording.and_list([f"{label} by epoch {converged_epoch(frame)} of {frame.index[-1]}"
                              for label, frame in curves.items()])
    lowest = wording.and_list([
        f"{label} at epoch {int(frame[('mean', 'val_loss')].idxmin())}"
        for label, frame in curves.items()])
    lines = [f"Mean validation accuracy came within {wording.points(NEAR_BEST)} of its best: "
             f"{speed}.", f"Mean validation loss was lowest: {lowest}."]
    gaps = {label: gap for label, frame in curves.items()
            if (gap := final_gap(frame)) is not None}
    if gaps:
        lines.append("At the last epoch, training accuracy minus validation accuracy (the "
                     "train/validation gap, mean over the seeds): " + wording.and_list(
                         [f"{label} {'+' if gap >= 0 else '−'}{wording.points(gap)}"
                          for label, gap in gaps.items()])
                     + "; a larger gap is more fitting of the training images.")
    return lines
