"""07_export's helpers: every format written, measured, and faithful to the Keras model."""

from pathlib import Path

import numpy as np
import pytest
from trained_run import build_synthetic_run

from helpers import artifacts, parameters
from helpers.data import preprocess
from helpers.evaluation import export, export_benchmark, inference
from helpers.model import networks, own_model

pytestmark = pytest.mark.xdist_group("export")  # one xdist worker: module fixtures built once


@pytest.fixture(scope="module")
def exported(trained_run: Path) -> tuple[Path, dict[str, Path],
                                         list[export_benchmark.FormatFigures]]:
    paths = export.export_all(trained_run, seed=42, calibration_count=200)
    rows = export_benchmark.measure_all(trained_run, paths, latency_images=20)
    export_benchmark.write_export_info(trained_run, rows, test_images=10_000)
    return trained_run, paths, rows


@pytest.mark.slow
def test_every_format_is_written_under_export(exported) -> None:
    run_dir, paths, _ = exported
    assert set(paths) == set(export.FORMATS)
    assert (run_dir / export.KERAS_EXPORT).read_bytes() == (run_dir / artifacts.MODEL).read_bytes()
    assert (run_dir / export.SAVED_MODEL / "saved_model.pb").is_file()
    for name in export.TFLITE_MODELS.values():
        assert (run_dir / name).stat().st_size > 10_000
    # Nothing half-written is left beside them.
    assert not [path for path in (run_dir / export.EXPORT_DIR).iterdir()
                if path.name.startswith(".")]


@pytest.mark.slow
def test_saved_model_has_the_signature_tensorflow_serving_calls(exported) -> None:
    from helpers.backend import tf

    run_dir, paths, _ = exported
    signature = tf.saved_model.load(str(paths["saved_model"])).signatures["serving_default"]
    (spec,) = signature.structured_input_signature[1].values()
    model = networks.load_model(run_dir / artifacts.MODEL)
    assert tuple(spec.shape) == tuple(model.input_shape) and spec.dtype == tf.float32


@pytest.mark.slow
def test_every_format_matches_keras_on_the_whole_test_set(exported) -> None:
    _, _, rows = exported
    by_format = {row.format: row for row in rows}
    assert set(by_format) == set(export.FORMATS)
    keras_row = by_format["keras"]
    assert keras_row.accuracy > 0.7  # two epochs on 3,600 real images
    for name in ("saved_model", "tflite_float32"):
        assert by_format[name].agreement_with_keras >= 0.9995, name
    assert by_format["tflite_float16"].agreement_with_keras >= 0.995
    assert export_benchmark.check_int8_targets(rows) == []
    assert by_format["tflite_int8"].size_bytes < by_format["tflite_float32"].size_bytes / 3
    for row in rows:
        assert row.latency_ms > 0 and row.throughput_images_per_s > 0


@pytest.mark.slow
def test_tflite_float32_gives_the_keras_probabilities(exported) -> None:
    run_dir, paths, _ = exported
    images = preprocess.load_split(run_dir, "test").images[:64]
    expected = networks.load_model(paths["keras"]).predict(images, verbose=0)
    actual = inference.TFLiteModel(paths["tflite_float32"])(images)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


@pytest.mark.slow
def test_int8_model_is_full_integer_and_takes_raw_pixels(exported) -> None:
    _, paths, _ = exported
    model = inference.TFLiteModel(paths["tflite_int8"])
    assert model.input["dtype"] == np.int8 and model.output["dtype"] == np.int8
    scale, zero_point = model.input["quantization"]
    # Calibrated on 0-255 pixels: one quantization step per pixel value, exact for uint8 input.
    assert scale == pytest.approx(1.0, rel=0.01) and zero_point == -128
    tensors = model.interpreter.get_tensor_details()
    float_tensors = [tensor["name"] for tensor in tensors if tensor["dtype"] == np.float32]
    assert not float_tensors, f"float tensors left in the int8 model: {float_tensors[:5]}"


