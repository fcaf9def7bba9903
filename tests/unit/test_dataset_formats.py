"""Each `dataset` value loads from small files in its exact real format, written here."""

from pathlib import Path

import numpy as np
import pytest
from conftest import (
    FASHION_FILES,
    idx_bytes,
    real_digits,
    write_cifar10_batches,
    write_image_folders,
    write_mnist_npz,
    write_pixel_csv,
)

from helpers.data import convert, datasets, keras_builtin


@pytest.fixture(autouse=True)
def no_shared_locations(tmp_path: Path, monkeypatch) -> None:
    """Only the folders a test names are searched: never the machine's real data."""
    for name in ("PROJECT_RAW_DIR", "SYSTEM_DATA_DIR", "KERAS_CACHE_DIR"):
        monkeypatch.setattr(keras_builtin, name, tmp_path / "shared" / name)


def test_mnist_from_idx_files(tmp_path: Path) -> None:
    images, labels = real_digits(5)
    for name, array in zip(FASHION_FILES, (images, labels, images[:20], labels[:20]),
                           strict=True):
        (tmp_path / "mnist").mkdir(exist_ok=True)
        (tmp_path / "mnist" / name).write_bytes(idx_bytes(array))
    data = datasets.load_dataset("mnist", tmp_path, download=False)  # finds data_dir/mnist/
    assert data.x_train.shape == (50, 28, 28, 1) and data.class_names[3] == "3"
    np.testing.assert_array_equal(data.x_train[..., 0], images)
    assert data.source == str(tmp_path / "mnist") and len(data.files) == 4


