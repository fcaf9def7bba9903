"""Compile and fit: the run's optimizer and rate schedule (helpers.training.optimizers), early
stopping and a best checkpoint on the monitored figure, resuming after an interruption."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import artifacts
from helpers.backend import keras, tf
from helpers.data.input_pipeline import NO_AUGMENTATION, Augmentation, training_dataset
from helpers.model import networks
from helpers.parameters.optimization import (
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_STOPPING,
    MONITOR_WORDS,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
)
from helpers.streams import native_stderr_to
from helpers.training import devices, optimizers
from helpers.training.callbacks import (
    BACKUP_STATE,
    BestCheckpoint,
    EpochBackup,
    EpochLine,
    ResumableEarlyStopping,
    StopOnNonFiniteLoss,
    epochs_since_best,
    monitored_values,
)


@dataclass(frozen=True)
class TrainingResult:
    """What fit() produced, in the form later steps and reports need."""

    history: pd.DataFrame
    train_seconds: float
    epochs_run: int
    best_epoch: int  # the best value of the monitored figure (early_stopping_monitor)
    resumed_after_epoch: int = 0  # 0: trained in one go; n: an interrupted run resumed after n
    kept_epoch: int = 0  # whose weights the model holds: best_epoch, or the last epoch's


# epochs "auto": a big dataset trains for AUTO_MIN_EPOCHS epochs, the notebooks' default
# before "auto" existed (Fashion-MNIST's 54,000 images give 4,220 steps of 128 in them); a
# small one for as many epochs as it takes to reach AUTO_MIN_STEPS optimizer steps, since
# what a model learns grows with its steps, not its epochs: 810 photos in batches of 128 are
# 7 steps an epoch; 6 epochs of them gave 0.55 test accuracy on 3 classes, 30 epochs 0.927
# (issue 31). Early stopping on validation ends the run sooner when validation loss stops
# falling, so a generous minimum costs seconds on such a set.
AUTO_MIN_EPOCHS = 10
AUTO_MIN_STEPS = 1000
AUTO_MAX_EPOCHS = 200
# With that many more epochs of few steps, a patience of a few epochs would stop on the
# noise of a small validation set: patience grows to this share of the planned epochs.
AUTO_PATIENCE_SHARE = 0.1


@dataclass(frozen=True)
class TrainingLength:
    """How many epochs to train, the early-stopping patience, and why, in sentences."""

    epochs: int
    early_stopping_patience: int
    chosen: bool  # epochs was "auto"
    explanation: tuple[str, ...] = ()


def training_length(epochs: int | str, early_stopping_patience: int,
                    steps_per_epoch: int, monitor: str = "val_loss") -> TrainingLength:
    """The epochs parameter with "auto" resolved for this many optimizer steps per epoch;
    monitor is what early stopping watches (early_stopping_monitor)."""
    if epochs != "auto":
        return TrainingLength(int(epochs), early_stopping_patience, chosen=False)
    wanted = math.ceil(AUTO_MIN_STEPS / steps_per_epoch)
    chosen = min(max(wanted, AUTO_MIN_EPOCHS), AUTO_MAX_EPOCHS)
    patience = max(early_stopping_patience, math.ceil(AUTO_PATIENCE_SHARE * chosen))
    steps = f"{steps_per_epoch:,} optimizer {'step' if steps_per_epoch == 1 else 'steps'}"
    if chosen == AUTO_MIN_EPOCHS:
        why = (f"**{chosen} epochs**: at {steps} per epoch they already give "
               f"{chosen * steps_per_epoch:,} steps, more than the {AUTO_MIN_STEPS:,} "
               f"a model needs at least, so the usual {AUTO_MIN_EPOCHS} epochs are kept")
    else:
        why = (f"**{chosen} epochs**: with only {steps} per epoch, {AUTO_MIN_EPOCHS} epochs "
               f"would be {AUTO_MIN_EPOCHS * steps_per_epoch:,} steps, too few to learn from; "
               f"{chosen} epochs give {chosen * steps_per_epoch:,}"
               + (f" (at most {AUTO_MAX_EPOCHS} epochs are planned)"
                  if chosen == AUTO_MAX_EPOCHS else f", at least {AUTO_MIN_STEPS:,}"))
    lines = [f"The number of epochs was left to `auto`, so it follows the data: {why}."]
    if patience != early_stopping_patience:
        lines.append(f"Early stopping waits **{patience} epochs** without "
                     f"{MONITOR_WORDS[monitor][1]} ({AUTO_PATIENCE_SHARE:.0%} of the planned "
                     "epochs, rather than "
                     f"{early_stopping_patience}): with so few steps per epoch, a few epochs "
                     "are too short to tell a real plateau from the validation set's noise.")
    return TrainingLength(chosen, patience, chosen=True, explanation=tuple(lines))


def set_global_seed(seed: int, deterministic_ops: bool = False) -> None:
    """Seed Python, numpy and TensorFlow from the one `seed` parameter.

    With deterministic_ops, TensorFlow also picks deterministic kernels (and raises for an
    op that has none), so the same seed gives the same figures on the same machine. It
    cannot be switched off again within a process; each notebook has its own kernel.
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def compile_model(model: keras.Model, learning_rate: float, lr_schedule: str,
                  steps_per_epoch: int, epochs: int, label_encoding: str,
                  label_smoothing: float = 0.0, ema_momentum: float = 0.0,
                  xla: str = "auto", optimizer: OptimizerSettings = DEFAULT_OPTIMIZER,
                  schedule: ScheduleSettings = DEFAULT_SCHEDULE) -> keras.Model:
    """Compile with the run's optimizer (Adam unless `optimizer` says otherwise), its rate
    schedule and the cross-entropy that matches the label encoding.

    label_smoothing > 0 trains towards 1 - label_smoothing for the right class and spreads
    the rest over the others (fit() one-hot encodes sparse labels for it). ema_momentum > 0
    keeps an exponential moving average of the weights, which validation, the checkpoints and
    the saved model use (fit() swaps it in). xla: "auto" lets Keras compile with XLA on a GPU.
    """
    rate = optimizers.learning_rate_schedule(learning_rate, lr_schedule, steps_per_epoch,
                                             epochs, schedule)
    if label_smoothing > 0:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    elif label_encoding == "sparse":
        loss = keras.losses.SparseCategoricalCrossentropy()
    else:
        loss = keras.losses.CategoricalCrossentropy()
    built = optimizers.make_optimizer(optimizer, rate, ema_momentum)
    if networks.compute_dtype_policy(model) == "mixed_float16":
        # float16 gradients underflow without loss scaling. Keras adds it by itself only when
        # the model object's own policy is mixed_float16, which a reloaded model's is not.
        built = keras.optimizers.LossScaleOptimizer(built)
    model.compile(optimizer=built, loss=loss, metrics=["accuracy"],
                  jit_compile=devices.jit_compile(xla))
    return model


