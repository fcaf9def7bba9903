"""Keras's checkpoint callbacks against ours, on the guarantees that resuming needs.

helpers.training.callbacks keeps its own BestCheckpoint and EpochBackup; these tests record why,
in the installed Keras. BackupAndRestore does bring back the epoch and the optimizer's state after a
full restart (keras-team/keras#19389 and #19179 do not happen in this version), and
ModelCheckpoint's initial_value_threshold does keep a better checkpoint. But both write their
files in place, so a kill while saving destroys the previous file. A kill is simulated by a
layer whose saving raises half-way through the write. If a test of Keras here starts failing,
Keras has changed: see whether its callback can now replace ours.
"""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers.backend import keras
from helpers.model import networks
from helpers.training import callbacks, fitting

STEPS_PER_EPOCH = 3


class KilledMidWrite(BaseException):
    """Stands in for a kill: nothing in Keras or in our code catches it."""


class Tripwire(keras.layers.Layer):
    """Passes its input through; once armed, saving dies when the writer reaches it.

    `spare` saves still go through first (at an epoch's end the backup saves before the best
    checkpoint).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.armed = False
        self.spare = 0

    def call(self, inputs):  # noqa: ANN001, ANN201
        return inputs

    def save_own_variables(self, store) -> None:  # noqa: ANN001
        if self.armed:
            if self.spare == 0:
                raise KilledMidWrite("killed while the file was being written")
            self.spare -= 1
        super().save_own_variables(store)


class ArmAt(keras.callbacks.Callback):
    """Arms the tripwire when the given epoch (0-based) begins: its first save dies."""

    def __init__(self, tripwire: Tripwire, epoch: int, spare: int = 0) -> None:
        super().__init__()
        self.tripwire = tripwire
        self.epoch = epoch
        self.spare = spare

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.tripwire.armed, self.tripwire.spare = epoch == self.epoch, self.spare


class StopAt(keras.callbacks.Callback):
    """Stops training as a kill would, when the given epoch (0-based) begins."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self.epoch:
            raise KilledMidWrite("killed between epochs")


class OptimizerProbe(keras.callbacks.Callback):
    """Records the epochs run and the optimizer's variables at the start and after each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []
        self.at_start: list[np.ndarray] = []
        self.after_epoch: dict[int, list[np.ndarray]] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.at_start = optimizer_state(self.model)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs.append(epoch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.after_epoch[epoch] = optimizer_state(self.model)


def optimizer_state(model: keras.Model) -> list[np.ndarray]:
    """The optimizer's variables in order: iterations, averages, Adam's moments."""
    return [keras.ops.convert_to_numpy(variable) for variable in model.optimizer.variables]


def separable_data(count: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Bright-left versus bright-right 8x8 images in [0, 1]: learnable in a few steps."""
    generator = np.random.default_rng(1)
    labels = np.arange(count) % 2
    images = generator.random((count, 8, 8, 1)) * 0.2
    images[labels == 0, :, :4] += 0.6
    images[labels == 1, :, 4:] += 0.6
    return images.astype(np.float32), labels


def project_model() -> keras.Model:
    """The project's CNN compiled as 04_train does, with a weight average in the optimizer."""
    fitting.set_global_seed(0)
    model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    return fitting.compile_model(model, 1e-3, "cosine", STEPS_PER_EPOCH, 4, "sparse",
                                  ema_momentum=0.9)


def tripwire_model() -> tuple[keras.Model, Tripwire]:
    """A small compiled CNN whose saving can be made to die half-way, and its tripwire."""
    fitting.set_global_seed(0)
    inputs = keras.Input((8, 8, 1))
    tripwire = Tripwire(name="tripwire")
    features = tripwire(keras.layers.Conv2D(2, 3, name="conv")(inputs))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(features))
    model = keras.Model(inputs, outputs)
    fitting.compile_model(model, 1e-2, "constant", STEPS_PER_EPOCH, 4, "sparse")
    model.optimizer.build(model.trainable_variables)
    return model, tripwire


