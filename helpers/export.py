"""Ship a trained model: Keras, a SavedModel for TensorFlow Serving, TFLite float32/float16/int8.

Every format is measured the same way on the same images (accuracy, file size, latency of
one image, throughput in batches), so the table says what each format costs and gives up.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.artifacts import atomic_directory  # noqa: F401 - export's public name too
from helpers.streams import native_stderr_to

# Stable names inside the run directory; the server and the CLI read them.
EXPORT_DIR = "export"
KERAS_EXPORT = f"{EXPORT_DIR}/model.keras"
SAVED_MODEL = f"{EXPORT_DIR}/saved_model"  # a folder: what TensorFlow Serving loads
TFLITE_MODELS = {variant: f"{EXPORT_DIR}/model_{variant}.tflite"
                 for variant in ("float32", "float16", "int8")}
EXPORT_INFO = f"{EXPORT_DIR}/export.json"  # the measurement table
FORMATS = ("keras", "saved_model", *(f"tflite_{variant}" for variant in TFLITE_MODELS))

# A few hundred images cover the activations' ranges: TensorFlow's guide suggests 100-500.
CALIBRATION_IMAGES = 500
LATENCY_IMAGES = 200
THROUGHPUT_BATCH_SIZE = 256

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FormatFigures:
    """One row of the export table."""

    format: str
    path: str
    size_bytes: int
    accuracy: float
    latency_ms: float  # median over single-image calls
    throughput_images_per_s: float  # the whole test set in batches
    agreement_with_keras: float  # share of test images given the same class as the Keras model


def file_size(path: str | Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size


def copy_keras_model(source: Path, destination: Path) -> Path:
    """The trained .keras file, copied atomically so export/ holds every format together."""
    return artifacts.save_with(destination, lambda temporary: shutil.copyfile(source, temporary))


def export_saved_model(model, destination: Path) -> Path:
    """A SavedModel with a `serving_default` signature taking raw float pixels (TF Serving)."""
    # TensorFlow logs "Assets written to <temporary folder>" through Python logging even
    # with verbose=False: a line that names a folder which no longer exists.
    tensorflow_logger = logging.getLogger("tensorflow")
    previous_level = tensorflow_logger.level
    tensorflow_logger.setLevel(logging.WARNING)
    try:
        with atomic_directory(destination) as temporary, native_stderr_to(os.devnull):
            model.export(str(temporary), format="tf_saved_model", verbose=False)
    finally:
        tensorflow_logger.setLevel(previous_level)
    return destination


def calibration_images(train_images: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A seeded random sample of training images for int8 calibration (never test images)."""
    if len(train_images) == 0:
        raise ValueError("int8 calibration needs training images; the training split is empty")
    generator = np.random.default_rng(seed)
    chosen = generator.choice(len(train_images), size=min(count, len(train_images)),
                              replace=False)
    return train_images[np.sort(chosen)]


