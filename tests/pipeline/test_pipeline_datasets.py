"""One pipeline run per `dataset` value: a small subset, one epoch, all seven notebooks.

(fashion_mnist, the default, has its own fuller test in test_pipeline.py; mnist_5k runs
through every notebook in assignments B and E's small runs, test_assignment_reports.py.)
"""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    real_digits,
    write_cifar10_batches,
    write_image_folders,
    write_mnist_npz,
    write_pixel_csv,
)
from test_pipeline import DEFAULT_PARAMS, FIGURES, run_pipeline

from helpers import artifacts


def mnist_npz(data: Path) -> list[str]:
    write_mnist_npz(data / "mnist.npz", train_per_class=100, test_per_class=20)
    return ["-p", "data_dir", str(data)]


def cifar10_batches(data: Path) -> list[str]:
    write_cifar10_batches(data / "cifar-10-batches-py", per_batch=200, test_count=200)
    return ["-p", "data_dir", str(data)]


def one_csv(data: Path) -> list[str]:
    images, labels = real_digits(120)
    path = write_pixel_csv(data / "digits.csv", images, labels, header=False)
    return ["-p", "train_path", str(path), "-p", "test_fraction", "0.2",
            "-p", "class_names", json.dumps([f"digit {n}" for n in range(10)])]


def image_folders(data: Path) -> list[str]:
    images, labels = real_digits(120)
    test = np.arange(len(labels)) % 6 == 0
    names = tuple("0123456789")
    write_image_folders(data / "train", images[~test], labels[~test], names)
    write_image_folders(data / "test", images[test], labels[test], names)
    # Colour at 32x32: exercises resizing and three channels through every notebook.
    return ["-p", "train_path", str(data / "train"), "-p", "test_path", str(data / "test"),
            "-p", "image_size", "32", "-p", "color_mode", "rgb"]


@pytest.mark.parametrize("dataset, prepare, image_shape, test_images", [
    ("mnist", mnist_npz, [28, 28, 1], 200),
    ("cifar10", cifar10_batches, [32, 32, 3], 200),
    ("csv", one_csv, [28, 28, 1], 240),
    ("folder", image_folders, [32, 32, 3], 200),
])
def test_each_dataset_runs_through_all_six_notebooks(tmp_path: Path, dataset: str, prepare,
                                                     image_shape: list[int],
                                                     test_images: int) -> None:
    run_dir = tmp_path / "run"
    # Batches of 16 give batch normalization enough steps (~60) to settle in one epoch.
    result = run_pipeline("-f", str(DEFAULT_PARAMS), "-p", "dataset", dataset,
                          *prepare(tmp_path / "data"), "-p", "epochs", "1",
                          "-p", "batch_size", "16", "--run-dir", str(run_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    info = json.loads((run_dir / artifacts.DATASET_INFO).read_text())
    assert info["name"] == dataset and info["image_shape"] == image_shape
    metrics = json.loads((run_dir / artifacts.METRICS).read_text())
    assert metrics["test_images"] == test_images and metrics["epochs_run"] == 1
    assert metrics["test_accuracy"] > 0.5, metrics["test_accuracy"]  # chance is 0.1
    for name in FIGURES:
        assert artifacts.figure_path(run_dir, name).stat().st_size > 5_000, name


def test_a_zip_of_photos_from_a_mac_loads_with_size_and_colour_left_to_auto(tmp_path: Path) -> None:
    from photos import write_photo_folders, zip_folder

    photos = write_photo_folders(tmp_path / "photos", per_class=20)
    archive = zip_folder(photos, tmp_path / "photos.zip", top_folder=True)
    run_dir = tmp_path / "run"
    # Only the path: image_size and color_mode are auto; 01 is what this test reads.
    result = run_pipeline("-f", "params/folder.yaml", "-p", "train_path", str(archive),
                          "-p", "test_path", "null",
                          "--run-dir", str(run_dir), "--to", "02_preprocess")
    assert result.returncode == 0, result.stdout + result.stderr
    info = json.loads((run_dir / artifacts.DATASET_INFO).read_text())
    assert info["class_names"] == ["circle", "square", "triangle"]
    assert info["image_shape"] == [32, 32, 3]
    assert {entry["reason"]: entry["count"] for entry in info["skipped"]} == {
        "hidden": 3 * 22 + 1, "macos_archive": 1, "system": 6, "not_image": 3,
        "outside_classes": 1}
    assert info["files"][0]["path"] == str(archive)
    loaded = (run_dir / "01_load_data.ipynb").read_text()
    assert "67 hidden files and folders" in loaded and "was left to `auto`" in loaded
