"""Measure every exported format the same way on the same test images.

Accuracy, file size, latency of one image and throughput in batches, so the table says what
each format costs and gives up; and whether int8 meets its targets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.artifacts import EXPORT_INFO, KERAS_EXPORT
from helpers.evaluation.export import file_size
from helpers.evaluation.inference import (
    Predict,
    TFLiteModel,
    batched,
    keras_predictor,
    saved_model_predictor,
)

LATENCY_IMAGES = 200
THROUGHPUT_BATCH_SIZE = 256


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


def measure_all(run_dir: str | Path, paths: dict[str, Path],
                latency_images: int = LATENCY_IMAGES) -> list[FormatFigures]:
    """Measure every exported format on the run's whole test set."""
    from helpers.data import preprocess
    from helpers.evaluation import scoring
    from helpers.model import networks

    run_dir = Path(run_dir).resolve()
    paths = {name: Path(path).resolve() for name, path in paths.items()}
    test = preprocess.load_split(run_dir, "test")
    labels = scoring.as_class_indices(test.labels)
    predictors: dict[str, Callable[[], Predict]] = {
        "keras": lambda: keras_predictor(networks.load_model(paths["keras"])),
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
    if "tflite_int8" not in by_format:
        return ["there is no int8 model: it could not be made (see the formats above)"]
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


def write_export_info(run_dir: str | Path, rows: list[FormatFigures], test_images: int,
                      not_made: dict[str, str] | None = None) -> Path:
    """export/export.json: the table, with the machine it was measured on, the formats made
    and, for those that could not be (export.export_all's `not_made`), why."""
    from helpers.model import networks

    exported = networks.load_model(Path(run_dir) / KERAS_EXPORT)
    payload = {"test_images": test_images,
               # whether every format predicts the mean of an image and its mirror image
               "test_time_mirror": networks.averages_with_mirror(exported),
               "latency_images": LATENCY_IMAGES,
               "throughput_batch_size": THROUGHPUT_BATCH_SIZE,
               "machine": artifacts.machine_info([]),
               "load_average": list(os.getloadavg()),
               "formats": [asdict(row) for row in rows],
               "made": [row.format for row in rows],
               "not_made": dict(not_made or {})}
    return artifacts.write_json(Path(run_dir) / EXPORT_INFO, payload)
