from pathlib import Path

import numpy as np
import pytest

from helpers import models, training
from helpers.backend import keras


def tiny_data(count: int = 64) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(0)
    return (generator.integers(0, 256, (count, 8, 8, 1), dtype=np.uint8),
            np.arange(count) % 2)


def test_fit_saves_best_checkpoint_and_history(tmp_path: Path) -> None:
    training.set_global_seed(0)
    images, labels = tiny_data()
    model = models.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    training.compile_model(model, 1e-3, "cosine", steps_per_epoch=4, epochs=3,
                           label_encoding="sparse")
    result = training.fit(model, images[:48], labels[:48], images[48:], labels[48:],
                          batch_size=16, epochs=3, early_stopping_patience=2,
                          checkpoint_path=tmp_path / "best.keras")
    assert result.epochs_run == 3 and list(result.history["epoch"]) == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(result.history.columns)
    assert 1 <= result.best_epoch <= 3 and result.train_seconds > 0
    assert models.load_model(tmp_path / "best.keras").output_shape == (None, 2)


def test_non_finite_loss_stops_training_with_an_error(tmp_path: Path) -> None:
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    images = np.array([[np.inf, 1.0]] * 8, dtype=np.float32)
    with pytest.raises(FloatingPointError, match="training loss became nan"):
        training.fit(model, images, np.zeros(8), images, np.zeros(8), batch_size=4,
                     epochs=2, early_stopping_patience=1,
                     checkpoint_path=tmp_path / "best.keras")
    assert not (tmp_path / "best.keras").exists()


@pytest.mark.parametrize("schedule, message", [("linear", "lr_schedule='linear'")])
def test_unknown_schedule_is_named(schedule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        training.learning_rate_schedule(1e-3, schedule, 10)


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


def compiled_tiny_model(epochs: int) -> keras.Model:
    training.set_global_seed(0)
    model = models.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    return training.compile_model(model, 1e-3, "cosine", steps_per_epoch=3, epochs=epochs,
                                  label_encoding="sparse")


def test_interrupted_fit_resumes_after_the_last_completed_epoch(tmp_path: Path) -> None:
    images, labels = tiny_data()
    arguments = dict(train_images=images[:48], train_labels=labels[:48],
                     val_images=images[48:], val_labels=labels[48:], batch_size=16, epochs=4,
                     early_stopping_patience=10, checkpoint_path=tmp_path / "best.keras",
                     backup_dir=tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        training.fit(compiled_tiny_model(4), **arguments,
                     extra_callbacks=[InterruptDuringEpoch(epoch=2)])
    state = training.read_backup(tmp_path / "backup")
    assert state["epoch"] == 2 and [row["epoch"] for row in state["history"]] == [1, 2]
    best_before = state["best_val_loss"]

    model = compiled_tiny_model(4)  # as 04_train does: a fresh model, then fit again
    result = training.fit(model, **arguments)
    assert list(result.history["epoch"]) == [1, 2, 3, 4] and result.epochs_run == 4
    assert int(model.optimizer.iterations) == 4 * 3  # the optimizer state came back too
    assert result.history["val_loss"].min() <= best_before
    assert not (tmp_path / "backup").exists()


def test_checkpoint_is_not_replaced_by_a_worse_model_after_a_resume(tmp_path: Path) -> None:
    path = tmp_path / "best.keras"
    path.write_text("the best model of the interrupted run")
    checkpoint = training.BestCheckpoint(path, best=0.25)
    checkpoint.set_model(models.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8))
    checkpoint.on_epoch_end(3, {"val_loss": 0.4})
    assert path.read_text() == "the best model of the interrupted run"
    checkpoint.on_epoch_end(4, {"val_loss": 0.2})
    assert checkpoint.best == 0.2 and models.load_model(path).output_shape == (None, 2)
