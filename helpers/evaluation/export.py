"""Ship a trained model: Keras, a SavedModel for TensorFlow Serving, TFLite float32/float16/int8.

helpers.evaluation.export_benchmark measures what each format written here costs and gives up.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.artifacts import (  # noqa: F401 - the names 07 and the tests use
    EXPORT_DIR,
    EXPORT_INFO,
    FORMATS,
    KERAS_EXPORT,
    SAVED_MODEL,
    TFLITE_MODELS,
    atomic_directory,  # noqa: F401 - export's public name too
)
from helpers.streams import native_stderr_to

# A few hundred images cover the activations' ranges: TensorFlow's guide suggests 100-500.
CALIBRATION_IMAGES = 500

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


class Exported(dict[str, Path]):
    """The formats written, by name, with `not_made`: each format that could not be made and
    the first line of why (a TFLite conversion of an op it lacks, say)."""

    def __init__(self) -> None:
        super().__init__()
        self.not_made: dict[str, str] = {}

    def attempt(self, name: str, make: Callable[[], Path]) -> None:
        """Make one format, or record why it could not be made."""
        try:
            self[name] = make()
        except Exception as error:  # any converter's or exporter's failure: the others go on
            self.not_made[name] = _reason(error)


def _reason(error: Exception) -> str:
    """The first line of an error; for the TFLite converter's, what it says of the op without
    the MLIR location before it ("'tf.Erfinv' op is neither a custom op nor a flex op")."""
    lines = str(error).strip().splitlines()
    line = lines[0] if lines else ""
    if "error: loc(" in line:
        line = line.rsplit(")): ", 1)[-1]
    return f"{type(error).__name__}: {line}".strip()


def export_all(run_dir: str | Path, seed: int = 42,
               calibration_count: int = CALIBRATION_IMAGES) -> Exported:
    """Write every format of the run's trained model under run_dir/export/ that can be made.

    The Keras file always is (a copy); a format that fails is left out and its reason kept
    in the result's `not_made`, so the others are still written and measured. A network from
    one's own file has its model_source.py copied into export/ too, so the folder loads alone.
    """
    from helpers.data import preprocess
    from helpers.model import networks, own_model

    run_dir = Path(run_dir)
    model_path = artifacts.require(run_dir, artifacts.MODEL, "04_train")
    own_model.copy_source(run_dir, run_dir / EXPORT_DIR)
    paths = Exported()
    paths["keras"] = copy_keras_model(model_path, run_dir / KERAS_EXPORT)
    paths.attempt("saved_model", lambda: export_saved_model(networks.load_model(model_path),
                                                            run_dir / SAVED_MODEL))
    train_images = preprocess.load_split(run_dir, "train").images
    calibration = calibration_images(train_images, calibration_count, seed)
    for variant, name in TFLITE_MODELS.items():
        if "saved_model" not in paths:
            paths.not_made[f"tflite_{variant}"] = "made from the SavedModel, which was not made"
            continue
        paths.attempt(f"tflite_{variant}", lambda variant=variant, name=name: write_tflite(
            paths["saved_model"], run_dir / name, variant,
            calibration if variant == "int8" else None))
    for name in paths.not_made:  # an earlier export's file would pass for this model's
        stale = run_dir / (SAVED_MODEL if name == "saved_model"
                           else TFLITE_MODELS[name.removeprefix("tflite_")])
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    return paths