def test_mnist_from_keras_npz_in_keras_cache(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "keras-cache"
    monkeypatch.setattr(keras_builtin, "KERAS_CACHE_DIR", cache)
    write_mnist_npz(cache / "mnist.npz")  # where keras.datasets.mnist.load_data() caches it
    data = datasets.load_dataset("mnist", download=False)
    assert data.x_train.shape == (200, 28, 28, 1) and data.x_test.shape == (50, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and set(np.unique(data.y_test)) == set(range(10))
    assert data.files == (cache / "mnist.npz",)


def test_cifar10_from_python_batches(tmp_path: Path) -> None:
    arrays = write_cifar10_batches(tmp_path / "cifar-10-batches-py")
    data = datasets.load_dataset("cifar10", tmp_path, download=False)
    assert data.x_train.shape == (200, 32, 32, 3) and data.x_test.shape == (40, 32, 32, 3)
    # Rows are red, green, blue planes: the loader must turn them into channels-last pixels.
    np.testing.assert_array_equal(data.x_train, arrays["x_train"])
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.class_names[0] == "airplane" and data.class_names[9] == "truck"
    assert len(data.files) == 7


def test_cifar10_batch_that_would_run_code_is_refused(tmp_path: Path) -> None:
    import pickle

    directory = tmp_path / "cifar-10-batches-py"
    write_cifar10_batches(directory)

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    (directory / "data_batch_2").write_bytes(pickle.dumps({b"data": Payload()}))
    with pytest.raises(datasets.DatasetFormatError, match="data_batch_2.*refusing to load"):
        datasets.load_dataset("cifar10", directory, download=False)


@pytest.mark.parametrize("header", [True, False])
def test_csv_train_and_test_files_with_or_without_header(tmp_path: Path, header: bool) -> None:
    images, labels = real_digits(6)
    test = np.arange(len(labels)) % 6 == 0
    write_pixel_csv(tmp_path / "train.csv", images[~test], labels[~test], header)
    write_pixel_csv(tmp_path / "test.csv", images[test], labels[test], header)
    data = datasets.load_dataset("csv", train_path=tmp_path / "train.csv",
                                 test_path=tmp_path / "test.csv")
    assert data.image_shape == (28, 28, 1)  # derived from the 784 pixel columns
    np.testing.assert_array_equal(data.x_train[..., 0], images[~test])
    np.testing.assert_array_equal(data.y_test, labels[test])
    assert data.class_names == tuple("0123456789")


def test_one_csv_is_split_stratified_and_reproducibly(tmp_path: Path) -> None:
    images, labels = real_digits(10)
    path = write_pixel_csv(tmp_path / "all.csv", images, labels)
    first = datasets.load_dataset("csv", train_path=path, test_fraction=0.3, seed=7,
                                  class_names=[f"digit {n}" for n in range(10)])
    again = datasets.load_dataset("csv", train_path=path, test_fraction=0.3, seed=7)
    assert len(first.y_train) == 70 and len(first.y_test) == 30
    assert set(np.bincount(first.y_test)) == {3}  # every class keeps its share
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert first.class_names[2] == "digit 2"


def test_csv_label_column_by_name_or_last_position_and_rgb_shape(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (20, 4, 4, 3), dtype=np.uint8)
    labels = np.arange(20) % 2
    rows = np.concatenate([images.reshape(20, -1), labels[:, None]], axis=1)
    header = ",".join([*(f"p{n}" for n in range(48)), "class"])
    path = tmp_path / "colour.csv"
    path.write_text(header + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n")
    by_name = datasets.load_dataset("csv", train_path=path, label_column="class",
                                    image_shape=[4, 4, 3], test_fraction=0.5)
    by_position = datasets.load_dataset("csv", train_path=path, label_column=-1,
                                        image_shape=[4, 4, 3], test_fraction=0.5)
    assert by_name.image_shape == (4, 4, 3)
    np.testing.assert_array_equal(by_name.x_train, by_position.x_train)
    np.testing.assert_array_equal(np.sort(np.concatenate([by_name.y_train, by_name.y_test])),
                                  np.sort(labels))


@pytest.mark.parametrize("pixel_columns, shape", [(784, (28, 28, 1)), (3072, (32, 32, 3)),
                                                  (64, (8, 8, 1))])
def test_image_shape_is_derived_from_the_column_count(pixel_columns: int,
                                                      shape: tuple[int, int, int]) -> None:
    from helpers.data.pixel_csv import image_shape_for

    assert image_shape_for(pixel_columns, None, Path("x.csv")) == shape


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".gif"])
def test_image_folders_of_any_size_are_resized(tmp_path: Path, suffix: str) -> None:
    generator = np.random.default_rng(1)
    images = generator.integers(0, 256, (12, 40, 30, 3), dtype=np.uint8)
    labels = np.arange(12) % 3
    write_image_folders(tmp_path / "train", images, labels, ("cat", "dog", "fox"), suffix)
    write_image_folders(tmp_path / "test", images[:6], labels[:6], ("cat", "dog", "fox"), suffix)
    (tmp_path / "train" / "cat" / "notes.txt").write_text("not an image: ignored")
    gray = datasets.load_dataset("folder", train_path=tmp_path / "train",
                                 test_path=tmp_path / "test", image_size=[20, 16])
    rgb = datasets.load_dataset("folder", train_path=tmp_path / "train",
                                test_path=tmp_path / "test", image_size=24, color_mode="rgb")
    assert gray.x_train.shape == (12, 20, 16, 1) and rgb.x_train.shape == (12, 24, 24, 3)
    assert gray.class_names == ("cat", "dog", "fox")
    assert sorted(np.bincount(gray.y_train)) == [4, 4, 4]


def test_one_image_folder_is_split_reproducibly_and_exact_sizes_are_untouched(
        tmp_path: Path) -> None:
    images, labels = real_digits(5)
    write_image_folders(tmp_path / "digits", images, labels, tuple("0123456789"))
    first = datasets.load_dataset("folder", train_path=tmp_path / "digits", test_fraction=0.2)
    again = datasets.load_dataset("folder", train_path=tmp_path / "digits", test_fraction=0.2)
    assert len(first.y_test) == 10 and set(np.bincount(first.y_test)) == {1}
    np.testing.assert_array_equal(first.x_train, again.x_train)
    # 28x28 grayscale PNGs round-trip bit for bit: no resize, no colour conversion.
    restored = np.concatenate([first.x_train, first.x_test])[..., 0]
    assert {image.tobytes() for image in restored} == {image.tobytes() for image in images}


def test_embedded_mnist_5k_needs_no_files() -> None:
    data = datasets.load_dataset("mnist_5k", test_fraction=0.2, seed=3)
    assert len(data.y_train) == 4000 and len(data.y_test) == 1000
    assert data.image_shape == (28, 28, 1) and set(np.bincount(data.y_test)) == {100}
    assert 30 < data.x_train.mean() < 40  # real digits: mostly black background


def test_export_csv_and_images_round_trip(tmp_path: Path) -> None:
    images, labels = real_digits(4)
    test = np.arange(len(labels)) % 4 == 0
    original = datasets.Dataset("mnist", images[~test, ..., None], labels[~test],
                                images[test, ..., None], labels[test],
                                tuple("0123456789"), "test")
    train_csv, test_csv = convert.export_csv(original, tmp_path / "csv")
    assert train_csv.read_text().startswith("label,pixel1,pixel2,")
    from_csv = datasets.load_dataset("csv", train_path=train_csv, test_path=test_csv)
    np.testing.assert_array_equal(from_csv.x_train, original.x_train)
    np.testing.assert_array_equal(from_csv.y_test, original.y_test)
    convert.export_images(original, tmp_path / "png")
    from_png = datasets.load_dataset("folder", train_path=tmp_path / "png" / "train",
                                     test_path=tmp_path / "png" / "test")
    assert sorted(from_png.y_train.tolist()) == sorted(original.y_train.tolist())
    with pytest.raises(FileExistsError, match="already exists"):
        convert.export_images(original, tmp_path / "png")


def test_export_command_writes_the_seeds_csv_format(tmp_path: Path) -> None:
    from helpers.data.__main__ import main

    assert main(["export-csv", "mnist_5k", str(tmp_path / "out"), "--max-train-images", "100",
                 "--max-test-images", "20"]) == 0
    lines = (tmp_path / "out" / "train.csv").read_text().splitlines()
    assert len(lines) == 101 and len(lines[0].split(",")) == 785
    assert main(["export-csv", "csv", str(tmp_path / "out2")]) == 1  # csv needs --train-path
