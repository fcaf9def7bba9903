"""The JSON records each step leaves in the run directory, defined once: the step writes them
(helpers.step_outputs, each notebook's "save" cell), and the runner, the report and serving
read the same models back.

    01_load_data   dataset.json       DatasetRecord
    02_preprocess  preprocess.json    PreprocessRecord
    03_build_model model.json         ModelRecord
    04_train       training.json      TrainingRecord
    05_evaluate    metrics.json       MetricsRecord

A record field named after a parameter holds the run's value of it (from_parameters): a record
that should hold a new parameter needs only the field, no copying by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from helpers import artifacts
from helpers.parameters import RunParameters

if TYPE_CHECKING:
    pass



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

    @property
    def kept(self) -> int:
        """The epoch whose weights model.keras holds (older records: the best epoch)."""
        return self.kept_epoch or self.best_epoch


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
