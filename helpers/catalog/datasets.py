"""Every dataset the `dataset` parameter names, declared once: how it is loaded, how many and
which classes it has, how the report names it and one of its images, and which of its classes
look alike.

The ground below every stage: it imports neither TensorFlow nor a stage. tests/pipeline/truth.py
keeps its own, independent knowledge of the datasets, so that it can catch an entry here
being wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass

DIGIT_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")


@dataclass(frozen=True)
class PublishedFiles:
    """Where and how a published dataset's files are found (helpers.data.keras_builtin)."""

    file_format: str  # "idx" (four IDX files or a Keras .npz) or "cifar_batches"
    folder_names: tuple[str, ...]  # sub-folders of a search location that may hold it
    npz_names: tuple[str, ...]  # Keras-style .npz files with x_train, y_train, x_test, y_test
    install_hint: str  # what to do when it is found nowhere
    keras_loader: str | None = None  # keras.datasets.<this>.load_data downloads it


@dataclass(frozen=True)
class Subject:
    """How to name one image of the dataset and its classes in a sentence."""

    singular: str
    plural: str


@dataclass(frozen=True)
class DatasetEntry:
    """One `dataset` value and what the rest of the project needs to know of it."""

    name: str
    loader: str  # "published" (files as published), "embedded" (mnist_5k), "csv" or "folder"
    title: str  # how a reader knows it: "Fashion-MNIST"
    class_names: tuple[str, ...] | None = None  # None: read from the user's files
    subject: Subject = Subject("image", "images")
    look_alike: str = ("Look for classes that share a shape or a colour: that is where a model "
                       "makes most of its mistakes.")
    # Whether its own test set comes with it; False: test_fraction is held out (mnist_5k).
    published_test_set: bool = True
    files: PublishedFiles | None = None
    # For csv and folder data: whether its (lower-cased) class names are this dataset's, so
    # that Fashion-MNIST written as CSV is still written about as garments.
    recognises: Callable[[Set[str]], bool] | None = None
    source_title: str | None = None  # the settings table's name for it, if not the title


GARMENTS = Subject("garment", "garments")
DIGITS = Subject("digit", "digits")
DIGITS_LOOK_ALIKE = ("Handwritten digits vary in slant and stroke: 4 and 9, 3 and 5, and 7 and 1 "
                     "can look alike, and that is where most mistakes are expected.")
_FASHION_NAMES = {name.lower() for name in FASHION_MNIST_CLASSES} | {"t-shirt-top"}
_IDX_FILES_HINT = "or the four IDX files into data/raw/"

DATASETS: dict[str, DatasetEntry] = {entry.name: entry for entry in (
    DatasetEntry(
        "mnist", "published", "MNIST", DIGIT_CLASSES, DIGITS, DIGITS_LOOK_ALIKE,
        files=PublishedFiles(
            "idx", ("mnist",), ("mnist.npz",),
            "download mnist.npz (https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
            f"mnist.npz) {_IDX_FILES_HINT}mnist/", keras_loader="mnist"),
        recognises=lambda names: all(name.split()[-1].isdigit() for name in names)),
    DatasetEntry(
        "fashion_mnist", "published", "Fashion-MNIST", FASHION_MNIST_CLASSES, GARMENTS,
        "Trousers and bags have shapes of their own, while T-shirt/top, shirt, pullover and "
        "coat share a silhouette: expect most mistakes among those four.",
        files=PublishedFiles(
            "idx", ("fashion-mnist", "fashion_mnist"), ("fashion-mnist.npz", "fashion_mnist.npz"),
            "`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download the four "
            "IDX files from https://github.com/zalandoresearch/fashion-mnist into "
            "data/raw/fashion-mnist/", keras_loader="fashion_mnist"),
        recognises=lambda names: names <= _FASHION_NAMES),
    DatasetEntry(
        "cifar10", "published", "CIFAR-10", CIFAR10_CLASSES, Subject("photo", "photos"),
        "Cats and dogs, and automobiles and trucks, share shapes and backgrounds: expect most "
        "mistakes between them.",
        files=PublishedFiles(
            "cifar_batches", ("cifar-10-batches-py",
                              "cifar-10-batches-py_extracted/cifar-10-batches-py"), (),
            "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and unpack it "
            "into data/raw/ (it holds cifar-10-batches-py/)", keras_loader="cifar10")),
    DatasetEntry("mnist_5k", "embedded", "MNIST (the 5,000-digit subset)", DIGIT_CLASSES, DIGITS,
                 DIGITS_LOOK_ALIKE, published_test_set=False),
    DatasetEntry("csv", "csv", "CSV", source_title="CSV files"),
    DatasetEntry("folder", "folder", "image-folder", source_title="image folders"),
)}
