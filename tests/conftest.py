"""Shared fixtures: small datasets in the exact real file formats, written by the tests."""

from __future__ import annotations

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


def real_fashion_mnist_available() -> bool:
    """Whether the real Fashion-MNIST files are installed (no download is tried)."""
    from helpers import datasets

    try:
        datasets.load_fashion_mnist(download=False)
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
    """`python -m helpers.serve` on a free loopback port for the session; yields its URL."""
    from helpers import loadtest

    port = loadtest.free_port()
    server = loadtest.start_server(trained_run, port)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)
