"""The catalog: every network kind and every dataset, each declared once (helpers/catalog/
networks.py, datasets.py) with what the stages, the report and the parameter schema need to
know of it. Adding one touches its entry, its builder or loader, and a test.

Part of the ground: it imports no stage and no TensorFlow, so the schema can read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpers.catalog import layer_grammar
from helpers.catalog.datasets import DATASETS, DatasetEntry, Subject
from helpers.catalog.networks import NETWORK_KINDS, NetworkKind

__all__ = ["DATASETS", "DATASET_NAMES", "DatasetEntry", "NETWORK_KINDS", "NETWORK_NAMES",
           "NetworkKind", "Subject", "dataset", "layer_grammar", "network", "network_of",
           "recognised_dataset"]

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)
NETWORK_NAMES: tuple[str, ...] = tuple(NETWORK_KINDS)


def dataset(name: str) -> DatasetEntry:
    """The catalog's entry for a `dataset` value."""
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is not known; valid values: "
                         f"{', '.join(DATASET_NAMES)}")
    return DATASETS[name]


def network(name: str) -> NetworkKind:
    """The catalog's entry for an `architecture` value."""
    if name not in NETWORK_KINDS:
        raise ValueError(f"architecture={name!r} is not known; valid values: "
                         f"{', '.join(NETWORK_NAMES)}")
    return NETWORK_KINDS[name]


def network_of(architecture: Mapping[str, Any]) -> NetworkKind:
    """The kind of the network model.json's `architecture` record describes."""
    return network(architecture["architecture"])


def recognised_dataset(name: str, class_names: Sequence[str]) -> DatasetEntry:
    """The entry whose images these are: the named dataset's own, or for csv and folder data
    the published dataset whose class names they carry (Fashion-MNIST as CSV: garments)."""
    entry = DATASETS.get(name)
    if entry is not None and entry.class_names is not None:
        return entry
    names = {class_name.strip().lower() for class_name in class_names}
    for candidate in DATASETS.values():
        if candidate.recognises is not None and candidate.recognises(names):
            return candidate
    return entry or DATASETS["folder"]
