"""What a run's network has and ignores, from model.json's architecture parameters: its
regularization (for a network written as `layers`, only the layer strings count) and the
parameters that network does not use. The report's settings table and appendix read these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpers.layer_spec import parse_layers
from helpers.records import ARCHITECTURE_PARAMETERS


def _and(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# The architecture parameters each network is built from; model.json records them all.
USED_BY_ARCHITECTURE = {
    "layers": {"layers"},
    "mlp": {"hidden_units", "dropout_rate", "batch_norm", "l2_weight"},
    "cnn": {"conv_filters", "kernel_size", "convs_per_block", "dense_units", "dropout_rate",
            "batch_norm", "l2_weight"},
    "vgg": {"conv_filters", "kernel_size", "dense_units", "dropout_rate", "batch_norm",
            "l2_weight"},  # always two convolutions per block
}


def unused_parameters(architecture: str) -> frozenset[str]:
    """The architecture parameters that the named network ignores (e.g. batch_norm for
    "layers", whose layer strings say where batch normalization goes)."""
    used = USED_BY_ARCHITECTURE.get(architecture, set(ARCHITECTURE_PARAMETERS))
    return frozenset(ARCHITECTURE_PARAMETERS) - used - {"architecture"}


def network_regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
    """The regularization this network has: 'L2', 'dropout', 'batch normalization' -> where.

    For architecture "layers" only the layer strings count: model.json also records the
    cnn/mlp parameters (dropout_rate, batch_norm, l2_weight), which that network ignores.
    """
    kind = architecture["architecture"]
    if kind == "layers":
        specs = parse_layers(list(architecture["layers"]))
        found: dict[str, str] = {}
        weighted = [spec for spec in specs if spec.l2 > 0]
        if weighted:
            values = _and(sorted({f"{spec.l2:g}" for spec in weighted}))
            kinds = _and([f"{sum(spec.kind == kind for spec in weighted)} {kind}"
                          for kind in ("conv", "dense") if any(spec.kind == kind
                                                              for spec in weighted)])
            found["L2"] = f"L2 {values} on {kinds} layer{'s' if len(weighted) > 1 else ''}"
        rates = [spec.rate for spec in specs if spec.kind == "dropout" and spec.rate > 0]
        if rates:
            found["dropout"] = (f"dropout {_and([f'{rate:g}' for rate in rates])} "
                                f"({len(rates)} layer{'s' if len(rates) > 1 else ''})")
        norms = sum(spec.kind == "batchnorm" for spec in specs)
        if norms:
            found["batch normalization"] = (f"batch normalization ({norms} "
                                            f"layer{'s' if norms > 1 else ''})")
        return found
    mlp = kind == "mlp"
    where = {"L2": "every hidden dense layer" if mlp else "every convolution and the dense layer",
             "dropout": "after each hidden layer" if mlp else "after flatten and the dense layer",
             "batch normalization": "after each hidden layer" if mlp else
             "after each pooling and the dense layer"}
    found = {}
    if architecture["l2_weight"] > 0:
        found["L2"] = f"L2 {architecture['l2_weight']:g} on {where['L2']}"
    if architecture["dropout_rate"] > 0:
        found["dropout"] = f"dropout {architecture['dropout_rate']:g} {where['dropout']}"
    if architecture["batch_norm"]:
        found["batch normalization"] = f"batch normalization {where['batch normalization']}"
    return found
