"""The records copy parameters by name: the JSON they write, and a new field filled unasked."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import artifacts, catalog, parameters, records, step_outputs

# Every parameter a record holds set away from its default, so a copy from the wrong one shows.
PARAMETERS = parameters.validate({
    "seed": 7, "val_fraction": 0.2, "label_encoding": "one_hot", "architecture": "mlp",
    "hidden_units": [64], "dropout_rate": 0.5, "batch_norm": False, "l2_weight": 0.01,
    "learning_rate": 0.003, "lr_schedule": "plateau", "batch_size": 64, "epochs": 9,
    "label_smoothing": 0.1, "ema_momentum": 0.99, "early_stopping_patience": 2,
    "augment_flip": True, "augment_shift": 0.1, "augment_erase": 0.25,
    "augment_rotation": 10.0, "augment_zoom": 0.05, "test_time_mirror": True,
    "optimizer": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 0.0005,
    "lr_decay_factor": 0.3, "lr_plateau_patience": 3, "lr_min": 1e-5, "lr_warmup_epochs": 1,
    "early_stopping_monitor": "val_accuracy", "restore_best_weights": False})


class SavedModel:
    """Stands in for a Keras model: save() writes a file."""

    def save(self, path: Path) -> None:
        Path(path).write_text("model")


def training_result() -> SimpleNamespace:
    return SimpleNamespace(history=pd.DataFrame({"epoch": [1, 2], "loss": [0.9, 0.5]}),
                           train_seconds=12.345, epochs_run=2, best_epoch=1,
                           resumed_after_epoch=1, kept_epoch=2)


@pytest.fixture(autouse=True)
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(step_outputs.onednn, "state", lambda: {"enabled": None})


@pytest.mark.parametrize("length, epochs, patience, chosen", [
    (None, 9, 2, False),
    (SimpleNamespace(epochs=30, early_stopping_patience=3, chosen=True), 30, 3, True)])
def test_training_json_holds_the_parameters_and_04s_resolved_length(
        tmp_path: Path, length: object, epochs: int, patience: int, chosen: bool) -> None:
    step_outputs.save_trained_model(tmp_path, SavedModel(), training_result(), PARAMETERS, 128,
                               ["CPU"], 2, "float32", length)
    written = artifacts.read_json(tmp_path / records.TrainingRecord.FILE)
    # Every augment_* parameter, these five and any added later, by name without the prefix.
    assert written["augmentation"] == records.augmentation_values(PARAMETERS)
    assert written == {
        "train_seconds": 12.35, "epochs_run": 2, "best_epoch": 1, "learning_rate": 0.003,
        "lr_schedule": "plateau", "batch_size": 64, "global_batch_size": 128,
        "epochs": epochs, "label_smoothing": 0.1, "ema_momentum": 0.99, "seed": 7,
        "augmentation": {**written["augmentation"], "flip": True, "shift": 0.1, "erase": 0.25,
                         "rotation": 10.0, "zoom": 0.05},
        "devices": ["CPU"], "replicas": 2, "compute_dtype_policy": "float32",
        "onednn": {"enabled": None}, "early_stopping_patience": patience,
        "resumed_after_epoch": 1, "test_time_mirror": True, "epochs_auto": chosen,
        # the optimizer, its schedule and early stopping, and whose weights model.keras has
        "optimizer": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 0.0005,
        "lr_decay_factor": 0.3, "lr_decay_epochs": 5, "lr_plateau_patience": 3, "lr_min": 1e-5,
        "lr_warmup_epochs": 1, "early_stopping_monitor": "val_accuracy",
        "restore_best_weights": False, "kept_epoch": 2}


def test_preprocess_and_model_json_hold_the_parameters(tmp_path: Path) -> None:
    step_outputs.save_split(tmp_path, np.arange(8), np.arange(2), 5, PARAMETERS, 255.0)
    step_outputs.save_untrained_model(tmp_path, SavedModel(), {"total": 10}, PARAMETERS, "float32")
    assert artifacts.read_json(tmp_path / records.PreprocessRecord.FILE) == {
        "val_fraction": 0.2, "seed": 7, "label_encoding": "one_hot", "train_images": 8,
        "validation_images": 2, "test_images": 5, "pixel_scale": 255.0}
    assert artifacts.read_json(tmp_path / records.ModelRecord.FILE) == {
        "parameters": {"total": 10}, "compute_dtype_policy": "float32", "seed": 7,
        "architecture": {"architecture": "mlp", "hidden_units": [64], "dropout_rate": 0.5,
                         "batch_norm": False, "l2_weight": 0.01}}


def test_model_json_holds_only_the_settings_its_network_kind_uses() -> None:
    layers = ["conv 32 3x3 relu", "maxpool 2", "flatten", "dense 64 relu", "dropout 0.25"]
    written = step_outputs.used_architecture(parameters.validate(
        {"architecture": "layers", "layers": layers}))
    # Assignment B's model.json said dropout_rate 0.3 and batch_norm true: the cnn's template
    # values, which a network written layer by layer never reads.
    assert written == {"architecture": "layers", "layers": layers}
    cnn = step_outputs.used_architecture(parameters.validate({"architecture": "cnn"}))
    assert set(cnn) == {"architecture", *catalog.network("cnn").parameters}
    assert "hidden_units" not in cnn and "layers" not in cnn
    # vgg fixes two convolutions per block itself: the record says so.
    vgg = step_outputs.used_architecture(parameters.validate({"architecture": "vgg"}))
    assert vgg["convs_per_block"] == 2 and "hidden_units" not in vgg


def test_a_record_field_named_after_a_parameter_is_filled_from_it() -> None:
    class ScratchRecord(records.TrainingRecord):
        dropout_rate: float  # a parameter the record did not hold before: the field is all

    fields = {"train_seconds": 1.0, "epochs_run": 1, "best_epoch": 1, "global_batch_size": 64,
              "augmentation": {}, "devices": [], "replicas": 1, "compute_dtype_policy": "x"}
    record = records.from_parameters(ScratchRecord, PARAMETERS, **fields)
    assert (record.dropout_rate, record.learning_rate, record.epochs) == (0.5, 0.003, 9)
    assert records.from_parameters(ScratchRecord, PARAMETERS, **fields, epochs=30).epochs == 30


def test_model_json_architecture_and_training_json_augmentation_name_schema_parameters() -> None:
    assert set(catalog.networks.ARCHITECTURE_PARAMETERS) <= set(parameters.PARAMETER_NAMES)
    assert {"flip", "shift", "erase", "rotation", "zoom"} <= set(
        records.augmentation_values(PARAMETERS))


def test_the_committed_reference_records_still_read() -> None:
    reference = artifacts.PROJECT_ROOT / "reports" / "reference"
    kinds = (records.PreprocessRecord, records.ModelRecord, records.TrainingRecord)
    read = [records.read_record(run, kind) for run in sorted(reference.iterdir())
            for kind in kinds if (run / kind.FILE).is_file()]
    assert len(read) >= 3 * 5


def test_a_training_json_from_before_the_optimizer_parameters_reads_as_adam(
        tmp_path: Path) -> None:
    from helpers.parameters.optimization import (
        OptimizerSettings,
        ScheduleSettings,
        StoppingSettings,
    )

    old = {"train_seconds": 1.0, "epochs_run": 3, "best_epoch": 2, "learning_rate": 0.001,
           "lr_schedule": "cosine", "batch_size": 128, "global_batch_size": 128, "epochs": 3,
           "label_smoothing": 0.0, "ema_momentum": 0.0, "seed": 42, "augmentation": {},
           "devices": ["CPU"], "replicas": 1, "compute_dtype_policy": "float32"}
    record = records.TrainingRecord.model_validate(old)
    assert OptimizerSettings.of(record) == OptimizerSettings()  # Adam, as every such run was
    assert ScheduleSettings.of(record) == ScheduleSettings()
    assert StoppingSettings.of(record) == StoppingSettings()  # val_loss, best weights kept
    assert record.kept_epoch is None
