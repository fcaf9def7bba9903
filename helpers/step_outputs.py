"""Each step's outputs written in one call, the notebooks' "save" cells: its arrays and
model files, and its JSON record (helpers.records), under the run directory's stable names.

    01_load_data   save_dataset          dataset.npz, dataset.json
    02_preprocess  save_split            split.npz, preprocess.json
    03_build_model save_untrained_model  model_untrained.keras, model.json
    04_train       save_trained_model    model.keras, history.csv, training.json
    05_evaluate    save_predictions, save_evaluation: predictions.npz, metrics.json, the report
    06             save_confused_pairs   confused_pairs.csv
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers import artifacts, catalog, locations, onednn
from helpers.catalog.networks import ARCHITECTURE_PARAMETERS
from helpers.parameters import RunParameters
from helpers.records import (
    DatasetRecord,
    MetricsRecord,
    ModelRecord,
    PreprocessRecord,
    TrainingRecord,
    augmentation_values,
    from_parameters,
    read_record,
    write_record,
)

if TYPE_CHECKING:
    from helpers.data.datasets import Dataset
    from helpers.training.fitting import TrainingLength


def save_split(run_dir: str | Path, train_indices: np.ndarray, validation_indices: np.ndarray,
               test_images: int, parameters: RunParameters, pixel_scale: float) -> list[str]:
    """02's outputs: the split's indices (split.npz) and preprocess.json; the names written."""
    artifacts.write_arrays(artifacts.artifact_path(run_dir, artifacts.SPLIT_INDICES),
                           train=train_indices, validation=validation_indices)
    write_record(run_dir, from_parameters(
        PreprocessRecord, parameters, train_images=len(train_indices),
        validation_images=len(validation_indices), test_images=int(test_images),
        pixel_scale=pixel_scale))
    return [artifacts.SPLIT_INDICES, PreprocessRecord.FILE]


def save_dataset(run_dir: str | Path, dataset: Dataset) -> list[str]:
    """01's outputs: the raw arrays and dataset.json (with file checksums); the names written."""
    artifacts.write_arrays(artifacts.artifact_path(run_dir, artifacts.DATASET_ARRAYS),
                           x_train=dataset.x_train, y_train=dataset.y_train,
                           x_test=dataset.x_test, y_test=dataset.y_test)
    write_record(run_dir, DatasetRecord(
        name=dataset.name, class_names=list(dataset.class_names),
        image_shape=list(dataset.image_shape), train_images=int(len(dataset.y_train)),
        test_images=int(len(dataset.y_test)), source=dataset.source,
        # Each file by where it lives (project-relative, or the package that installed it),
        # never by this machine's absolute path: the record is published and handed in.
        files=[{**locations.portable(path), "sha256": artifacts.file_sha256(path)}
               for path in dataset.files],
        skipped=[dataclasses.asdict(skipped) for skipped in dataset.skipped],
        automatic=dataset.automatic,
        train_class_counts=_class_counts(dataset.y_train, len(dataset.class_names)),
        test_class_counts=_class_counts(dataset.y_test, len(dataset.class_names))))
    return [artifacts.DATASET_ARRAYS, DatasetRecord.FILE]


def _class_counts(labels: np.ndarray, classes: int) -> list[int]:
    return [int(count) for count in np.bincount(np.asarray(labels, dtype=np.int64),
                                                minlength=classes)]


def used_architecture(parameters: RunParameters) -> dict[str, Any]:
    """The architecture parameters the run's network kind is built from (the catalog's
    NetworkKind.parameters), with what the kind fixes itself: a setting it ignores is left
    out, so model.json says only what is true of the network."""
    kind = catalog.network(parameters.architecture)
    names = [*ARCHITECTURE_PARAMETERS, *sorted(set(kind.parameters) - set(ARCHITECTURE_PARAMETERS))]
    return kind.effective({name: getattr(parameters, name) for name in names
                           if name == "architecture" or name in kind.parameters})


