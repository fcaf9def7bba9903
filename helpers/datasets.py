"""Find and load image datasets from local files first, downloading only as a last resort."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers import artifacts

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
# The four files Zalando publishes and Keras downloads: x_train, y_train, x_test, y_test.
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_DIR = Path.home() / ".keras" / "datasets" / "fashion-mnist"
PROJECT_RAW_DIR = artifacts.PROJECT_ROOT / "data" / "raw"
SUPPORTED_DATASETS = ("fashion_mnist",)
CLASS_COUNTS = {"fashion_mnist": len(FASHION_MNIST_CLASSES)}  # known before loading

_IDX_UNSIGNED_BYTE = 0x08


class DatasetNotFoundError(FileNotFoundError):
    """No location holds the dataset's files and the download failed."""


class DatasetFormatError(ValueError):
    """A dataset file exists but is not in the expected format."""


@dataclass(frozen=True)
class Dataset:
    """Raw images (uint8, N x H x W x C), integer labels and where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    files: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image, channels last."""
        return tuple(self.x_train.shape[1:])


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) of unsigned bytes into an array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            content = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetFormatError(f"{path}: cannot be read as an IDX file ({error})") from error
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise DatasetFormatError(f"{path}: not an IDX file (the first two bytes must be zero)")
    if content[2] != _IDX_UNSIGNED_BYTE:
        raise DatasetFormatError(
            f"{path}: IDX type code 0x{content[2]:02x}, expected 0x08 (unsigned bytes)"
        )
    dimension_count = content[3]
    header_size = 4 + 4 * dimension_count
    if len(content) < header_size:
        raise DatasetFormatError(f"{path}: header cut short ({len(content)} bytes)")
    shape = tuple(
        int.from_bytes(content[4 + 4 * index: 8 + 4 * index], "big")
        for index in range(dimension_count)
    )
    expected = int(np.prod(shape)) + header_size
    if len(content) != expected:
        raise DatasetFormatError(
            f"{path}: header promises shape {shape} ({expected} bytes) but the file has "
            f"{len(content)} bytes"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def find_idx_files(directory: Path, names: tuple[str, ...]) -> tuple[Path, ...] | None:
    """The IDX files `names` in `directory`, gzip-compressed or plain, or None if any is missing."""
    found = []
    for name in names:
        candidates = [directory / f"{name}.gz", directory / name]
        existing = next((candidate for candidate in candidates if candidate.is_file()), None)
        if existing is None:
            return None
        found.append(existing)
    return tuple(found)


def fashion_mnist_search_dirs(data_dir: str | Path | None) -> list[Path]:
    """Where Fashion-MNIST is looked for, in order: data_dir, data/raw/, Debian, Keras's cache."""
    directories = []
    if data_dir:
        directories += [Path(data_dir), Path(data_dir) / "fashion-mnist",
                        Path(data_dir) / "fashion_mnist"]
    directories += [PROJECT_RAW_DIR / "fashion-mnist", PROJECT_RAW_DIR / "fashion_mnist",
                    PROJECT_RAW_DIR, DEBIAN_FASHION_MNIST_DIR, KERAS_CACHE_DIR]
    return directories


def load_fashion_mnist(data_dir: str | Path | None = None, download: bool = True) -> Dataset:
    """Load all 70,000 Fashion-MNIST images from the first location that has them."""
    searched = fashion_mnist_search_dirs(data_dir)
    for directory in searched:
        files = find_idx_files(directory, FASHION_MNIST_FILES)
        if files is not None:
            return _fashion_mnist_from_idx(files, source=str(directory))
    download_error = "download not attempted"
    if download:
        try:
            from helpers.backend import keras

            keras.datasets.fashion_mnist.load_data()  # caches the IDX files in KERAS_CACHE_DIR
        except Exception as error:  # noqa: BLE001 - any failure means "not downloadable here"
            download_error = f"Keras download failed: {type(error).__name__}: {error}"
        else:
            files = find_idx_files(KERAS_CACHE_DIR, FASHION_MNIST_FILES)
            if files is not None:
                return _fashion_mnist_from_idx(files, source=f"Keras download ({KERAS_CACHE_DIR})")
            download_error = f"Keras download left no IDX files in {KERAS_CACHE_DIR}"
    tried = "\n".join(f"  - {directory}" for directory in searched)
    raise DatasetNotFoundError(
        "Fashion-MNIST not found. Looked for the four IDX files "
        f"({', '.join(name + '.gz' for name in FASHION_MNIST_FILES)}) in:\n{tried}\n"
        f"  - {download_error}\n"
        "To get the data: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or "
        "download the four files from https://github.com/zalandoresearch/fashion-mnist into "
        f"{PROJECT_RAW_DIR / 'fashion-mnist'}, or set the data_dir parameter to their folder."
    )


def _fashion_mnist_from_idx(files: tuple[Path, ...], source: str) -> Dataset:
    x_train, y_train, x_test, y_test = (read_idx(path) for path in files)
    for images, labels, images_path, labels_path in (
        (x_train, y_train, files[0], files[1]),
        (x_test, y_test, files[2], files[3]),
    ):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetFormatError(
                f"{images_path} holds {images.shape} images but {labels_path} holds "
                f"{labels.shape} labels: expected N x 28 x 28 images and N labels"
            )
        if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
            row = int(np.argmax(labels >= len(FASHION_MNIST_CLASSES)))
            raise DatasetFormatError(
                f"{labels_path}: label {labels[row]} at item {row} is outside 0-9"
            )
    return Dataset(
        name="fashion_mnist",
        x_train=x_train[..., np.newaxis],
        y_train=y_train.astype(np.int64),
        x_test=x_test[..., np.newaxis],
        y_test=y_test.astype(np.int64),
        class_names=FASHION_MNIST_CLASSES,
        source=source,
        files=files,
    )


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load a dataset by the `dataset` parameter's value."""
    if name == "fashion_mnist":
        return load_fashion_mnist(data_dir)
    raise ValueError(
        f"dataset={name!r} is not known; valid values: {', '.join(SUPPORTED_DATASETS)}"
    )


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


def subsample(dataset: Dataset, max_train_images: int, max_test_images: int,
              seed: int) -> Dataset:
    """A smaller copy of the dataset for quick runs; class shares are preserved."""
    train = stratified_subset(dataset.y_train, max_train_images, seed)
    test = stratified_subset(dataset.y_test, max_test_images, seed)
    return Dataset(dataset.name, dataset.x_train[train], dataset.y_train[train],
                   dataset.x_test[test], dataset.y_test[test], dataset.class_names,
                   dataset.source, dataset.files)


def write_dataset(run_dir: str | Path, dataset: Dataset) -> dict:
    """Write the raw arrays and a description (with file checksums) for the later steps."""
    artifacts.write_arrays(artifacts.artifact_path(run_dir, artifacts.DATASET_ARRAYS),
                           x_train=dataset.x_train, y_train=dataset.y_train,
                           x_test=dataset.x_test, y_test=dataset.y_test)
    info = {
        "name": dataset.name,
        "class_names": list(dataset.class_names),
        "image_shape": list(dataset.image_shape),
        "train_images": int(len(dataset.y_train)),
        "test_images": int(len(dataset.y_test)),
        "source": dataset.source,
        "files": [{"path": str(path), "sha256": artifacts.file_sha256(path)}
                  for path in dataset.files],
    }
    artifacts.write_json(artifacts.artifact_path(run_dir, artifacts.DATASET_INFO), info)
    return info


def read_dataset_info(run_dir: str | Path) -> dict:
    """The description 01_load_data wrote: class names, image shape, sizes, source files."""
    return artifacts.read_json(
        artifacts.require(run_dir, artifacts.DATASET_INFO, "01_load_data"))