def _targets_for(model: keras.Model, labels: np.ndarray) -> np.ndarray:
    """Labels in the form the compiled loss expects: one-hot for a categorical loss."""
    if labels.ndim == 1 and isinstance(model.loss, keras.losses.CategoricalCrossentropy):
        return np.eye(int(model.output_shape[-1]), dtype=np.float32)[labels]
    return labels


def read_backup(backup_dir: Path) -> dict | None:
    """The state an interrupted training left in backup_dir, or None."""
    state_path = backup_dir / BACKUP_STATE
    if not state_path.is_file():
        return None
    state = artifacts.read_json(state_path)
    if not (backup_dir / state["weights"]).is_file():
        raise FileNotFoundError(f"{state_path} names {state['weights']}, which is missing: "
                                f"delete {backup_dir} to train from the start")
    return state


def _resume(model: keras.Model, backup_dir: Path, stopping: StoppingSettings) -> dict:
    """Load an interrupted run's weights and optimizer state; its state, or a fresh start's."""
    state = read_backup(backup_dir)
    if not state:
        return {"epoch": 0, "history": [], "train_seconds": 0.0, "best": None, "callbacks": {}}
    monitor = state.get("monitor", "val_loss")
    if monitor != stopping.early_stopping_monitor:
        raise ValueError(f"{backup_dir} was made watching {monitor}, but "
                         f"early_stopping_monitor is {stopping.early_stopping_monitor}: delete "
                         f"{backup_dir} to train from the start, or set it back")
    model.optimizer.build(model.trainable_variables)  # so its state can be loaded too
    model.load_weights(backup_dir / state["weights"])
    print(f"resuming after epoch {state['epoch']} (backup in {backup_dir})", flush=True)
    return {"callbacks": {}, **state, "best": state.get("best", state.get("best_val_loss"))}


def _callbacks(model: keras.Model, epochs: int, early_stopping_patience: int,
               checkpoint: BestCheckpoint, backup: EpochBackup, stopping: StoppingSettings,
               rate_callbacks: Sequence[keras.callbacks.Callback],
               extra_callbacks: Sequence[keras.callbacks.Callback],
               ) -> list[keras.callbacks.Callback]:
    """fit()'s callbacks, in the order their epoch beginnings and ends must run."""
    # The rate callbacks set the epoch's rate before RateLog reads it, and change it (a
    # plateau's cut) before the backup saves their state. With an average of the weights,
    # validation and the checkpoint see the average (it is swapped in at each epoch's end and
    # out again before the next); the backup, before the swap, keeps the trained weights.
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)  # under loss scaling
    ema = ([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)]
           if getattr(optimizer, "use_ema", False) else [])
    return [*rate_callbacks, optimizers.RateLog(), backup, *ema, EpochLine(epochs),
            StopOnNonFiniteLoss(), checkpoint,
            ResumableEarlyStopping(early_stopping_patience, backup.rows,
                                   stopping.early_stopping_monitor, stopping.mode),
            *extra_callbacks]


