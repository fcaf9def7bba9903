"""The optimizer, schedule and early stopping in the report's settings table: each row names
what training.json recorded, and a run recorded before these settings reads as Adam."""

import pytest

from helpers.records import TrainingRecord
from helpers.writing import report_settings, training_text

RECORD = {"train_seconds": 1.0, "epochs_run": 8, "best_epoch": 5, "learning_rate": 0.05,
          "lr_schedule": "cosine", "batch_size": 128, "global_batch_size": 128, "epochs": 10,
          "label_smoothing": 0.0, "ema_momentum": 0.0, "seed": 42, "augmentation": {},
          "devices": ["CPU"], "replicas": 1, "compute_dtype_policy": "float32",
          "early_stopping_patience": 3}


def record(**values) -> TrainingRecord:
    return TrainingRecord.model_validate({**RECORD, **values})


@pytest.mark.parametrize("values, optimizer", [
    ({}, "Adam"),  # recorded before the optimizer was: every such run used Adam
    ({"optimizer": "sgd"}, "SGD"),
    ({"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4},
     "SGD with Nesterov momentum 0.9, with weight decay 0.0005"),
    ({"optimizer": "adamw", "weight_decay": 0.004}, "AdamW with weight decay 0.004"),
    ({"optimizer": "rmsprop", "momentum": 0.5}, "RMSprop with momentum 0.5"),
])
def test_the_optimizer_row_names_the_runs_optimizer(values: dict, optimizer: str) -> None:
    assert report_settings._optimizer_text(record(**values)) == optimizer


@pytest.mark.parametrize("values, text", [
    ({}, "0.05 at the start, decayed to 0 along a cosine over the 10 planned epochs"),
    ({"lr_schedule": "constant"}, "0.05, constant"),
    ({"lr_schedule": "step", "lr_decay_epochs": 3}, "0.05 at the start, × 0.5 every 3 epochs"),
    ({"lr_schedule": "exponential", "lr_decay_factor": 0.9},
     "0.05 at the start, × 0.9 every epoch"),
    ({"lr_schedule": "plateau", "lr_plateau_patience": 1, "lr_min": 1e-4},
     "0.05 at the start, × 0.5 after 1 epoch without a lower validation loss "
     "(ReduceLROnPlateau, at least 0.0001)"),
    ({"lr_warmup_epochs": 2},
     "0.05 after a linear warm-up over the first 2 epochs, then decayed to 0 along a cosine "
     "over the 8 remaining epochs"),
    ({"lr_schedule": "constant", "lr_warmup_epochs": 1},
     "0.05 after a linear warm-up over the first epoch, then constant"),
])
def test_the_learning_rate_row_says_the_runs_schedule(values: dict, text: str) -> None:
    assert report_settings._learning_rate_text(record(**values)) == text


def test_the_epochs_row_says_what_early_stopping_watched_and_which_weights_were_kept() -> None:
    records = report_settings.RunRecords(None, None, None, record(), {})
    assert report_settings._epochs_text(records) == (
        "8 of 10 planned; early stopping after 3 epochs without a lower validation loss; the "
        "weights of epoch 5, the lowest validation loss, are kept")
    records = report_settings.RunRecords(None, None, None, record(
        early_stopping_monitor="val_accuracy", restore_best_weights=False, kept_epoch=8), {})
    assert report_settings._epochs_text(records) == (
        "8 of 10 planned; early stopping after 3 epochs without a higher validation accuracy; "
        "the weights of the last epoch, 8, are kept (restore_best_weights off; the highest "
        "validation accuracy was epoch 5's)")


def test_a_rate_other_than_the_first_is_given_to_three_figures() -> None:
    assert training_text.rate(0.05 / 3) == "0.0167"
    assert training_text.rate(0.000125) == "0.000125"
