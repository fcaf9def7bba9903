"""MNIST, Fashion-MNIST and CIFAR-10 in the formats they are published in, found offline first.

Each is looked for, in order, in the `data_dir` parameter, the project's data/raw/, a system
folder (Debian's /usr/share/datasets/), Keras's cache (~/.keras/datasets), and only then
downloaded with Keras.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from helpers import artifacts, catalog, locations
from helpers.catalog.datasets import CIFAR10_CLASSES, PublishedFiles
from helpers.data.core import (
    Dataset,
    DatasetFormatError,
    DatasetNotFoundError,
    Problems,
    check_labels,
    check_test_classes,
)

PROJECT_RAW_DIR = artifacts.PROJECT_ROOT / "data" / "raw"
SYSTEM_DATA_DIR = Path("/usr/share/datasets")
KERAS_CACHE_DIR = Path.home() / ".keras" / "datasets"

# The four files LeCun and Zalando publish (and Keras downloads for Fashion-MNIST):
# x_train, y_train, x_test, y_test.
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{number}" for number in range(1, 6))
CIFAR10_FILES = (*CIFAR10_TRAIN_BATCHES, "test_batch", "batches.meta")

_IDX_UNSIGNED_BYTE = 0x08


def published_files(name: str) -> PublishedFiles:
    """Where and how the catalog says dataset `name` is published."""
    files = catalog.dataset(name).files
    if files is None:
        raise ValueError(f"dataset {name!r} is not one of the published datasets")
    return files


def search_dirs(name: str, data_dir: str | Path | None) -> list[Path]:
    """Where dataset `name` is looked for, in order: data_dir, then one folder per root."""
    folders = published_files(name).folder_names
    directories = [Path(data_dir), *(Path(data_dir) / folder for folder in folders)] \
        if data_dir else []
    for root in (PROJECT_RAW_DIR, SYSTEM_DATA_DIR, KERAS_CACHE_DIR):
        # A shared root itself is searched for .npz files only: MNIST and Fashion-MNIST
        # use the same IDX file names, so loose IDX files there would be ambiguous.
        directories += [root, *(root / folder for folder in folders)]
    return directories


def load_builtin(name: str, data_dir: str | Path | None = None,
                 download: bool = True) -> Dataset:
    """Load MNIST, Fashion-MNIST or CIFAR-10 from the first location that has it."""
    spec = published_files(name)
    searched = search_dirs(name, data_dir)
    shared_roots = (PROJECT_RAW_DIR, SYSTEM_DATA_DIR, KERAS_CACHE_DIR)
    for directory in searched:
        found = _load_from(name, directory, npz_only=directory in shared_roots)
        if found is not None:
            return found
    download_error = "download not attempted"
    if download:
        try:
            return _download(name)
        except Exception as error:  # noqa: BLE001 - any failure means "not downloadable here"
            download_error = f"Keras download failed: {type(error).__name__}: {error}"
    expected = ("the python batches (" + ", ".join(CIFAR10_FILES) + ")"
                if spec.file_format == "cifar_batches"
                else "the four IDX files (" + ", ".join(f"{file}[.gz]" for file in IDX_FILES)
                + ") or " + " or ".join(spec.npz_names))
    tried = "\n".join(f"  - {directory}" for directory in searched)
    raise DatasetNotFoundError(
        f"dataset {name!r} not found. Looked for {expected} in:\n{tried}\n"
        f"  - {download_error}\n"
        f"To get the data: {spec.install_hint}; or set the data_dir parameter to its folder.")


def _load_from(name: str, directory: Path, npz_only: bool = False) -> Dataset | None:
    """The dataset from `directory`, or None if that folder does not hold it."""
    if published_files(name).file_format == "cifar_batches" and not npz_only:
        files = tuple(directory / file for file in CIFAR10_FILES)
        if not any(file.is_file() for file in files):
            return None
        missing = [file for file in files if not file.is_file()]
        if missing:
            raise DatasetFormatError([f"{file}: missing (a CIFAR-10 folder holds "
                                      f"{', '.join(CIFAR10_FILES)})" for file in missing])
        return read_cifar10_batches(directory)
    idx_files = None if npz_only else find_idx_files(directory, IDX_FILES)
    if idx_files is not None:
        arrays = [read_idx(path) for path in idx_files]
        return _checked(name, *arrays, files=idx_files,
                        source=locations.describe(directory))
    for npz_name in published_files(name).npz_names:
        if (directory / npz_name).is_file():
            return read_keras_npz(name, directory / npz_name)
    return None


def _download(name: str) -> Dataset:
    from helpers.backend import keras

    loader = published_files(name).keras_loader
    if loader is None:
        raise ValueError(f"Keras has no download for dataset {name!r}")
    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, loader).load_data()
    return _checked(name, x_train, y_train.reshape(-1), x_test, y_test.reshape(-1), files=(),
                    source="Keras download (cached in "
                    f"{locations.describe(KERAS_CACHE_DIR)})")


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
            f"{path}: IDX type code 0x{content[2]:02x}, expected 0x08 (unsigned bytes)")
    dimension_count = content[3]
    header_size = 4 + 4 * dimension_count
    if len(content) < header_size:
        raise DatasetFormatError(f"{path}: header cut short ({len(content)} bytes)")
    shape = tuple(int.from_bytes(content[4 + 4 * index: 8 + 4 * index], "big")
                  for index in range(dimension_count))
    expected = int(np.prod(shape)) + header_size
    if len(content) != expected:
        raise DatasetFormatError(
            f"{path}: header promises shape {shape} ({expected} bytes) but the file has "
            f"{len(content)} bytes")
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


def read_keras_npz(name: str, path: Path) -> Dataset:
    """A Keras-style .npz (x_train, y_train, x_test, y_test), as Keras caches mnist.npz."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DatasetFormatError(f"{path}: lacks the arrays {', '.join(missing)} "
                                         f"(expected {', '.join(NPZ_KEYS)})")
            arrays = [archive[key] for key in NPZ_KEYS]
    except (OSError, ValueError) as error:
        if isinstance(error, DatasetFormatError):
            raise
        raise DatasetFormatError(f"{path}: cannot be read as a .npz archive ({error})") from error
    return _checked(name, *arrays, files=(path,), source=locations.describe(path))


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes and numpy arrays only: a batch file cannot run code."""

    # _codecs.encode: how Python 3 writes byte strings into protocol-2 pickles.
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> dict[bytes, object]:
    """One pickled CIFAR batch (a dict with byte-string keys), as the Toronto files are."""
    try:
        with path.open("rb") as handle:
            batch = _ArraysOnlyUnpickler(handle, encoding="bytes").load()
    except Exception as error:  # noqa: BLE001 - a broken pickle raises many kinds of error
        raise DatasetFormatError(f"{path}: not a CIFAR-10 python batch ({error})") from error
    if not isinstance(batch, dict):
        raise DatasetFormatError(f"{path}: holds a {type(batch).__name__}, expected a dict")
    return batch


def read_cifar10_batches(directory: Path) -> Dataset:
    """CIFAR-10 from cifar-10-batches-py/: rows of 3072 bytes, red then green then blue planes."""
    problems = Problems()
    parts = {"train": [], "test": []}
    for part, names in (("train", CIFAR10_TRAIN_BATCHES), ("test", ("test_batch",))):
        for name in names:
            path = directory / name
            batch = read_cifar_batch(path)
            data, labels = batch.get(b"data"), batch.get(b"labels")
            if not isinstance(data, np.ndarray) or labels is None:
                problems.add(f"{path}: expected the keys b'data' and b'labels'")
                continue
            labels = np.asarray(labels, dtype=np.int64)
            if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
                problems.add(f"{path}: data has shape {data.shape} and {len(labels)} labels; "
                             "expected N x 3072 bytes and N labels")
                continue
            check_labels(labels, len(CIFAR10_CLASSES), str(path), problems)
            images = data.astype(np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            parts[part].append((images, labels))
    problems.raise_if_any()
    meta = read_cifar_batch(directory / "batches.meta")
    class_names = tuple(name.decode() if isinstance(name, bytes) else str(name)
                        for name in meta.get(b"label_names", CIFAR10_CLASSES))
    x_train, y_train = (np.concatenate(arrays) for arrays in zip(*parts["train"], strict=True))
    x_test, y_test = parts["test"][0]
    files = tuple(directory / name for name in CIFAR10_FILES)
    return _checked("cifar10", x_train, y_train, x_test, y_test, files=files,
                    source=locations.describe(directory), class_names=class_names)


def _checked(name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
             y_test: np.ndarray, files: tuple[Path, ...], source: str,
             class_names: tuple[str, ...] | None = None) -> Dataset:
    """A Dataset after checking shapes and labels; grayscale images get a channel axis."""
    class_names = class_names or catalog.dataset(name).class_names
    problems = Problems()
    where = {part: str(files[index]) if len(files) == 4 else (str(files[0]) if files else source)
             for index, part in enumerate(NPZ_KEYS)}
    for images, labels, images_key, labels_key in ((x_train, y_train, "x_train", "y_train"),
                                                   (x_test, y_test, "x_test", "y_test")):
        if images.ndim not in (3, 4) or labels.ndim != 1 or len(images) != len(labels):
            problems.add(f"{where[images_key]} holds {images.shape} images but "
                         f"{where[labels_key]} holds {labels.shape} labels: expected N images "
                         "(N x height x width) and N labels")
        elif images.dtype != np.uint8:
            problems.add(f"{where[images_key]}: images of type {images.dtype}, expected uint8")
        else:
            check_labels(labels, len(class_names), where[labels_key], problems)
    problems.raise_if_any()
    check_test_classes(y_train, y_test, where["y_test"], class_names, problems)
    problems.raise_if_any()
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    return Dataset(name=name, x_train=x_train, y_train=y_train.astype(np.int64),
                   x_test=x_test, y_test=y_test.astype(np.int64), class_names=class_names,
                   source=source, files=files)