def _finished_early(history_rows: Sequence[dict], patience: int,
                    stopping: StoppingSettings) -> bool:
    """Whether an interrupted run had already run out of patience: it trains no more."""
    values = monitored_values(history_rows, stopping.early_stopping_monitor)
    return bool(values) and epochs_since_best(values, stopping.mode) >= patience


def fit(model: keras.Model, train_images: np.ndarray, train_labels: np.ndarray,
        val_images: np.ndarray, val_labels: np.ndarray, batch_size: int, epochs: int,
        early_stopping_patience: int, checkpoint_path: str | Path,
        backup_dir: str | Path | None = None,
        extra_callbacks: Sequence[keras.callbacks.Callback] = (), seed: int = 0,
        augmentation: Augmentation = NO_AUGMENTATION, writes_files: bool = True,
        stopping: StoppingSettings = DEFAULT_STOPPING,
        rate_callbacks: Sequence[keras.callbacks.Callback] = (),
        ) -> TrainingResult:
    """Train on the training split, select on the validation split, keep the best weights
    (or, with restore_best_weights off, the last epoch's).

    The training images go through the tf.data pipeline (input_pipeline), augmented there
    if asked. With a backup_dir, an interrupted fit resumes after its last completed epoch,
    with the rate callbacks' state (optimizers.rate_callbacks: a plateau's wait and rate).
    batch_size is the global batch (all replicas together) under a tf.distribute strategy.
    A multi-worker run's non-chief workers pass writes_files=False: they keep their
    checkpoints in a temporary directory, so only the chief writes to the run directory.
    """
    if not writes_files:
        with tempfile.TemporaryDirectory(prefix="worker-") as scratch:
            return fit(model, train_images, train_labels, val_images, val_labels, batch_size,
                       epochs, early_stopping_patience, Path(scratch) / Path(checkpoint_path).name,
                       None, extra_callbacks, seed, augmentation, stopping=stopping,
                       rate_callbacks=rate_callbacks)
    backup_dir = (Path(backup_dir) if backup_dir
                  else Path(checkpoint_path).parent / Path(artifacts.TRAINING_BACKUP).name)
    state = _resume(model, backup_dir, stopping)
    monitor, mode = stopping.early_stopping_monitor, stopping.mode
    resumable = [callback for callback in rate_callbacks if hasattr(callback, "backup_state")]
    for callback in resumable:
        callback.restore_state(state["callbacks"].get(callback.backup_key))
    checkpoint = BestCheckpoint(checkpoint_path, state["best"], monitor, mode)
    backup = EpochBackup(backup_dir, state["history"], state["train_seconds"], checkpoint.best,
                         monitor, mode, resumable)
    initial_epoch = state["epoch"]
    # TensorFlow's C++ log lines (with deterministic ops, a harmless "NodeDef mentions
    # attribute use_unbounded_threadpool" per dataset) go to a file, not into the report.
    native_log = Path(checkpoint_path).with_name("tensorflow.log")
    # A run killed after the epoch that ended its patience, but before it finished, is done.
    if initial_epoch < epochs and not _finished_early(state["history"], early_stopping_patience,
                                                      stopping):
        # A resumed run starts a new shuffling sequence rather than repeating epoch 1's order.
        batches = training_dataset(train_images, _targets_for(model, train_labels), batch_size,
                                   seed + initial_epoch, augmentation)
        with native_stderr_to(native_log):
            model.fit(batches, epochs=epochs, initial_epoch=initial_epoch,
                      validation_data=(val_images, _targets_for(model, val_labels)),
                      validation_batch_size=batch_size, shuffle=False, verbose=0,
                      callbacks=_callbacks(model, epochs, early_stopping_patience, checkpoint,
                                           backup, stopping, rate_callbacks,
                                           extra_callbacks))  # the dataset shuffles
    return _result(model, backup, checkpoint_path, stopping, initial_epoch, backup_dir)


def _result(model: keras.Model, backup: EpochBackup, checkpoint_path: str | Path,
            stopping: StoppingSettings, initial_epoch: int, backup_dir: Path) -> TrainingResult:
    """The finished training: the kept weights in the model, the history and the epochs."""
    table = pd.DataFrame(backup.rows)
    column = table[stopping.early_stopping_monitor]
    best_epoch = int(table.loc[column.idxmax() if stopping.mode == "max" else column.idxmin(),
                               "epoch"])
    kept_epoch = int(table["epoch"].iloc[-1])
    # The best checkpoint, not the last epoch, is the result unless the run asks for the last:
    # this also holds when an interrupted run's best epoch came before the interruption.
    if stopping.restore_best_weights and Path(checkpoint_path).is_file():
        model.load_weights(checkpoint_path)
        kept_epoch = best_epoch
    result = TrainingResult(table, backup.train_seconds(), len(table), best_epoch,
                            resumed_after_epoch=initial_epoch, kept_epoch=kept_epoch)
    shutil.rmtree(backup_dir, ignore_errors=True)  # finished: a re-run starts afresh
    return result