def holds_a_model(path: Path) -> bool:
    """Whether path is a complete .keras archive (a half-written one lacks the weights)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return "model.weights.h5" in archive.namelist()


def keras_fit(model: keras.Model, callbacks: list, epochs: int = 4) -> None:
    images, labels = separable_data()
    model.fit(images, labels, batch_size=16, epochs=epochs, callbacks=callbacks, verbose=0)


@pytest.mark.slow
def test_keras_backup_and_restore_brings_back_the_epoch_and_optimizer_after_a_restart(
        tmp_path: Path) -> None:
    first = OptimizerProbe()
    with pytest.raises(KilledMidWrite):
        keras_fit(project_model(), [keras.callbacks.BackupAndRestore(tmp_path), first,
                                    StopAt(2)])
    restarted = OptimizerProbe()  # a new model, a new callback, the same directory
    model = project_model()
    keras_fit(model, [keras.callbacks.BackupAndRestore(tmp_path), restarted])
    assert restarted.epochs == [2, 3]
    assert int(restarted.at_start[0]) == 2 * STEPS_PER_EPOCH  # Adam's iterations
    assert len(restarted.at_start) == len(first.after_epoch[1]) > 10
    for restored, saved in zip(restarted.at_start, first.after_epoch[1], strict=True):
        np.testing.assert_array_equal(restored, saved)  # moments and weight averages too
    assert int(model.optimizer.iterations) == 4 * STEPS_PER_EPOCH


def test_keras_model_checkpoint_keeps_a_better_checkpoint_from_before_a_resume(
        tmp_path: Path) -> None:
    path = tmp_path / "best.keras"
    path.write_text("the best model of the interrupted run")
    checkpoint = keras.callbacks.ModelCheckpoint(path, save_best_only=True,
                                                 initial_value_threshold=0.25)
    checkpoint.set_model(tripwire_model()[0])
    checkpoint.on_epoch_end(3, {"val_loss": 0.4})
    assert path.read_text() == "the best model of the interrupted run"
    checkpoint.on_epoch_end(4, {"val_loss": 0.2})
    assert holds_a_model(path)


def test_keras_model_checkpoint_writes_in_place_so_a_kill_truncates_the_best_model(
        tmp_path: Path) -> None:
    path = tmp_path / "best.keras"
    model, tripwire = tripwire_model()
    checkpoint = keras.callbacks.ModelCheckpoint(path, save_best_only=True)
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_loss": 0.5})
    assert holds_a_model(path)
    tripwire.armed = True
    with pytest.raises(KilledMidWrite):
        checkpoint.on_epoch_end(1, {"val_loss": 0.4})
    assert not holds_a_model(path)  # the previous best model is gone


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras's own, on the half-written file
def test_keras_backup_and_restore_writes_in_place_so_a_kill_leaves_no_usable_backup(
        tmp_path: Path) -> None:
    model, tripwire = tripwire_model()
    with pytest.raises(KilledMidWrite):
        keras_fit(model, [ArmAt(tripwire, 2),
                          keras.callbacks.BackupAndRestore(tmp_path, double_checkpoint=True)])
    # Even its double_checkpoint falls back only on an OSError, not on a half-written file.
    with pytest.raises(ValueError):
        keras_fit(tripwire_model()[0],
                  [keras.callbacks.BackupAndRestore(tmp_path, double_checkpoint=True)])


@pytest.mark.slow
def test_keras_backup_and_restore_can_record_an_epoch_behind_its_weights(
        tmp_path: Path) -> None:
    model, _ = tripwire_model()
    keras_save_weights = model.save_weights

    def save_then_die(*args, **kwargs) -> None:
        keras_save_weights(*args, **kwargs)
        if int(model.optimizer.iterations) == 3 * STEPS_PER_EPOCH:
            raise KilledMidWrite("killed after the weights, before the epoch was written")

    model.save_weights = save_then_die
    with pytest.raises(KilledMidWrite):
        keras_fit(model, [keras.callbacks.BackupAndRestore(tmp_path)])
    restarted = OptimizerProbe()
    keras_fit(tripwire_model()[0], [keras.callbacks.BackupAndRestore(tmp_path), restarted])
    # Epoch 3 is trained again on top of weights that have already seen it.
    assert restarted.epochs == [2, 3]
    assert int(restarted.at_start[0]) == 3 * STEPS_PER_EPOCH


def test_our_best_checkpoint_keeps_the_previous_model_through_a_kill_mid_save(
        tmp_path: Path) -> None:
    path = tmp_path / "best.keras"
    model, tripwire = tripwire_model()
    checkpoint = callbacks.BestCheckpoint(path)
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_loss": 0.5})
    saved = path.read_bytes()
    tripwire.armed = True
    with pytest.raises(KilledMidWrite):
        checkpoint.on_epoch_end(1, {"val_loss": 0.4})
    assert path.read_bytes() == saved and checkpoint.best == 0.5
    assert [entry.name for entry in tmp_path.iterdir()] == ["best.keras"]  # no stray file


def test_our_backup_keeps_the_previous_epoch_through_a_kill_mid_save(tmp_path: Path) -> None:
    images, labels = separable_data(16)
    model, tripwire = tripwire_model()
    backup = callbacks.EpochBackup(tmp_path, [], 0.0, best=np.inf)
    backup.set_model(model)
    backup.on_train_begin()
    model.train_on_batch(images, labels)
    backup.on_epoch_end(0, {"loss": 0.7, "val_loss": 0.6})
    model.train_on_batch(images, labels)
    tripwire.armed = True
    with pytest.raises(KilledMidWrite):
        backup.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.4})
    state = fitting.read_backup(tmp_path)
    assert state["epoch"] == 1 and state["best"] == 0.6
    restored, _ = tripwire_model()
    restored.load_weights(tmp_path / state["weights"])
    assert int(restored.optimizer.iterations) == 1  # the complete epoch-1 backup


@pytest.mark.slow
def test_fit_resumes_after_a_kill_while_it_was_backing_up(tmp_path: Path) -> None:
    images, labels = separable_data()
    arguments = dict(train_images=images[:32], train_labels=labels[:32],
                     val_images=images[32:], val_labels=labels[32:], batch_size=16, epochs=4,
                     early_stopping_patience=10, checkpoint_path=tmp_path / "best.keras",
                     backup_dir=tmp_path / "backup")
    model, tripwire = tripwire_model()
    with pytest.raises(KilledMidWrite):  # the backup saves first at an epoch's end
        fitting.fit(model, **arguments, extra_callbacks=[ArmAt(tripwire, 2)])
    assert fitting.read_backup(tmp_path / "backup")["epoch"] == 2
    resumed, _ = tripwire_model()
    result = fitting.fit(resumed, **arguments)
    assert list(result.history["epoch"]) == [1, 2, 3, 4]
    assert int(resumed.optimizer.iterations) == 4 * 2  # two batches per epoch


@pytest.mark.slow
def test_a_kill_between_the_backup_and_the_best_checkpoint_keeps_the_best_loss(
        tmp_path: Path) -> None:
    images, labels = separable_data()
    model, tripwire = tripwire_model()
    with pytest.raises(KilledMidWrite):  # the backup saves epoch 1, the checkpoint dies
        fitting.fit(model, images[:32], labels[:32], images[32:], labels[32:], batch_size=16,
                     epochs=4, early_stopping_patience=10,
                     checkpoint_path=tmp_path / "best.keras", backup_dir=tmp_path / "backup",
                     extra_callbacks=[ArmAt(tripwire, 0, spare=1)])
    state = fitting.read_backup(tmp_path / "backup")
    assert state["epoch"] == 1 and not (tmp_path / "best.keras").exists()
    # A resumed run starts from epoch 1's loss: no model worse than that one can be kept.
    assert state["best"] == state["history"][0]["val_loss"] < np.inf
