"""The optimizers and learning-rate schedules of helpers.training.optimizers: Keras's classes
with the run's settings, each schedule's rate per epoch against its formula, the plateau
schedule's cuts in history.csv, and a plateau run killed and resumed with its wait and rate."""

import math
from pathlib import Path

import numpy as np
import pytest

from helpers.backend import keras
from helpers.model import networks
from helpers.parameters.optimization import (
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_STOPPING,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
    epoch_rates,
)
from helpers.training import fitting, optimizers

STEPS = 3  # steps per epoch of the tiny fits: 48 images in batches of 16


def tiny_model(learning_rate: float = 0.05, schedule: str = "constant", epochs: int = 6,
               optimizer: OptimizerSettings = DEFAULT_OPTIMIZER,
               settings: ScheduleSettings = DEFAULT_SCHEDULE) -> keras.Model:
    fitting.set_global_seed(0)
    model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    return fitting.compile_model(model, learning_rate, schedule, STEPS, epochs, "sparse",
                                 optimizer=optimizer, schedule=settings)


def rate_at(model: keras.Model, step: int) -> float:
    """The rate the optimizer uses in a step (0-based), as Keras computes it."""
    rate = optimizers._schedule_of(model.optimizer)
    return float(rate(step)) if rate is not None else optimizers.current_rate(model.optimizer)


