from pathlib import Path

import numpy as np
import pytest

from helpers import artifacts


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    artifacts.write_json(target, {"test_accuracy": 0.9})

    def broken_save(temporary: Path) -> None:
        temporary.write_text('{"test_acc')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        artifacts.save_with(target, broken_save)
    assert artifacts.read_json(target) == {"test_accuracy": 0.9}
    assert [path.name for path in tmp_path.iterdir()] == ["metrics.json"]


def test_arrays_round_trip_and_pickles_are_refused(tmp_path: Path) -> None:
    path = artifacts.write_arrays(tmp_path / "a.npz", x=np.arange(3), y=np.eye(2))
    loaded = artifacts.read_arrays(path)
    np.testing.assert_array_equal(loaded["x"], np.arange(3))
    np.savez(tmp_path / "evil.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        artifacts.read_arrays(tmp_path / "evil.npz")


def test_json_accepts_numpy_values(tmp_path: Path) -> None:
    path = artifacts.write_json(tmp_path / "x.json", {"a": np.float32(0.5), "b": np.arange(2)})
    assert artifacts.read_json(path) == {"a": 0.5, "b": [0, 1]}


def test_require_names_the_missing_step(tmp_path: Path) -> None:
    with pytest.raises(artifacts.MissingArtifactError, match="run 04_train"):
        artifacts.require(tmp_path, artifacts.MODEL, "04_train")


def test_provenance_is_recorded() -> None:
    assert artifacts.package_versions()["numpy"] == np.__version__
    assert artifacts.machine_info([])["cpu_count"] >= 1
    assert set(artifacts.git_state()) == {"commit", "uncommitted_changes"}
