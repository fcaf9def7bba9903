"""The sentences and next steps of a curve diagnosis (diagnosis.py), each naming its
evidence: epochs and the history's own numbers.
"""

from __future__ import annotations

import math

from helpers import wording
from helpers.parameters.optimization import MONITOR_WORDS
from helpers.writing.curve_diagnosis.history import (
    RISE,
    TRAIN_FALLING,
    Curves,
    small_validation,
    window_start,
)


def _resolve(curves: Curves) -> str:
    """'the ±0.60-point 95% interval of 6,000 validation images'."""
    width = wording.points(curves.noise, fine=True).replace(" points", "-point").replace(
        " point", "-point")
    return (f"the ±{width} 95% interval of {curves.context.validation_images:,} validation images")


def best_sentence(curves: Curves) -> str:
    best, run = curves.best, len(curves.epoch)
    planned = curves.context.planned_epochs
    line = (f"Validation loss was lowest at **epoch {curves.epoch[best]} of {run}** "
            f"({curves.val_loss[best]:.4f}, validation accuracy {curves.val_accuracy[best]:.4f});"
            f" {kept_phrase(curves, best)}.")
    if run >= planned:
        line += f" All {planned} planned epochs ran."
    return line


def kept_phrase(curves: Curves, best: int | None = None) -> str:
    """Whose weights the saved model has; "that epoch's" when they are epoch `best`'s."""
    kept, context = curves.kept, curves.context
    if not context.restore_best_weights:
        return (f"the saved model has the last epoch's weights (epoch {curves.epoch[kept]}), "
                "as the run's settings ask")
    if kept == best:
        return "the saved model has that epoch's weights"
    if context.monitor == "val_loss":
        return f"the saved model has epoch {curves.epoch[kept]}'s weights"
    return (f"the saved model has epoch {curves.epoch[kept]}'s weights, the "
            f"{MONITOR_WORDS[context.monitor][2]} ({curves.monitored[kept]:.4f}), which early "
            "stopping watches")


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def early_stopping_sentence(curves: Curves) -> str:
    best, patience = curves.monitored_best, curves.context.early_stopping_patience
    waited = curves.last - best
    rule = f" (the patience is {patience})" if patience is not None else ""
    figure = MONITOR_WORDS[curves.context.monitor][0]
    return (f"**Early stopping fired** after epoch {curves.epoch[-1]} of the "
            f"{curves.context.planned_epochs} planned: {figure} had not improved on "
            f"epoch {curves.epoch[best]}'s {curves.monitored[best]:.4f} for {waited} "
            f"epoch{'s' if waited != 1 else ''}{rule}.")


def accuracy_after(curves: Curves, start: int, end: int) -> str:
    """How validation accuracy moved from one epoch to another, against the noise."""
    before, after = curves.val_accuracy[start], curves.val_accuracy[end]
    moved = (f"validation accuracy went from {before:.4f} at epoch {curves.epoch[start]} to "
             f"{after:.4f} at epoch {curves.epoch[end]}")
    if abs(after - before) < curves.noise:
        return f"{moved}, a change within {_resolve(curves)}"
    return (f"{moved}, {'up' if after > before else 'down'} "
            f"{wording.points(after - before, fine=True)}, more "
            f"than {_resolve(curves)}")


