"""The JSON records each step leaves in the run directory, defined once, and the helpers that
write them: every notebook's "save" cell is one call here, and the runner, the report and
serving read the same models back.

    01_load_data   dataset.json       DatasetRecord    (save_dataset)
    02_preprocess  preprocess.json    PreprocessRecord (save_split, with split.npz)
    03_build_model model.json         ModelRecord      (save_untrained_model)
    04_train       training.json      TrainingRecord   (save_trained_model, with model.keras)
    05_evaluate    metrics.json       MetricsRecord    (save_evaluation)

A record field named after a parameter holds the run's value of it (from_parameters): a record
that should hold a new parameter needs only the field, no copying by hand.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from helpers import artifacts, catalog, locations, onednn
from helpers.catalog.networks import ARCHITECTURE_PARAMETERS
from helpers.parameters import RunParameters

if TYPE_CHECKING:
    from helpers.data.datasets import Dataset
    from helpers.training.fitting import TrainingLength



class Record(BaseModel):
    """A step's JSON record: its file name in the run directory and the step that writes it."""

    model_config = ConfigDict(extra="allow")  # older runs' extra keys stay readable
    FILE: ClassVar[str]
    STEP: ClassVar[str]


class DatasetRecord(Record):
    """What 01 loaded: class names, image shape, sizes, and the source files' checksums."""

    FILE, STEP = artifacts.DATASET_INFO, "01_load_data"
    name: str
    class_names: list[str]
    image_shape: list[int]
    train_images: int
    test_images: int
    source: str
    files: list[dict[str, str]]
    # Image folders: entries left out by name ({reason, count, examples}), and the
    # parameters given as "auto" with the value chosen and why.
    skipped: list[dict[str, Any]] = []
    automatic: dict[str, str] = {}
    # Images per class, in class order: the label distribution the report states. Runs made
    # before it was recorded lack it.
    train_class_counts: list[int] = []
    test_class_counts: list[int] = []


class PreprocessRecord(Record):
    """How 02 split and encoded: sizes of each part, the label encoding, the seed."""

    FILE, STEP = artifacts.PREPROCESS_INFO, "02_preprocess"
    val_fraction: float
    seed: int
    label_encoding: str
    train_images: int
    validation_images: int
    test_images: int
    pixel_scale: float


class ModelRecord(Record):
    """What 03 built: parameter counts, the architecture parameters and the compute dtype.

    `architecture` holds every architecture parameter, used or not; for a network the
    parameters do not describe (one's own file) also `built_layers`, the built model's layers
    (helpers.model.inspection.layer_records), which the report's phrases about it read.
    """

    FILE, STEP = artifacts.MODEL_INFO, "03_build_model"
    parameters: dict[str, int]
    architecture: dict[str, Any]
    compute_dtype_policy: str
    seed: int


class TrainingRecord(Record):
    """How 04 trained: time, epochs, the best epoch, the optimizer settings and the devices."""

    FILE, STEP = artifacts.TRAINING_INFO, "04_train"
    train_seconds: float
    epochs_run: int
    best_epoch: int
    learning_rate: float
    lr_schedule: str
    batch_size: int
    global_batch_size: int
    epochs: int  # planned: the epochs parameter, or what "auto" chose for the data
    label_smoothing: float
    ema_momentum: float
    seed: int
    augmentation: dict[str, float | bool]
    devices: list[str]
    replicas: int
    compute_dtype_policy: str
    onednn: dict[str, Any] = {}  # whether oneDNN kernels ran, and who chose (helpers.onednn)
    # Defaults for runs recorded before these were: what the report's observations need.
    early_stopping_patience: int | None = None
    resumed_after_epoch: int = 0
    test_time_mirror: bool = False
    # epochs (and patience) chosen by helpers.training.fitting.training_length
    epochs_auto: bool = False
    # The optimizer, schedule and early-stopping settings (helpers.parameters.optimization);
    # their defaults are how every run recorded before them trained.
    optimizer: str = "adam"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    lr_decay_factor: float = 0.5
    lr_decay_epochs: int = 5
    lr_plateau_patience: int = 2
    lr_min: float = 0.0
    lr_warmup_epochs: int = 0
    early_stopping_monitor: str = "val_loss"
    restore_best_weights: bool = True
    kept_epoch: int | None = None  # whose weights model.keras holds; None: best_epoch's


class MetricsRecord(Record):
    """Every test figure of 05, with the confusion matrix and the training time beside them."""

    FILE, STEP = artifacts.METRICS, "05_evaluate"
    test_accuracy: float
    test_loss: float | None = None  # cross-entropy; runs made before it was recorded lack it
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    test_images: int
    # The kept model on the validation images, measured like the test figures: accuracy,
    # loss, precision/recall/F1 macro and images. Runs made before it was recorded lack it.
    validation: dict[str, float] = {}
    per_class: dict[str, dict[str, float | int]]  # precision, recall, f1; support a count
    confusion_matrix: list[list[int]]
    class_names: list[str]
    train_seconds: float
    epochs_run: int
    best_epoch: int


RecordType = TypeVar("RecordType", bound=Record)


def parameter_values(kind: type[Record], parameters: RunParameters) -> dict[str, Any]:
    """The run's values of the parameters a record's fields are named after."""
    return {name: getattr(parameters, name) for name in kind.model_fields
            if name in RunParameters.model_fields}


def from_parameters(kind: type[RecordType], parameters: RunParameters, /,
                    **values: Any) -> RecordType:
    """A record whose fields named after a parameter hold the run's value of it.

    A record that should hold a new parameter needs only the field. `values` give the other
    fields, and win over a parameter's value (04's resolved epochs, model.json's architecture);
    `kind` and `parameters` are positional, so a field may be called `parameters`.
    """
    return kind(**{**parameter_values(kind, parameters), **values})


def augmentation_values(parameters: RunParameters) -> dict[str, Any]:
    """The augment_* parameters without their prefix, as training.json's augmentation."""
    return {name.removeprefix("augment_"): getattr(parameters, name)
            for name in RunParameters.model_fields if name.startswith("augment_")}


def write_record(run_dir: str | Path, record: Record) -> Path:
    """Write a record to its file in the run directory (atomically)."""
    return artifacts.write_json(artifacts.artifact_path(run_dir, record.FILE),
                                record.model_dump())


def read_record(run_dir: str | Path, kind: type[RecordType]) -> RecordType:
    """A step's record, or an error naming the step that must run first."""
    path = artifacts.require(run_dir, kind.FILE, kind.STEP)
    return kind.model_validate(artifacts.read_json(path))


def read_record_if_present(run_dir: str | Path, kind: type[RecordType]) -> RecordType | None:
    """A step's record, or None when that step has not run."""
    path = artifacts.artifact_path(run_dir, kind.FILE)
    return kind.model_validate(artifacts.read_json(path)) if path.is_file() else None


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