@pytest.mark.parametrize("settings, keras_class, expected", [
    (OptimizerSettings(), keras.optimizers.Adam, {}),
    (OptimizerSettings("sgd"), keras.optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    (OptimizerSettings("sgd", momentum=0.9, nesterov=True, weight_decay=5e-4),
     keras.optimizers.SGD, {"momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}),
    (OptimizerSettings("adamw", weight_decay=0.004), keras.optimizers.AdamW,
     {"weight_decay": 0.004}),
    (OptimizerSettings("rmsprop", momentum=0.5), keras.optimizers.RMSprop, {"momentum": 0.5}),
])
def test_each_optimizer_is_kerass_class_with_the_runs_settings(
        settings: OptimizerSettings, keras_class: type, expected: dict) -> None:
    model = tiny_model(optimizer=settings)
    assert type(model.optimizer) is keras_class
    config = model.optimizer.get_config()
    for name, value in expected.items():
        assert config[name] == pytest.approx(value), name
    assert settings.optimizer != "adam" or config["weight_decay"] is None


def test_an_unknown_optimizer_is_named() -> None:
    with pytest.raises(ValueError, match="optimizer='adagrad'"):
        optimizers.make_optimizer(OptimizerSettings("adagrad"), 0.01)


# (schedule, settings, the rate of each of 6 epochs of STEPS steps, from its formula)
LR = 0.05
PER_EPOCH = {
    "constant": ("constant", ScheduleSettings(), [LR] * 6),
    "step every 2 epochs × 0.5": ("step", ScheduleSettings(lr_decay_epochs=2),
                                  [LR, LR, LR / 2, LR / 2, LR / 4, LR / 4]),
    "exponential × 0.9 per epoch": ("exponential", ScheduleSettings(lr_decay_factor=0.9),
                                    [LR * 0.9 ** epoch for epoch in range(6)]),
    "warm-up 2, then step every 2": ("step", ScheduleSettings(lr_decay_epochs=2,
                                                              lr_warmup_epochs=2),
                                     [LR / 3, 2 * LR / 3, LR, LR, LR / 2, LR / 2]),
    "warm-up 1, then exponential": ("exponential", ScheduleSettings(lr_warmup_epochs=1),
                                    [LR / 2, LR, LR / 2, LR / 4, LR / 8, LR / 16]),
    "warm-up 3, then constant": ("constant", ScheduleSettings(lr_warmup_epochs=3),
                                 [LR / 4, LR / 2, 3 * LR / 4, LR, LR, LR]),
}


@pytest.mark.parametrize("schedule, settings, expected", PER_EPOCH.values(), ids=PER_EPOCH)
def test_each_epochs_rate_follows_the_schedules_formula(
        schedule: str, settings: ScheduleSettings, expected: list[float]) -> None:
    assert epoch_rates(LR, schedule, 6, settings) == pytest.approx(expected)
    model = tiny_model(LR, schedule, 6, settings=settings)
    for epoch, rate in enumerate(expected):  # every step of the epoch, the first and last
        for step in (epoch * STEPS, epoch * STEPS + STEPS - 1):
            assert rate_at(model, step) == pytest.approx(rate, rel=1e-6), (epoch, step)


def test_cosine_falls_to_zero_after_its_warm_up() -> None:
    model = tiny_model(LR, "cosine", 6, settings=ScheduleSettings(lr_warmup_epochs=2))
    warmup = 2 * STEPS
    assert rate_at(model, 0) == 0.0  # CosineDecay's warm-up starts at 0
    assert rate_at(model, warmup // 2) == pytest.approx(LR / 2)
    assert rate_at(model, warmup) == pytest.approx(LR)
    halfway = warmup + (6 * STEPS - warmup) // 2  # half the cosine: half the rate
    assert rate_at(model, halfway) == pytest.approx(LR / 2, rel=1e-5)
    assert rate_at(model, 6 * STEPS) == pytest.approx(0.0, abs=1e-9)


def test_a_warm_up_as_long_as_the_run_is_refused() -> None:
    with pytest.raises(ValueError, match="lr_warmup_epochs=6 leaves no epoch"):
        optimizers.learning_rate_schedule(LR, "step", STEPS, 6, ScheduleSettings(
            lr_warmup_epochs=6))


def plateau_on(model: keras.Model, state: dict | None = None) -> optimizers.ResumablePlateau:
    """A plateau callback of patience 2 on the model, begun as fit() begins it."""
    plateau = optimizers.ResumablePlateau(ScheduleSettings(lr_plateau_patience=2))
    plateau.set_model(model)
    plateau.restore_state(state)
    plateau.on_train_begin()
    return plateau


def test_a_restored_plateau_counts_on_from_its_wait_and_keeps_its_rate() -> None:
    model = tiny_model(LR, "plateau")
    fresh = plateau_on(model)
    for epoch, loss in enumerate((0.5, 0.6)):  # one epoch without a new low: wait 1
        fresh.on_epoch_end(epoch, {"val_loss": loss})
    state = {**fresh.backup_state(), "learning_rate": LR / 2}  # as after an earlier cut
    assert (state["wait"], state["best"]) == (1, 0.5)

    resumed = plateau_on(tiny_model(LR, "plateau"), state)
    assert (resumed.wait, resumed.best) == (1, 0.5)
    assert optimizers.current_rate(resumed.model.optimizer) == pytest.approx(LR / 2)
    resumed.on_epoch_end(2, {"val_loss": 0.55})  # the second epoch without a new low: a cut
    assert optimizers.current_rate(resumed.model.optimizer) == pytest.approx(LR / 4)
    # Why ours: Keras's own forgets its wait and best when a resumed fit begins again.
    keras_own = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
    keras_own.set_model(tiny_model(LR, "plateau"))
    keras_own.wait, keras_own.best = 1, 0.5
    keras_own.on_train_begin()
    assert (keras_own.wait, keras_own.best) == (0, None)


def tiny_data(count: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Noise images with alternating labels: validation loss stalls, so a plateau cuts."""
    generator = np.random.default_rng(0)
    return (generator.integers(0, 256, (count, 8, 8, 1), dtype=np.uint8),
            np.arange(count) % 2)


def fit_tiny(model: keras.Model, tmp_path: Path, schedule: str = "constant",
             settings: ScheduleSettings = DEFAULT_SCHEDULE, epochs: int = 6,
             stopping: StoppingSettings = DEFAULT_STOPPING, **extra) -> fitting.TrainingResult:
    images, labels = tiny_data()
    return fitting.fit(model, images[:48], labels[:48], images[48:], labels[48:], batch_size=16,
                       epochs=epochs, early_stopping_patience=10,
                       checkpoint_path=tmp_path / "best.keras", backup_dir=tmp_path / "backup",
                       stopping=stopping,
                       rate_callbacks=optimizers.rate_callbacks(LR, schedule, settings), **extra)


def keras_plateau_rates(val_losses: list[float], patience: int, factor: float,
                        warmup: int = 0) -> list[float]:
    """The rate of each epoch as ReduceLROnPlateau's rule gives it (min_delta 1e-4); a cut
    within the warm-up is undone by the next warm-up epoch's rate."""
    rates, rate, best, wait = [], LR, math.inf, 0
    for epoch, loss in enumerate(val_losses):
        rates.append(LR * (epoch + 1) / (warmup + 1) if epoch < warmup else rate)
        if loss < best - 1e-4:
            best, wait = loss, 0
        else:
            wait += 1
            if wait >= patience:
                rate, wait = rate * factor if epoch >= warmup else rate, 0
    return rates


@pytest.mark.slow
@pytest.mark.parametrize("schedule, settings, expected", [
    PER_EPOCH["warm-up 2, then step every 2"], PER_EPOCH["exponential × 0.9 per epoch"]],
    ids=["warm-up and step", "exponential"])
def test_history_records_each_epochs_rate(tmp_path: Path, schedule: str,
                                          settings: ScheduleSettings, expected: list) -> None:
    model = tiny_model(LR, schedule, 6, OptimizerSettings("sgd", momentum=0.9), settings)
    result = fit_tiny(model, tmp_path, schedule, settings)
    assert list(result.history["learning_rate"]) == pytest.approx(expected)


@pytest.mark.slow
def test_a_plateau_halves_the_rate_in_history_after_its_patience(tmp_path: Path) -> None:
    settings = ScheduleSettings(lr_plateau_patience=1, lr_warmup_epochs=1)
    model = tiny_model(LR, "plateau", 6, OptimizerSettings("sgd", momentum=0.9), settings)
    result = fit_tiny(model, tmp_path, "plateau", settings)
    rates = list(result.history["learning_rate"])
    assert rates == pytest.approx(keras_plateau_rates(list(result.history["val_loss"]), 1, 0.5,
                                                      warmup=1))
    assert any(later == pytest.approx(earlier / 2) for earlier, later in zip(rates[1:], rates[2:],
                                                                            strict=False))


class InterruptAfter(keras.callbacks.Callback):
    """Raises when the given epoch (0-based) begins, as a kill between epochs would."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt("killed")


class PlateauProbe(keras.callbacks.Callback):
    """Keeps the plateau's wait, best and the optimizer's rate when training begins."""

    def __init__(self, plateau: optimizers.ResumablePlateau) -> None:
        super().__init__()
        self.plateau = plateau
        self.at_start: tuple = ()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.at_start = (self.plateau.wait, self.plateau.best,
                         optimizers.current_rate(self.model.optimizer))


@pytest.mark.slow
def test_a_killed_plateau_run_resumes_with_its_reduced_rate_and_wait(tmp_path: Path) -> None:
    settings = ScheduleSettings(lr_plateau_patience=2)
    sgd = OptimizerSettings("sgd", momentum=0.9)
    images, labels = tiny_data()
    arguments = dict(train_images=images[:48], train_labels=labels[:48],
                     val_images=images[48:], val_labels=labels[48:], batch_size=16, epochs=8,
                     early_stopping_patience=10, checkpoint_path=tmp_path / "best.keras",
                     backup_dir=tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fitting.fit(tiny_model(LR, "plateau", 8, sgd, settings), **arguments,
                    rate_callbacks=optimizers.rate_callbacks(LR, "plateau", settings),
                    extra_callbacks=[InterruptAfter(6)])
    saved = fitting.read_backup(tmp_path / "backup")
    plateau_state = saved["callbacks"]["plateau"]
    before = [row["learning_rate"] for row in saved["history"]]
    # Killed after epoch 6: the rate was halved after epoch 5, and epoch 6 brought no new
    # low either, so the plateau was one epoch into its next wait.
    assert saved["epoch"] == 6 and before[-1] == pytest.approx(LR / 2)
    assert plateau_state["wait"] == 1
    assert plateau_state["learning_rate"] == pytest.approx(LR / 2)

    rate_callbacks = optimizers.rate_callbacks(LR, "plateau", settings)  # as 04 builds them
    probe = PlateauProbe(rate_callbacks[-1])
    result = fitting.fit(tiny_model(LR, "plateau", 8, sgd, settings), **arguments,
                         rate_callbacks=rate_callbacks, extra_callbacks=[probe])
    assert probe.at_start == (plateau_state["wait"], pytest.approx(plateau_state["best"]),
                              pytest.approx(plateau_state["learning_rate"]))
    rates = list(result.history["learning_rate"])
    assert rates[:6] == before and rates[6] == pytest.approx(plateau_state["learning_rate"])
    # The whole history, across the kill, follows the rule as if nothing had happened.
    assert rates == pytest.approx(keras_plateau_rates(list(result.history["val_loss"]), 2, 0.5))


@pytest.mark.slow
def test_early_stopping_on_accuracy_can_keep_the_last_epoch(tmp_path: Path) -> None:
    class LastWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.weights = [np.array(weight) for weight in self.model.get_weights()]

    last = LastWeights()
    model = tiny_model(LR)
    stopping = StoppingSettings("val_accuracy", restore_best_weights=False)
    result = fit_tiny(model, tmp_path, stopping=stopping, extra_callbacks=[last])
    accuracy = list(result.history["val_accuracy"])
    assert result.best_epoch == accuracy.index(max(accuracy)) + 1
    assert result.kept_epoch == result.epochs_run
    for kept, trained in zip(model.get_weights(), last.weights, strict=True):
        np.testing.assert_array_equal(kept, trained)
    assert (tmp_path / "best.keras").is_file()  # the best checkpoint is still written