@pytest.mark.slow
def test_export_json_holds_the_table(exported) -> None:
    run_dir, _, _ = exported
    info = artifacts.read_json(run_dir / export.EXPORT_INFO)
    assert [row["format"] for row in info["formats"]] == list(export.FORMATS)
    assert all(not Path(row["path"]).is_absolute() for row in info["formats"])
    assert info["test_images"] == 10_000 and info["machine"]["cpu_count"]
    assert info["test_time_mirror"] is False


@pytest.mark.slow
def test_a_model_averaging_with_the_mirror_image_exports_so_in_every_format(
        tmp_path: Path) -> None:
    run_dir = build_synthetic_run(tmp_path / "mirror", (28, 28, 1), ("a", "b", "c"))
    model_path = run_dir / artifacts.MODEL
    averaging = networks.with_mirror_averaging(networks.load_model(model_path))
    artifacts.save_with(model_path, averaging.save)
    paths = export.export_all(run_dir, calibration_count=50)
    rows = export_benchmark.measure_all(run_dir, paths, latency_images=5)
    export_benchmark.write_export_info(run_dir, rows, test_images=30)
    assert artifacts.read_json(run_dir / export.EXPORT_INFO)["test_time_mirror"] is True
    images = preprocess.load_split(run_dir, "test").images
    expected = averaging.predict(images, verbose=0)
    for name in ("tflite_float32", "tflite_float16"):
        np.testing.assert_allclose(inference.TFLiteModel(paths[name])(images), expected,
                                   atol=1e-3, err_msg=name)


def test_calibration_images_come_from_training_and_follow_the_seed() -> None:
    train = np.arange(1000 * 4, dtype=np.uint8).reshape(1000, 2, 2, 1)
    first = export.calibration_images(train, 50, seed=1)
    assert len(first) == 50 and np.array_equal(first, export.calibration_images(train, 50, 1))
    assert not np.array_equal(first, export.calibration_images(train, 50, seed=2))
    assert len(export.calibration_images(train[:10], 50, seed=1)) == 10
    with pytest.raises(ValueError, match="training split is empty"):
        export.calibration_images(train[:0], 50, seed=1)


@pytest.mark.slow
def test_unknown_variant_and_int8_without_calibration_are_refused(exported) -> None:
    _, paths, _ = exported
    with pytest.raises(ValueError, match="variant 'int4' is not known"):
        export.convert_tflite(paths["saved_model"], "int4")
    with pytest.raises(ValueError, match="needs calibration images"):
        export.convert_tflite(paths["saved_model"], "int8")


def test_atomic_directory_keeps_the_old_folder_when_writing_fails(tmp_path: Path) -> None:
    destination = tmp_path / "saved_model"
    with export.atomic_directory(destination) as temporary:
        (temporary / "version").write_text("1")
    with pytest.raises(RuntimeError), export.atomic_directory(destination) as temporary:
        (temporary / "version").write_text("2")
        raise RuntimeError("killed mid-export")
    assert (destination / "version").read_text() == "1"
    assert [path.name for path in tmp_path.iterdir()] == ["saved_model"]


@pytest.mark.slow
def test_an_rgb_model_of_another_size_exports_too(tmp_path: Path) -> None:
    run_dir = build_synthetic_run(tmp_path / "rgb", (32, 32, 3), ("cat", "dog", "ship"))
    paths = export.export_all(run_dir, calibration_count=50)
    rows = export_benchmark.measure_all(run_dir, paths, latency_images=5)
    assert {row.format for row in rows} == set(export.FORMATS)
    int8 = inference.TFLiteModel(paths["tflite_int8"])
    assert int8.input_shape == (32, 32, 3)
    assert int8(np.zeros((2, 32, 32, 3), np.uint8)).shape == (2, 3)


def test_reference_export_meets_the_int8_targets_and_the_readme_quotes_it() -> None:
    import re

    reference = artifacts.PROJECT_ROOT / "reports" / "reference" / "default"
    info = artifacts.read_json(reference / export.EXPORT_INFO)
    rows = [export_benchmark.FormatFigures(**row) for row in info["formats"]]
    assert info["test_images"] == 10_000 and [row.format for row in rows] == list(export.FORMATS)
    assert export_benchmark.check_int8_targets(rows) == []
    readme = (artifacts.PROJECT_ROOT / "docs" / "serving.md").read_text()
    table = re.search(r"<!-- export-table -->(.*?)<!-- /export-table -->", readme, re.S)
    assert table, "docs/serving.md lost its export table markers"
    lines = [line for line in table.group(1).splitlines() if line.startswith("| ")][2:]
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert f"| {row.accuracy:.4f} |" in line and f"{row.size_bytes / 1e6:.2f} MB" in line


