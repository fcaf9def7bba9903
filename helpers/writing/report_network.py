"""What a run's network has and ignores, from model.json's architecture parameters: its
regularization (for a network written as `layers`, only the layer strings count) and the
parameters that network does not use, both as its catalog entry says. The report's settings
table and appendix read these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpers import catalog
from helpers.catalog.networks import ARCHITECTURE_PARAMETERS


def unused_parameters(architecture: str) -> frozenset[str]:
    """The architecture parameters that the named network ignores (e.g. batch_norm for
    "layers", whose layer strings say where batch normalization goes)."""
    used = catalog.network(architecture).parameters
    return frozenset(ARCHITECTURE_PARAMETERS) - used - {"architecture"}


def network_regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
    """The regularization this network has: 'L2', 'dropout', 'batch normalization' -> where.

    For architecture "layers" only the layer strings count (an older run's model.json also
    records the cnn/mlp parameters dropout_rate, batch_norm and l2_weight, which it ignores).
    """
    kind = catalog.network(architecture["architecture"])
    return kind.regularization(kind.effective(architecture))
