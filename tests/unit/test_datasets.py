import gzip
from pathlib import Path

import numpy as np
import pytest
from conftest import FASHION_FILES, idx_bytes, write_fashion_idx

from helpers import artifacts, step_outputs
from helpers.data import datasets, keras_builtin


def test_read_idx_round_trips_gzip_and_plain(tmp_path: Path) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "plain").write_bytes(idx_bytes(array))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "plain"), array)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "packed.gz"), array)


@pytest.mark.parametrize("content, expected", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "first two bytes must be zero"),
    (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x05", "type code 0x0d"),
    (b"\x00\x00\x08\x02\x00\x00", "header cut short"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05", "but the file has 9 bytes"),
])
def test_read_idx_names_the_file_and_the_problem(tmp_path: Path, content: bytes,
                                                 expected: str) -> None:
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(datasets.DatasetFormatError) as error:
        datasets.read_idx(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100, np.uint8)))[:20])
    with pytest.raises(datasets.DatasetFormatError, match=str(path)):
        datasets.read_idx(path)


@pytest.mark.parametrize("compress", [True, False])
def test_load_fashion_mnist_from_data_dir(tmp_path: Path, compress: bool) -> None:
    arrays = write_fashion_idx(tmp_path, compress=compress)
    data = datasets.load_dataset("fashion_mnist", tmp_path, download=False)
    assert data.x_train.shape == (200, 28, 28, 1) and data.x_test.shape == (50, 28, 28, 1)
    assert data.x_train.dtype == np.uint8
    np.testing.assert_array_equal(data.x_train[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert data.source == str(tmp_path) and len(data.files) == 4


def test_data_dir_comes_before_other_locations(tmp_path: Path, monkeypatch) -> None:
    write_fashion_idx(tmp_path / "first", train_count=30, test_count=10)
    write_fashion_idx(tmp_path / "raw" / "fashion-mnist", train_count=40, test_count=10)
    monkeypatch.setattr(keras_builtin, "PROJECT_RAW_DIR", tmp_path / "raw")
    first = datasets.load_dataset("fashion_mnist", tmp_path / "first", download=False)
    assert len(first.y_train) == 30
    assert len(datasets.load_dataset("fashion_mnist", None, download=False).y_train) == 40


def test_missing_dataset_error_lists_what_was_tried(tmp_path: Path, monkeypatch) -> None:
    for name in ("PROJECT_RAW_DIR", "SYSTEM_DATA_DIR", "KERAS_CACHE_DIR"):
        monkeypatch.setattr(keras_builtin, name, tmp_path / name)
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.load_dataset("fashion_mnist", tmp_path / "nowhere", download=False)
    message = str(error.value)
    assert str(tmp_path / "nowhere") in message
    assert str(tmp_path / "SYSTEM_DATA_DIR" / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_images_and_labels_of_different_lengths_are_refused(tmp_path: Path) -> None:
    write_fashion_idx(tmp_path)
    (tmp_path / f"{FASHION_FILES[1]}.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(199, np.uint8))))
    with pytest.raises(datasets.DatasetFormatError, match="199"):
        datasets.load_dataset("fashion_mnist", tmp_path, download=False)


def test_label_outside_the_classes_is_refused(tmp_path: Path) -> None:
    write_fashion_idx(tmp_path)
    labels = np.arange(50, dtype=np.uint8) % 10
    labels[7] = 12
    (tmp_path / f"{FASHION_FILES[3]}.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(datasets.DatasetFormatError, match="label 12 at item 7"):
        datasets.load_dataset("fashion_mnist", tmp_path, download=False)


def test_unknown_dataset_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="fashion_mnist"):
        datasets.load_dataset("imagenet")


def test_subsample_keeps_class_shares(fashion_dir: Path) -> None:
    data = datasets.load_dataset("fashion_mnist", fashion_dir, download=False)
    small = datasets.subsample(data, max_train_images=100, max_test_images=0, seed=1)
    assert len(small.y_train) == 100 and len(small.y_test) == 50
    assert set(np.bincount(small.y_train)) == {10}


def test_write_dataset_records_checksums(fashion_dir: Path, tmp_path: Path) -> None:
    data = datasets.load_dataset("fashion_mnist", fashion_dir, download=False)
    run_dir = tmp_path / "run"
    assert step_outputs.save_dataset(run_dir, data) == [artifacts.DATASET_ARRAYS,
                                                     artifacts.DATASET_INFO]
    info = datasets.read_dataset_info(run_dir)
    assert info["image_shape"] == [28, 28, 1] and len(info["files"]) == 4
    assert info["files"][0]["sha256"] == artifacts.file_sha256(data.files[0])
    saved = artifacts.read_arrays(run_dir / artifacts.DATASET_ARRAYS)
    np.testing.assert_array_equal(saved["x_test"], data.x_test)
    assert datasets.read_dataset_info(run_dir)["class_names"] == list(data.class_names)


def test_pooled_split_holds_out_a_stratified_share_of_all_images(fashion_dir: Path) -> None:
    data = datasets.load_dataset("fashion_mnist", fashion_dir, download=False)
    pooled = datasets.pool_and_split(data, 0.1, seed=3)
    assert len(pooled.y_test) == 25 and len(pooled.y_train) == 225  # of 200 + 50 images
    assert set(np.bincount(pooled.y_test)) <= {2, 3}  # every class keeps its share
    everything = np.concatenate([pooled.x_train, pooled.x_test]).reshape(250, -1)
    original = np.concatenate([data.x_train, data.x_test]).reshape(250, -1)
    assert sorted(map(bytes, everything)) == sorted(map(bytes, original))  # disjoint, complete
    again = datasets.pool_and_split(data, 0.1, seed=3)
    np.testing.assert_array_equal(pooled.y_test, again.y_test)
    assert "pooled" in pooled.source
