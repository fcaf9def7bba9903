import json
from pathlib import Path

import numpy as np
import pytest

from helpers.backend import keras
from helpers.model import networks
from helpers.training import callbacks, fitting, optimizers


def tiny_data(count: int = 64) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(0)
    return (generator.integers(0, 256, (count, 8, 8, 1), dtype=np.uint8),
            np.arange(count) % 2)


@pytest.mark.slow
def test_fit_saves_best_checkpoint_and_history(tmp_path: Path) -> None:
    fitting.set_global_seed(0)
    images, labels = tiny_data()
    model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    fitting.compile_model(model, 1e-3, "cosine", steps_per_epoch=4, epochs=3,
                           label_encoding="sparse")
    result = fitting.fit(model, images[:48], labels[:48], images[48:], labels[48:],
                          batch_size=16, epochs=3, early_stopping_patience=2,
                          checkpoint_path=tmp_path / "best.keras")
    assert result.epochs_run == 3 and list(result.history["epoch"]) == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(result.history.columns)
    assert 1 <= result.best_epoch <= 3 and result.train_seconds > 0
    assert networks.load_model(tmp_path / "best.keras").output_shape == (None, 2)


@pytest.mark.slow
def test_non_finite_loss_stops_training_with_an_error(tmp_path: Path) -> None:
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    images = np.array([[np.inf, 1.0]] * 8, dtype=np.float32)
    with pytest.raises(FloatingPointError, match="training loss became nan"):
        fitting.fit(model, images, np.zeros(8), images, np.zeros(8), batch_size=4,
                     epochs=2, early_stopping_patience=1,
                     checkpoint_path=tmp_path / "best.keras")
    assert not (tmp_path / "best.keras").exists()


@pytest.mark.parametrize("schedule, message", [("linear", "lr_schedule='linear'")])
def test_unknown_schedule_is_named(schedule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optimizers.learning_rate_schedule(1e-3, schedule, 10, 1)


class InterruptDuringEpoch(keras.callbacks.Callback):
    """Raises in the middle of the given epoch (0-based), like a kill would stop it."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch
        self.current = -1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.current = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.current == self.epoch and batch == 1:
            raise KeyboardInterrupt("interrupted")


class OptimizerAt(keras.callbacks.Callback):
    """Keeps the optimizer's variables when training begins and when the given epoch ends."""

    def __init__(self, epoch: int = -1) -> None:
        super().__init__()
        self.epoch = epoch
        self.at_start: list[np.ndarray] = []
        self.at_epoch_end: list[np.ndarray] = []
        self.weights_at_epoch_end: list[np.ndarray] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.at_start = [np.array(variable) for variable in self.model.optimizer.variables]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self.epoch:
            self.at_epoch_end = [np.array(variable) for variable in self.model.optimizer.variables]
            self.weights_at_epoch_end = [np.array(weight)
                                         for weight in self.model.trainable_weights]


def compiled_tiny_model(epochs: int, ema_momentum: float = 0.0) -> keras.Model:
    fitting.set_global_seed(0)
    model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    return fitting.compile_model(model, 1e-3, "cosine", steps_per_epoch=3, epochs=epochs,
                                  label_encoding="sparse", ema_momentum=ema_momentum)


def tiny_fit_arguments(tmp_path: Path) -> dict:
    images, labels = tiny_data()
    return dict(train_images=images[:48], train_labels=labels[:48],
                val_images=images[48:], val_labels=labels[48:], batch_size=16, epochs=4,
                early_stopping_patience=10, checkpoint_path=tmp_path / "best.keras",
                backup_dir=tmp_path / "backup")


@pytest.mark.slow
def test_interrupted_fit_resumes_after_the_last_completed_epoch(tmp_path: Path) -> None:
    arguments = tiny_fit_arguments(tmp_path)
    before = OptimizerAt(epoch=1)
    with pytest.raises(KeyboardInterrupt):
        fitting.fit(compiled_tiny_model(4), **arguments,
                     extra_callbacks=[before, InterruptDuringEpoch(epoch=2)])
    state = fitting.read_backup(tmp_path / "backup")
    assert state["epoch"] == 2 and [row["epoch"] for row in state["history"]] == [1, 2]
    best_before = state["best"]

    model = compiled_tiny_model(4)  # as 04_train does: a fresh model, then fit again
    after = OptimizerAt(epoch=3)
    result = fitting.fit(model, **arguments, extra_callbacks=[after])
    assert list(result.history["epoch"]) == [1, 2, 3, 4] and result.epochs_run == 4
    for restored, saved in zip(after.at_start, before.at_epoch_end, strict=True):
        np.testing.assert_array_equal(restored, saved)  # Adam's iterations and moments
    assert int(after.at_epoch_end[0]) == 4 * 3  # iterations: two epochs after the resume
    assert result.history["val_loss"].min() <= best_before
    assert not (tmp_path / "backup").exists()


def test_checkpoint_is_not_replaced_by_a_worse_model_after_a_resume(tmp_path: Path) -> None:
    path = tmp_path / "best.keras"
    path.write_text("the best model of the interrupted run")
    checkpoint = callbacks.BestCheckpoint(path, best=0.25)
    checkpoint.set_model(networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8))
    checkpoint.on_epoch_end(3, {"val_loss": 0.4})
    assert path.read_text() == "the best model of the interrupted run"
    checkpoint.on_epoch_end(4, {"val_loss": 0.2})
    assert checkpoint.best == 0.2 and networks.load_model(path).output_shape == (None, 2)


