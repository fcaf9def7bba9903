"""Splits, label encodings and the one pixel scaling every stage shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.parameters import LABEL_ENCODINGS  # noqa: F401 - re-exported

# The single definition of input scaling: raw 0-255 pixels times this gives [0, 1].
# The model applies it in its first layer (keras.layers.Rescaling), so training,
# evaluation, export and serving all feed raw pixels and can never disagree.
PIXEL_SCALE = 1.0 / 255.0


@dataclass(frozen=True)
class SplitData:
    """Raw images and encoded labels of one split."""

    images: np.ndarray
    labels: np.ndarray


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """Raw 0-255 pixels as float32 in [0, 1], exactly as the model's Rescaling layer does."""
    return images.astype(np.float32) * np.float32(PIXEL_SCALE)


def stratified_split(labels: np.ndarray, val_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation indices; each class keeps its share in both."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    classes, counts = np.unique(labels, return_counts=True)
    validation_size = int(round(len(labels) * val_fraction))
    if validation_size < len(classes) or len(labels) - validation_size < len(classes):
        raise ValueError(
            f"val_fraction={val_fraction} of {len(labels)} images leaves a split with fewer "
            f"images than the {len(classes)} classes: use more images or another fraction"
        )
    if counts.min() < 2:
        rare = classes[np.argmin(counts)]
        raise ValueError(f"class {rare} has a single training image: a stratified split "
                         "needs at least two per class")
    from sklearn.model_selection import train_test_split

    train, validation = train_test_split(np.arange(len(labels)), test_size=validation_size,
                                         stratify=labels, random_state=seed)
    return np.sort(train), np.sort(validation)


def encode_labels(labels: np.ndarray, num_classes: int, encoding: str) -> np.ndarray:
    """Integer labels as-is ('sparse') or as one-hot rows ('one_hot')."""
    if encoding == "sparse":
        return labels.astype(np.int64)
    if encoding == "one_hot":
        return np.eye(num_classes, dtype=np.float32)[labels]
    raise ValueError(
        f"label_encoding={encoding!r} is not known; valid values: {', '.join(LABEL_ENCODINGS)}"
    )


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Number of images per class, for every class (zero where absent)."""
    return np.bincount(labels.astype(np.int64), minlength=num_classes)


def load_split(run_dir: str | Path, split: str) -> SplitData:
    """Images and encoded labels of 'train', 'validation' or 'test' from a run directory.

    Only 05_evaluate and 06_misclassifications ask for 'test': training and model
    selection see the training and validation images alone.
    """
    dataset = artifacts.read_arrays(
        artifacts.require(run_dir, artifacts.DATASET_ARRAYS, "01_load_data"))
    info = artifacts.read_json(
        artifacts.require(run_dir, artifacts.PREPROCESS_INFO, "02_preprocess"))
    num_classes = len(artifacts.read_json(
        artifacts.artifact_path(run_dir, artifacts.DATASET_INFO))["class_names"])
    if split == "test":
        images, labels = dataset["x_test"], dataset["y_test"]
    elif split in ("train", "validation"):
        indices = artifacts.read_arrays(
            artifacts.require(run_dir, artifacts.SPLIT_INDICES, "02_preprocess"))[split]
        images, labels = dataset["x_train"][indices], dataset["y_train"][indices]
    else:
        raise ValueError(f"split={split!r}: expected 'train', 'validation' or 'test'")
    return SplitData(images, encode_labels(labels, num_classes, info["label_encoding"]))