@pytest.mark.slow
def test_a_format_that_cannot_be_made_is_left_out_with_its_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = build_synthetic_run(tmp_path / "int8-fails", (28, 28, 1), ("a", "b", "c"))
    (run_dir / export.TFLITE_MODELS["int8"]).parent.mkdir(parents=True, exist_ok=True)
    (run_dir / export.TFLITE_MODELS["int8"]).write_bytes(b"an earlier export's file")
    convert = export.convert_tflite

    def no_int8(saved_model_dir: Path, variant: str, calibration=None) -> bytes:
        if variant == "int8":
            raise RuntimeError("'tfl.custom_op' op is neither a custom op nor a flex op\n"
                               "the converter's many other lines")
        return convert(saved_model_dir, variant, calibration)

    monkeypatch.setattr(export, "convert_tflite", no_int8)
    paths = export.export_all(run_dir, calibration_count=50)
    assert set(paths) == set(export.FORMATS) - {"tflite_int8"}
    assert paths.not_made == {"tflite_int8": "RuntimeError: 'tfl.custom_op' op is neither a "
                                             "custom op nor a flex op"}
    assert not (run_dir / export.TFLITE_MODELS["int8"]).exists()  # no stale file passes for it
    rows = export_benchmark.measure_all(run_dir, paths, latency_images=5)
    assert export_benchmark.check_int8_targets(rows) == [
        "there is no int8 model: it could not be made (see the formats above)"]
    export_benchmark.write_export_info(run_dir, rows, test_images=30, not_made=paths.not_made)
    info = artifacts.read_json(run_dir / export.EXPORT_INFO)
    assert info["made"] == ["keras", "saved_model", "tflite_float32", "tflite_float16"]
    assert info["not_made"] == paths.not_made

    def no_saved_model(model, destination: Path) -> Path:
        raise ValueError("a layer the SavedModel exporter cannot trace")

    monkeypatch.setattr(export, "export_saved_model", no_saved_model)
    paths = export.export_all(run_dir, calibration_count=50)
    assert list(paths) == ["keras"] and not (run_dir / export.SAVED_MODEL).exists()
    assert paths.not_made["saved_model"] == "ValueError: a layer the SavedModel exporter " \
                                            "cannot trace"
    assert paths.not_made["tflite_float32"] == "made from the SavedModel, which was not made"


@pytest.mark.slow
def test_an_operation_tflite_lacks_leaves_only_the_tflite_formats_out(tmp_path: Path) -> None:
    run_dir = build_synthetic_run(tmp_path / "erfinv", (8, 8, 1), ("a", "b"))
    checked = parameters.validate({"architecture": "file", "model_file": str(
        artifacts.PROJECT_ROOT / "tests" / "own_models" / "tflite_lacks_op.py")})
    own_model.keep_source(run_dir, checked)
    artifacts.save_with(run_dir / artifacts.MODEL,
                        networks.build_model((8, 8, 1), 2, checked).save)
    paths = export.export_all(run_dir, calibration_count=20)
    assert list(paths) == ["keras", "saved_model"]
    assert (run_dir / export.EXPORT_DIR / own_model.MODEL_SOURCE).is_file()
    reason = "ConverterError: 'tf.Erfinv' op is neither a custom op nor a flex op"
    assert paths.not_made == {f"tflite_{variant}": reason for variant in export.TFLITE_MODELS}
    rows = export_benchmark.measure_all(run_dir, paths, latency_images=3)
    export_benchmark.write_export_info(run_dir, rows, test_images=30, not_made=paths.not_made)
    info = artifacts.read_json(run_dir / export.EXPORT_INFO)
    assert info["made"] == ["keras", "saved_model"] and info["not_made"] == paths.not_made
