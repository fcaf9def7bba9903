"""When a change the brief expects to help does not: said plainly, the classes that moved most
between the two networks (test F1, averaged over the seeds), and explanations the data can
support, offered as hypotheses.

A brief puts augmentation, L2, dropout or batch normalization into its network because they
are expected to help; a comparison variant that takes one out and does at least as well is the
surprise this module examines. What a variant takes out is read from its overrides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers import wording
from helpers.catalog.layer_grammar import parse_layers

# What a brief adds expecting it to help, as a variant that takes it out changes it.
EXPECTED_TO_HELP = ("augmentation", "L2", "dropout", "batch normalization")


def removed_features(base: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """Which of EXPECTED_TO_HELP a variant's overrides take out of the run's network."""
    removed = []
    if any(name.startswith("augment_") and base.get(name) and not value
           for name, value in changes.items()):
        removed.append("augmentation")
    before, after = _regularizers(base), _regularizers({**base, **changes})
    removed += [feature for feature in ("L2", "dropout", "batch normalization")
                if feature in before and feature not in after]
    return removed


def _regularizers(values: Mapping[str, Any]) -> set[str]:
    """The regularizers a network has, from its architecture parameters."""
    if values.get("architecture") == "layers":
        specs = parse_layers(list(values.get("layers") or []))
        return ({"L2"} if any(spec.l2 > 0 for spec in specs) else set()) | (
            {"dropout"} if any(spec.kind == "dropout" and spec.rate > 0 for spec in specs)
            else set()) | ({"batch normalization"} if any(spec.kind == "batchnorm"
                                                          for spec in specs) else set())
    return {feature for feature, on in (("L2", values.get("l2_weight")),
                                        ("dropout", values.get("dropout_rate")),
                                        ("batch normalization", values.get("batch_norm"))) if on}


def class_changes(brief_f1: pd.DataFrame, variant_f1: pd.DataFrame) -> pd.Series:
    """Mean test F1 per class (rows: classes, columns: seeds) of the brief's network minus the
    variant's, largest moves first."""
    change = brief_f1.mean(axis=1) - variant_f1.mean(axis=1)
    return change.reindex(change.abs().sort_values(ascending=False).index)


HYPOTHESES = {
    "augmentation": (
        "the randomly changed images are harder to fit, so within this many epochs the "
        "network with augmentation may still be catching up (the overlaid curves show whether "
        "its validation loss was still falling faster at the end)."),
    "L2": ("At this factor the penalty is too small to change which weights the network "
           "learns in this many epochs, or the network was not overfitting enough for it to "
           "cure."),
    "dropout": ("The network was not overfitting much (see the train/validation gap), so "
                "dropping activations mostly slowed learning, within this many epochs."),
    "batch normalization": ("With this network, learning rate and number of epochs, "
                            "training was already stable without it."),
}


# Where the brief's network overfit (04's curve reading), "not overfitting" would be false.
OVERFIT_HYPOTHESES = {
    "dropout": ("The network overfit even with it (its validation loss rose after its lowest "
                "epoch while training loss kept falling), so dropout at this rate was too weak "
                "to hold that off."),
    "L2": ("At this factor the penalty is too small to change which weights the network "
           "learns in this many epochs."),
}


def surprise_lines(feature: str, variant: str, measure_sentence: str,
                   changes: pd.Series, overfit: bool = False, top: int = 3,
                   hypothesis: str | None = None, hurt: bool = False) -> list[str]:
    """The plain statement, the classes that moved most, and the hypothesis (the feature's
    own, unless the caller found one the data supports better), as bullets. `hurt`: the
    network without the feature did better by a difference the data detects; otherwise the
    data cannot show the feature helped, which is not the same as showing it did not.
    `overfit`: the brief's network overfit, which rules out "it was not overfitting"."""
    movers = changes.head(top)
    moved = wording.and_list([f"{name} ({'+' if value >= 0 else '−'}"
                              f"{abs(value):.3f} F1 with {feature})"
                              for name, value in movers.items()])
    verdict = "but here it hurt" if hurt else "but this data cannot show that it did"
    lines = [f"The brief expects {feature} to help, {verdict}: the network without "
             f"it (*{variant}*) {measure_sentence}.",
             f"The classes that moved most between the two, as mean test F1 over the seeds: "
             f"{moved}."]
    hypothesis = hypothesis or (overfit and OVERFIT_HYPOTHESES.get(feature)) or HYPOTHESES[feature]
    lines.append(f"A hypothesis, not a finding: {hypothesis[0].lower()}{hypothesis[1:]} A longer "
                 "run, or more seeds, would test it.")
    return lines


def f1_by_class(metrics: Sequence[Any]) -> pd.DataFrame:
    """Per-class test F1 (rows) of each seed's metrics.json (columns)."""
    return pd.DataFrame({index: {name: figures["f1"] for name, figures in record.per_class.items()}
                         for index, record in enumerate(metrics)})


def left_right_asymmetry(images: np.ndarray, labels: np.ndarray,
                         class_names: Sequence[str]) -> pd.Series:
    """How much each class's mean training image differs from its mirror image, relative to
    its brightness: 0 for a class that looks the same mirrored."""
    values = {}
    for index, name in enumerate(class_names):
        mean = images[labels == index].astype(np.float64).mean(axis=0)
        values[name] = float(np.abs(mean - mean[:, ::-1]).mean() / max(mean.mean(), 1e-9))
    return pd.Series(values)


def mirror_hypothesis(asymmetry: pd.Series, losers: Sequence[str]) -> str:
    """Whether the classes that lost most with mirroring are the asymmetric ones, in words."""
    shown = wording.and_list([f"{name} {asymmetry[name]:.2f}" for name in losers])
    typical = float(asymmetry.median())
    if all(asymmetry[name] > typical for name in losers):
        return (f"The classes that lost most are more left-right asymmetric than the median "
                f"class ({shown}, against {typical:.2f}: how far each class's mean training "
                "image is from its mirror image), so mirrored copies of them are images the "
                "test set does not contain.")
    return (f"Mirroring does not explain it by asymmetry alone: the classes that lost most "
            f"({shown}) are not all more left-right asymmetric than the median class "
            f"({typical:.2f}).")