def overfitting_sentence(curves: Curves) -> str:
    best, last = curves.best, curves.last
    peak = max(range(best + 1, last + 1), key=lambda index: curves.val_loss[index])
    rise = curves.val_loss[last] / curves.val_loss[best] - 1
    path = (f"{curves.val_loss[peak]:.4f} at epoch {curves.epoch[peak]} and "
            f"{curves.val_loss[last]:.4f} at epoch {curves.epoch[last]}" if peak != last
            else f"{curves.val_loss[last]:.4f} at epoch {curves.epoch[last]}")
    line = (f"Validation loss rose after epoch {curves.epoch[best]} while training loss kept "
            f"falling: validation loss from {curves.val_loss[best]:.4f} at epoch "
            f"{curves.epoch[best]} to {path} (+{wording.share(rise)} at the end), training loss "
            "from "
            f"{curves.loss[best]:.4f} to {curves.loss[last]:.4f}: **the model overfit from "
            f"epoch {curves.epoch[best + 1]} on**. ")
    fall = curves.val_accuracy[best] - curves.val_accuracy[last]
    if fall > curves.noise:
        line += (f"Validation accuracy fell too, from {curves.val_accuracy[best]:.4f} to "
                 f"{curves.val_accuracy[last]:.4f}, more than {_resolve(curves)}.")
    else:
        line += (f"V{accuracy_after(curves, best, last)[1:]}: the rise is in how confident "
                 "the predictions were, not in how many were wrong.")
    if small_validation(curves):
        line += (f" With only {curves.context.validation_images:,} validation images part of "
                 f"the rise may be noise, but it lasted {last - best} epochs.")
    return line


def unstable_sentence(curves: Curves) -> str:
    best, last = curves.best, curves.last
    return (f"Validation loss rose after epoch {curves.epoch[best]} "
            f"({curves.val_loss[best]:.4f} → {curves.val_loss[last]:.4f} at epoch "
            f"{curves.epoch[last]}) and training loss did not keep falling "
            f"({curves.loss[best]:.4f} → {curves.loss[last]:.4f}): rather than overfitting, "
            "the training became unstable.")


def _reversed_rises(curves: Curves) -> list[int]:
    """Indices of earlier one-epoch rises of validation loss that the next epoch undid."""
    return [index for index in range(1, curves.last - 1)
            if curves.val_loss[index] > curves.val_loss[index - 1] * (1 + RISE)
            and curves.val_loss[index + 1] < curves.val_loss[index - 1]]


def last_epoch_rise_sentence(curves: Curves) -> str:
    last, before, best = curves.last, curves.last - 1, curves.best
    lowest = (", its lowest" if before == best else
              f"; lowest {curves.val_loss[best]:.4f} at epoch {curves.epoch[best]}")
    rise = curves.val_loss[last] / curves.val_loss[before] - 1
    images = curves.context.validation_images
    evidence = [f"one image given 1% on its true class adds {math.log(100) / images:.4f} to "
                f"the mean loss of {images:,} validation images"]
    earlier = _reversed_rises(curves)
    if earlier:
        listed = " and ".join(f"{curves.epoch[index]} ({curves.val_loss[index - 1]:.4f} → "
                              f"{curves.val_loss[index]:.4f})" for index in earlier)
        evidence.append(f"similar one-epoch rises at epoch{'s' if len(earlier) > 1 else ''} "
                        f"{listed} were undone the next epoch")
    train_fell = curves.loss[last] < curves.loss[before]
    return (f"In the last epoch validation loss rose from {curves.val_loss[before]:.4f} (epoch "
            f"{curves.epoch[before]}{lowest}) to {curves.val_loss[last]:.4f} "
            f"(+{wording.share(rise)}), {accuracy_after(curves, before, last)}, and training loss "
            f"went from {curves.loss[before]:.4f} to {curves.loss[last]:.4f}. One epoch is not "
            f"a trend: it may be noise ({'; '.join(evidence)}) or the start of overfitting"
            + ("" if train_fell else
               " (training loss did not fall that epoch either, which points more to one noisy "
               "step)")
            + f". {_sentence_case(kept_phrase(curves))}"
            + (" either way." if curves.context.restore_best_weights else "."))


def improving_sentence(curves: Curves) -> str:
    """Validation loss still falling over the run's last third (at a rate still in use)."""
    last = curves.last
    start = window_start(curves)
    fall = 1 - min(curves.val_loss[start + 1:]) / curves.val_loss[start]
    return (f"Validation loss was still falling at the end: {curves.val_loss[start]:.4f} at "
            f"epoch {curves.epoch[start]}, {min(curves.val_loss[start + 1:]):.4f} by epoch "
            f"{curves.epoch[curves.best]} (−{wording.share(fall)}), and "
            f"{accuracy_after(curves, start, last)}: training had not converged.")


