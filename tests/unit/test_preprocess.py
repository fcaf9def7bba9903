from pathlib import Path

import numpy as np
import pytest

from helpers import artifacts
from helpers.data import preprocess


def test_stratified_split_is_disjoint_complete_stratified_and_seeded() -> None:
    labels = np.repeat(np.arange(10), 100)
    train, validation = preprocess.stratified_split(labels, 0.1, seed=3)
    assert len(validation) == 100 and len(train) == 900
    assert not set(train) & set(validation)
    assert set(train) | set(validation) == set(range(1000))
    assert set(np.bincount(labels[validation])) == {10}
    again, _ = preprocess.stratified_split(labels, 0.1, seed=3)
    other, _ = preprocess.stratified_split(labels, 0.1, seed=4)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_fraction_outside_zero_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="val_fraction"):
        preprocess.stratified_split(np.repeat(np.arange(3), 10), fraction, seed=0)


def test_split_that_would_leave_a_class_out_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer images than the 10 classes"):
        preprocess.stratified_split(np.repeat(np.arange(10), 3), 0.1, seed=0)


def test_single_image_class_is_refused() -> None:
    labels = np.concatenate([np.repeat(np.arange(3), 20), [3]])
    with pytest.raises(ValueError, match="class 3 has a single"):
        preprocess.stratified_split(labels, 0.2, seed=0)


def test_label_encodings() -> None:
    labels = np.array([0, 2, 1])
    np.testing.assert_array_equal(preprocess.encode_labels(labels, 3, "sparse"), labels)
    np.testing.assert_array_equal(preprocess.encode_labels(labels, 3, "one_hot"),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(ValueError, match="label_encoding='onehot'.*sparse, one_hot"):
        preprocess.encode_labels(labels, 3, "onehot")


def test_scale_pixels_maps_bytes_to_unit_interval() -> None:
    scaled = preprocess.scale_pixels(np.array([0, 51, 255], dtype=np.uint8))
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [0.0, 0.2, 1.0])


def test_load_split_keeps_test_apart(tmp_path: Path) -> None:
    x_train = np.arange(20 * 4, dtype=np.uint8).reshape(20, 2, 2, 1)
    artifacts.write_arrays(tmp_path / artifacts.DATASET_ARRAYS, x_train=x_train,
                           y_train=np.arange(20) % 2, x_test=x_train[:4] + 1,
                           y_test=np.array([0, 1, 0, 1]))
    artifacts.write_json(tmp_path / artifacts.DATASET_INFO, {"class_names": ["a", "b"]})
    artifacts.write_json(tmp_path / artifacts.PREPROCESS_INFO, {"label_encoding": "one_hot"})
    artifacts.write_arrays(tmp_path / artifacts.SPLIT_INDICES, train=np.arange(2, 20),
                           validation=np.array([0, 1]))
    validation = preprocess.load_split(tmp_path, "validation")
    np.testing.assert_array_equal(validation.images, x_train[:2])
    np.testing.assert_array_equal(validation.labels, [[1, 0], [0, 1]])
    assert len(preprocess.load_split(tmp_path, "train").labels) == 18
    np.testing.assert_array_equal(preprocess.load_split(tmp_path, "test").images, x_train[:4] + 1)
    with pytest.raises(ValueError, match="split='val'"):
        preprocess.load_split(tmp_path, "val")


def test_missing_artifact_names_the_step_to_run(tmp_path: Path) -> None:
    with pytest.raises(artifacts.MissingArtifactError, match="run 01_load_data"):
        preprocess.load_split(tmp_path, "train")