def save_untrained_model(run_dir: str | Path, model: Any, parameter_counts: dict[str, int],
                         parameters: RunParameters, compute_dtype_policy: str,
                         built_layers: list[dict[str, Any]] | None = None) -> list[str]:
    """03's outputs: the untrained model and model.json; the names written. `built_layers`
    (the built model's layers) are recorded for the network kinds whose report reads them."""
    artifacts.save_with(artifacts.artifact_path(run_dir, artifacts.UNTRAINED_MODEL), model.save)
    architecture = used_architecture(parameters)
    if built_layers is not None and catalog.network(parameters.architecture).records_built_layers:
        architecture["built_layers"] = built_layers
    write_record(run_dir, from_parameters(
        ModelRecord, parameters, parameters=parameter_counts, architecture=architecture,
        compute_dtype_policy=compute_dtype_policy))
    return [artifacts.UNTRAINED_MODEL, ModelRecord.FILE]


def save_trained_model(run_dir: str | Path, model: Any, result: Any,
                       parameters: RunParameters, global_batch_size: int,
                       devices: list[str], replicas: int,
                       compute_dtype_policy: str,
                       length: TrainingLength | None = None) -> list[str]:
    """04's outputs: model.keras, history.csv and training.json; the names written.

    `result` is training.fit's TrainingResult; `model` the model to keep (computing in float32);
    `length` training.training_length's TrainingLength (the epochs and patience it resolved).
    """
    artifacts.save_with(artifacts.artifact_path(run_dir, artifacts.MODEL), model.save)
    artifacts.write_text(artifacts.artifact_path(run_dir, artifacts.HISTORY),
                         result.history.to_csv(index=False))
    resolved = ({"epochs": length.epochs, "early_stopping_patience":
                 length.early_stopping_patience} if length else {})
    write_record(run_dir, from_parameters(
        TrainingRecord, parameters, **resolved, train_seconds=round(result.train_seconds, 2),
        epochs_run=result.epochs_run, best_epoch=result.best_epoch,
        global_batch_size=global_batch_size, epochs_auto=bool(length and length.chosen),
        augmentation=augmentation_values(parameters), devices=list(devices),
        replicas=replicas, compute_dtype_policy=compute_dtype_policy, onednn=onednn.state(),
        resumed_after_epoch=result.resumed_after_epoch,
        kept_epoch=getattr(result, "kept_epoch", 0) or result.best_epoch))
    return [artifacts.MODEL, artifacts.HISTORY, TrainingRecord.FILE]


def save_predictions(run_dir: str | Path, probabilities: np.ndarray,
                     true_labels: np.ndarray) -> list[str]:
    """05's test-set class probabilities (predictions.npz), which 06 reads; the names written."""
    artifacts.write_arrays(artifacts.artifact_path(run_dir, artifacts.PREDICTIONS),
                           probabilities=probabilities, true_labels=true_labels)
    return [artifacts.PREDICTIONS]


def save_evaluation(run_dir: str | Path, metrics: dict[str, Any], confusion: np.ndarray,
                    class_names: list[str], report_text: str) -> list[str]:
    """05's outputs: metrics.json (with 04's time and epochs) and the per-class report."""
    trained = read_record(run_dir, TrainingRecord)
    write_record(run_dir, MetricsRecord(
        **metrics, confusion_matrix=confusion.tolist(), class_names=list(class_names),
        train_seconds=trained.train_seconds, epochs_run=trained.epochs_run,
        best_epoch=trained.best_epoch))
    artifacts.write_text(artifacts.artifact_path(run_dir, artifacts.CLASSIFICATION_REPORT),
                         report_text)
    return [MetricsRecord.FILE, artifacts.CLASSIFICATION_REPORT]


def save_confused_pairs(run_dir: str | Path, pairs: Any) -> list[str]:
    """06's table of the most-confused class pairs (a pandas DataFrame) as CSV."""
    artifacts.write_text(artifacts.artifact_path(run_dir, artifacts.CONFUSED_PAIRS),
                         pairs.to_csv(index=False))
    return [artifacts.CONFUSED_PAIRS]


def files_written(names: list[str]) -> str:
    """The one line a save cell prints: which files it wrote, without paths or checksums."""
    return "Files written: " + ", ".join(names)