def levelled_sentence(curves: Curves, rate: str) -> str:
    """Validation flat over the last third; `rate` says at what rate ('at this learning rate')."""
    start, last, best = window_start(curves), curves.last, curves.best
    train_fall = 1 - curves.loss[last] / curves.loss[start]
    line = (f"Over the last {last - start} epochs validation loss changed little "
            f"({curves.val_loss[start]:.4f} at epoch {curves.epoch[start]}, "
            f"{curves.val_loss[last]:.4f} at epoch {curves.epoch[last]}; lowest "
            f"{curves.val_loss[best]:.4f} at epoch {curves.epoch[best]}) and "
            f"{accuracy_after(curves, start, last)}")
    if train_fall >= TRAIN_FALLING:
        return (f"{line}, while training loss kept falling from {curves.loss[start]:.4f} to "
                f"{curves.loss[last]:.4f}: {rate} validation had levelled off, and more "
                "epochs would mostly fit the training images better.")
    return (f"{line}, and training loss changed little too ({curves.loss[start]:.4f} → "
            f"{curves.loss[last]:.4f}): {rate} training had converged.")


def train_above_sentence(curves: Curves, overfitting: bool = False) -> str:
    """Training loss above validation loss: why, and (unless the run overfit) what it means."""
    above = [index for index in range(curves.last + 1)
             if curves.loss[index] > curves.val_loss[index]]
    last = curves.last
    if len(above) == len(curves.epoch):
        where = "in every epoch"
    elif above == list(range(above[0], last + 1)):
        where = f"from epoch {curves.epoch[above[0]]} on"
    else:
        where = f"in {len(above)} of the {len(curves.epoch)} epochs, the last included"
    line = (f"Training loss stayed above validation loss {where} ({curves.loss[last]:.4f} "
            f"against {curves.val_loss[last]:.4f} at epoch {curves.epoch[last]}). ")
    train_only = curves.context.train_only
    if train_only:
        acts = "act" if len(train_only) > 1 else "acts"
        line += (f"That is expected here, not a fault: {' and '.join(train_only)} {acts} only "
                 "while training, so the training loss is measured on harder inputs than the "
                 "validation loss, which sees the clean images through the whole network; "
                 "Keras also averages the training loss over each epoch while the weights "
                 "still improve. ")
    else:
        line += ("Nothing in this network or its input acts only while training; Keras "
                 "averages the training "
                 "loss over each epoch while the weights still improve and measures "
                 "validation loss at the epoch's end, which accounts for part of it. ")
    if overfitting:  # validation loss rose from its minimum: the gap's sign does not undo that
        return line + "The gap alone does not rule out overfitting: see the rise above."
    return line + "The model is not overfitting: validation loss is the lower of the two."


def noise_sentence(curves: Curves) -> str:
    start, last = window_start(curves), curves.last
    values = curves.val_accuracy[start:]
    largest = max(abs(after - before) for before, after in zip(values, values[1:], strict=False))
    shown = (", ".join(f"{value:.4f}" for value in values) if len(values) <= 6
             else f"between {min(values):.4f} and {max(values):.4f}")
    return (f"From epoch {curves.epoch[start]} to {curves.epoch[last]} validation accuracy "
            f"went up and down ({shown}), by at most "
            f"{wording.points(largest, fine=True)} an epoch: less than "
            f"{_resolve(curves)}; one image is "
            f"{wording.points(1 / curves.context.validation_images, fine=True)}. These swings "
            "are noise, "
            "not a "
            "trend.")


def gap_sentence(curves: Curves) -> str:
    last = curves.last
    gap = curves.accuracy[last] - curves.val_accuracy[last]
    return (f"At epoch {curves.epoch[last]} training accuracy was {curves.accuracy[last]:.4f} "
            f"against {curves.val_accuracy[last]:.4f} on validation, a gap of "
            f"{wording.points(gap, fine=True)}"
            f"{' in favour of validation' if gap < 0 else ''}.")