def convert_tflite(saved_model_dir: Path, variant: str,
                   calibration: np.ndarray | None = None) -> bytes:
    """Convert the SavedModel: float32 as is, float16 weights, or int8 weights and activations.

    int8 is full-integer: every op runs in 8-bit integers, with int8 input and output
    tensors whose scale and zero point sit in the model (a microcontroller or an Edge TPU
    can run it); `calibration` images give the activations' ranges.
    """
    from helpers.backend import tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    if variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        if calibration is None or len(calibration) == 0:
            raise ValueError("variant='int8' needs calibration images")
        images = calibration.astype(np.float32)

        def representative_dataset() -> Iterator[list[np.ndarray]]:
            for index in range(len(images)):
                yield [images[index: index + 1]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    elif variant != "float32":
        raise ValueError(f"TFLite variant {variant!r} is not known; valid: "
                         f"{', '.join(TFLITE_MODELS)}")
    # The converter's MLIR passes log pages of C++ lines; errors still raise.
    with native_stderr_to(os.devnull):
        return converter.convert()


def write_tflite(saved_model_dir: Path, destination: Path, variant: str,
                 calibration: np.ndarray | None = None) -> Path:
    """Convert and write one TFLite model atomically."""
    content = convert_tflite(saved_model_dir, variant, calibration)
    with artifacts.atomic_path(destination) as temporary:
        temporary.write_bytes(content)
    return destination


class TFLiteModel:
    """A TFLite interpreter that takes raw pixels and returns float class probabilities.

    Quantized inputs and outputs are converted with the scale and zero point stored in the
    model, so callers treat every variant alike.
    """

    def __init__(self, path: str | Path, num_threads: int | None = None) -> None:
        from helpers.backend import tf

        with warnings.catch_warnings():
            # tf.lite.Interpreter warns that LiteRT will replace it; it is what TF ships.
            warnings.simplefilter("ignore")
            self.interpreter = tf.lite.Interpreter(model_path=str(path),
                                                   num_threads=num_threads)
        self.path = Path(path)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.input_shape = tuple(int(size) for size in self.input["shape"][1:])
        self._batch_size = 0

    def _resize(self, batch_size: int) -> None:
        if batch_size != self._batch_size:
            self.interpreter.resize_tensor_input(self.input["index"],
                                                 [batch_size, *self.input_shape])
            # "Created TensorFlow Lite XNNPACK delegate" is logged in C++ on allocation.
            with native_stderr_to(os.devnull):
                self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
            self.output = self.interpreter.get_output_details()[0]
            self._batch_size = batch_size

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (float32) of a batch of raw-pixel images."""
        self._resize(len(images))
        values = images.astype(np.float32)
        scale, zero_point = self.input["quantization"]
        if self.input["dtype"] in (np.int8, np.uint8):
            limits = np.iinfo(self.input["dtype"])
            values = np.clip(np.round(values / scale + zero_point), limits.min, limits.max)
        self.interpreter.set_tensor(self.input["index"], values.astype(self.input["dtype"]))
        self.interpreter.invoke()
        result = self.interpreter.get_tensor(self.output["index"])
        scale, zero_point = self.output["quantization"]
        if self.output["dtype"] in (np.int8, np.uint8):
            return ((result.astype(np.float32) - zero_point) * scale).astype(np.float32)
        return result.astype(np.float32)


def saved_model_predictor(path: Path) -> Predict:
    """The SavedModel's serving signature, as TensorFlow Serving would call it."""
    from helpers.backend import tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    input_name = next(iter(signature.structured_input_signature[1]))
    output_name = next(iter(signature.structured_outputs))

    def predict(images: np.ndarray) -> np.ndarray:
        tensor = tf.constant(images.astype(np.float32))
        return signature(**{input_name: tensor})[output_name].numpy()

    predict.keep_alive = loaded  # the signature holds only a weak reference to its variables
    return predict


def keras_predictor(model) -> Predict:
    """The Keras model's forward pass, compiled once for any batch size (no predict() overhead)."""
    from helpers.backend import tf

    forward = tf.function(lambda images: model(images, training=False), reduce_retracing=True)

    def predict(images: np.ndarray) -> np.ndarray:
        return forward(tf.constant(images.astype(np.float32))).numpy()

    return predict


def batched(predict: Predict, images: np.ndarray, batch_size: int) -> np.ndarray:
    """Predict in fixed-size batches; the last one is padded so no new shape is compiled."""
    results = []
    for start in range(0, len(images), batch_size):
        batch = images[start: start + batch_size]
        missing = batch_size - len(batch)
        if missing:
            batch = np.concatenate([batch, np.zeros((missing, *batch.shape[1:]), batch.dtype)])
        results.append(predict(batch)[: batch_size - missing])
    return np.concatenate(results)


def median_latency_ms(predict: Predict, images: np.ndarray) -> float:
    """Median milliseconds of one single-image call, after one warm-up call."""
    predict(images[:1])
    times = []
    for index in range(len(images)):
        started = time.perf_counter()
        predict(images[index: index + 1])
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def measure(name: str, path: Path, predict: Predict, test_images: np.ndarray,
            test_labels: np.ndarray, reference_classes: np.ndarray | None,
            latency_images: int = LATENCY_IMAGES,
            batch_size: int = THROUGHPUT_BATCH_SIZE) -> tuple[FormatFigures, np.ndarray]:
    """One format's figures on the test set, and its class probabilities."""
    batched(predict, test_images[:batch_size], batch_size)  # warm-up: compile, allocate
    started = time.perf_counter()
    probabilities = batched(predict, test_images, batch_size)
    seconds = time.perf_counter() - started
    classes = np.argmax(probabilities, axis=1)
    agreement = 1.0 if reference_classes is None else float(np.mean(classes ==
                                                                     reference_classes))
    figures = FormatFigures(
        format=name, path=str(path), size_bytes=file_size(path),
        accuracy=float(np.mean(classes == test_labels)),
        latency_ms=median_latency_ms(predict, test_images[:latency_images]),
        throughput_images_per_s=float(len(test_images) / seconds),
        agreement_with_keras=agreement)
    return figures, probabilities


def export_all(run_dir: str | Path, seed: int = 42,
               calibration_count: int = CALIBRATION_IMAGES) -> dict[str, Path]:
    """Write every format of the run's trained model under run_dir/export/."""
    from helpers import models, preprocess

    run_dir = Path(run_dir)
    model_path = artifacts.require(run_dir, artifacts.MODEL, "04_train")
    paths = {"keras": copy_keras_model(model_path, run_dir / KERAS_EXPORT),
             "saved_model": export_saved_model(models.load_model(model_path),
                                               run_dir / SAVED_MODEL)}
    train_images = preprocess.load_split(run_dir, "train").images
    calibration = calibration_images(train_images, calibration_count, seed)
    for variant, name in TFLITE_MODELS.items():
        paths[f"tflite_{variant}"] = write_tflite(
            paths["saved_model"], run_dir / name, variant,
            calibration if variant == "int8" else None)
    return paths


def measure_all(run_dir: str | Path, paths: dict[str, Path],
                latency_images: int = LATENCY_IMAGES) -> list[FormatFigures]:
    """Measure every exported format on the run's whole test set."""
    from helpers import evaluation, models, preprocess

    run_dir = Path(run_dir).resolve()
    paths = {name: Path(path).resolve() for name, path in paths.items()}
    test = preprocess.load_split(run_dir, "test")
    labels = evaluation.as_class_indices(test.labels)
    predictors: dict[str, Callable[[], Predict]] = {
        "keras": lambda: keras_predictor(models.load_model(paths["keras"])),
        "saved_model": lambda: saved_model_predictor(paths["saved_model"]),
        **{name: (lambda path=path: TFLiteModel(path)) for name, path in paths.items()
           if name.startswith("tflite_")},
    }
    rows: list[FormatFigures] = []
    reference = None
    for name, make_predictor in predictors.items():
        figures, probabilities = measure(name, paths[name], make_predictor(), test.images,
                                         labels, reference, latency_images)
        # Paths relative to the run directory, so a copied run or reference stays readable.
        figures = replace(figures, path=str(Path(figures.path).relative_to(run_dir)))
        if name == "keras":
            reference = np.argmax(probabilities, axis=1)
        rows.append(figures)
    return rows


def export_table(rows: list[FormatFigures]):
    """The export table for people: sizes in MB, accuracy, latency, throughput, vs Keras."""
    import pandas as pd

    keras_row = next(row for row in rows if row.format == "keras")
    return pd.DataFrame([{
        "format": row.format,
        "size (MB)": round(row.size_bytes / 1e6, 3),
        "size vs Keras": round(row.size_bytes / keras_row.size_bytes, 3),
        "test accuracy": round(row.accuracy, 4),
        "accuracy vs Keras (points)": round(100 * (row.accuracy - keras_row.accuracy), 2),
        "same class as Keras": round(row.agreement_with_keras, 4),
        "latency per image (ms)": round(row.latency_ms, 3),
        "throughput (images/s)": round(row.throughput_images_per_s),
    } for row in rows]).set_index("format")


def check_int8_targets(rows: list[FormatFigures], max_accuracy_drop: float = 0.01,
                       max_size_ratio: float = 1 / 3) -> list[str]:
    """What the int8 model misses of its targets (empty when it meets them)."""
    by_format = {row.format: row for row in rows}
    keras_row, int8_row = by_format["keras"], by_format["tflite_int8"]
    problems = []
    if keras_row.accuracy - int8_row.accuracy > max_accuracy_drop:
        problems.append(f"int8 accuracy {int8_row.accuracy:.4f} is more than "
                        f"{100 * max_accuracy_drop:g} point below Keras's "
                        f"{keras_row.accuracy:.4f}")
    if int8_row.size_bytes > max_size_ratio * keras_row.size_bytes:
        problems.append(f"int8 model is {int8_row.size_bytes:,} bytes, more than "
                        f"{max_size_ratio:.3g} of the Keras file's {keras_row.size_bytes:,}")
    return problems


def write_export_info(run_dir: str | Path, rows: list[FormatFigures],
                      test_images: int) -> Path:
    """export/export.json: the table, with the machine it was measured on."""
    payload = {"test_images": test_images, "latency_images": LATENCY_IMAGES,
               "throughput_batch_size": THROUGHPUT_BATCH_SIZE,
               "machine": artifacts.machine_info([]),
               "load_average": list(os.getloadavg()),
               "formats": [asdict(row) for row in rows]}
    return artifacts.write_json(Path(run_dir) / EXPORT_INFO, payload)