@pytest.mark.slow
def test_a_backup_with_a_weight_average_holds_the_trained_weights_not_the_average(
        tmp_path: Path) -> None:
    # At an epoch's end SwapEMAWeights puts the average into the model and the trained
    # weights into the optimizer's slots; the backup must hold them the other way round, or
    # a resumed run trains on from the average.
    swapped = OptimizerAt(epoch=1)
    with pytest.raises(KeyboardInterrupt):
        fitting.fit(compiled_tiny_model(4, ema_momentum=0.9), **tiny_fit_arguments(tmp_path),
                     extra_callbacks=[swapped, InterruptDuringEpoch(epoch=2)])
    state = fitting.read_backup(tmp_path / "backup")
    restored = compiled_tiny_model(4, ema_momentum=0.9)
    restored.optimizer.build(restored.trainable_variables)
    restored.load_weights(tmp_path / "backup" / state["weights"])
    paths = [variable.path for variable in restored.optimizer.variables]
    averages = [np.array(variable) for variable, path in
                zip(restored.optimizer.variables, paths, strict=True) if path.endswith("_average")]
    swapped_slots = [value for value, path in zip(swapped.at_epoch_end, paths, strict=True)
                     if path.endswith("_average")]
    for trained, slot in zip(restored.trainable_weights, swapped_slots, strict=True):
        np.testing.assert_array_equal(np.array(trained), slot)
    for average, in_model in zip(averages, swapped.weights_at_epoch_end, strict=True):
        np.testing.assert_array_equal(average, in_model)
    assert not np.array_equal(averages[0], np.array(restored.trainable_weights[0]))


def rows(*val_losses: float) -> list[dict]:
    return [{"epoch": epoch, "val_loss": loss} for epoch, loss in enumerate(val_losses, start=1)]


@pytest.mark.parametrize("patience, stops", [(3, True), (4, False)])
def test_early_stopping_counts_on_from_the_interrupted_epochs(patience: int, stops: bool) -> None:
    # Best at epoch 2, then two epochs without improvement before the interruption: the
    # first epoch after the resume is the third.
    stopping = callbacks.ResumableEarlyStopping(patience, rows(0.5, 0.4, 0.45, 0.46))
    stopping.set_model(networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8))
    stopping.on_train_begin()
    assert stopping.best == 0.4 and stopping.wait == 2
    stopping.on_epoch_end(4, {"val_loss": 0.47})
    assert getattr(stopping.model, "stop_training", False) is stops


def test_a_run_killed_after_its_patience_ran_out_trains_no_more(tmp_path: Path) -> None:
    arguments = tiny_fit_arguments(tmp_path) | {"early_stopping_patience": 1}
    (tmp_path / "backup").mkdir()
    model = compiled_tiny_model(4)
    model.optimizer.build(model.trainable_variables)
    model.save_weights(tmp_path / "backup" / "epoch-0002.weights.h5")
    (tmp_path / "backup" / fitting.BACKUP_STATE).write_text(json.dumps(
        {"epoch": 2, "weights": "epoch-0002.weights.h5", "history": rows(0.4, 0.5),
         "train_seconds": 1.0, "best_val_loss": 0.4}))
    result = fitting.fit(compiled_tiny_model(4), **arguments)
    assert list(result.history["epoch"]) == [1, 2] and result.epochs_run == 2


@pytest.mark.parametrize(("steps_per_epoch", "epochs", "patience"), [
    (422, 10, 4),    # Fashion-MNIST's 54,000 training images in batches of 128: as before
    (100, 10, 4),    # 1,000 steps in 10 epochs: still the usual 10
    (7, 143, 15),    # 810 photos in batches of 128: 1,001 steps, patience 10% of the epochs
    (1, 200, 20),    # a handful of images: capped
])
def test_auto_epochs_give_small_datasets_enough_steps(steps_per_epoch: int, epochs: int,
                                                      patience: int) -> None:
    length = fitting.training_length("auto", 4, steps_per_epoch)
    assert (length.epochs, length.early_stopping_patience, length.chosen) == (epochs, patience,
                                                                              True)
    assert f"**{epochs} epochs**" in length.explanation[0]
    assert (len(length.explanation) == 2) == (patience != 4)


def test_epochs_the_user_sets_are_kept() -> None:
    length = fitting.training_length(6, 4, 7)
    assert (length.epochs, length.early_stopping_patience, length.chosen,
            length.explanation) == (6, 4, False, ())
