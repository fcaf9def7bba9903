"""training_source: 03's model code and 04's training code, run together, train the run's network
with the loss, optimizer and learning rate that fitting.compile_model gives it, and the rate
and early-stopping callbacks that fitting.fit uses."""

import numpy as np
import pytest
import yaml

from helpers import artifacts, parameters
from helpers.backend import keras
from helpers.data import input_pipeline
from helpers.model import network_code, networks
from helpers.parameters.optimization import OptimizerSettings, ScheduleSettings, StoppingSettings
from helpers.training import fitting, optimizers, training_code

PARAMS = artifacts.PROJECT_ROOT / "params"
IMAGE_SHAPE, CLASSES = (28, 28, 1), 10
IMAGES, BATCH, EPOCHS = 64, 32, 2  # two batches an epoch, two epochs (one warm-up epoch)
PROFILES = {
    "default": PARAMS / "default.yaml",
    "a: layers with l2, sparse": PARAMS / "assignments" / "a_csv_cnn_l2.yaml",
    "b: layers, one_hot": PARAMS / "assignments" / "b_mnist_5k_cnn_bn_dropout.yaml",
    "c: flip and rotation": PARAMS / "assignments" / "c_fashion_cnn_augment.yaml",
    "d: mlp, one_hot": PARAMS / "assignments" / "d_fashion_mlp.yaml",
}
# Every option switched on: smoothing of sparse labels, the weight average, all augmentations.
EVERYTHING = {"label_smoothing": 0.1, "ema_momentum": 0.9, "augment_flip": True,
              "augment_shift": 0.1, "augment_rotation": 15.0, "augment_zoom": 0.1,
              "augment_erase": 0.5, "early_stopping_patience": 0}
# Each optimizer, each schedule and warm-up, and early stopping's other settings.
OPTIMIZERS = {
    "sgd, Nesterov, plateau with warm-up, on accuracy, last weights": {
        "optimizer": "sgd", "momentum": 0.9, "nesterov": True, "learning_rate": 0.05,
        "lr_schedule": "plateau", "lr_plateau_patience": 1, "lr_warmup_epochs": 1,
        "lr_min": 1e-4, "early_stopping_monitor": "val_accuracy",
        "restore_best_weights": False},
    "adamw, step decay with warm-up": {"optimizer": "adamw", "weight_decay": 0.004,
                                       "lr_schedule": "step", "lr_decay_epochs": 1,
                                       "lr_warmup_epochs": 1},
    "rmsprop with momentum, exponential": {"optimizer": "rmsprop", "momentum": 0.5,
                                           "lr_schedule": "exponential", "lr_decay_factor": 0.9},
    "sgd with weight decay, cosine with warm-up": {"optimizer": "sgd", "weight_decay": 5e-4,
                                                   "learning_rate": 0.01, "lr_warmup_epochs": 1},
    "adam, constant with warm-up": {"lr_schedule": "constant", "lr_warmup_epochs": 1},
}
CASES = {**{name: (path, {}) for name, path in PROFILES.items()},
         "default with every option": (PROFILES["default"], EVERYTHING),
         **{name: (PROFILES["default"], overrides) for name, overrides in OPTIMIZERS.items()}}


def run_parameters(path, overrides: dict) -> parameters.RunParameters:
    return parameters.validate({**yaml.safe_load(path.read_text()), **overrides})


def settings(params: parameters.RunParameters) -> dict:
    """training_source's arguments as 04 passes them, for one short epoch."""
    return {"learning_rate": params.learning_rate, "lr_schedule": params.lr_schedule,
            "steps_per_epoch": IMAGES // BATCH, "epochs": EPOCHS, "batch_size": BATCH,
            "label_encoding": params.label_encoding, "label_smoothing": params.label_smoothing,
            "ema_momentum": params.ema_momentum,
            "early_stopping_patience": params.early_stopping_patience,
            "augmentation": input_pipeline.Augmentation(
                flip=params.augment_flip, shift=params.augment_shift,
                erase=params.augment_erase, rotation=params.augment_rotation,
                zoom=params.augment_zoom),
            "num_classes": CLASSES, "optimizer": OptimizerSettings.of(params),
            "schedule": ScheduleSettings.of(params), "stopping": StoppingSettings.of(params)}


def split(count: int, label_encoding: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw uint8 images and labels encoded as 02_preprocess encodes them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, *IMAGE_SHAPE), dtype=np.uint8)
    labels = rng.integers(0, CLASSES, count)
    return images, (np.eye(CLASSES, dtype=np.float32)[labels] if label_encoding == "one_hot"
                    else labels)


def optimizer_settings(model: keras.Model) -> dict:
    config = model.optimizer.get_config()
    del config["name"]
    if not config["use_ema"]:
        del config["ema_momentum"]  # unused without the average
    if not isinstance(config["learning_rate"], dict):
        del config["learning_rate"]  # a number the rate callbacks move: compared by epoch
    return config


def callbacks_of(kind: type, callbacks: list) -> list:
    return [callback for callback in callbacks if isinstance(callback, kind)]


def assert_same_callbacks(listed: list, params: parameters.RunParameters) -> None:
    """The listing's plateau, warm-up and early stopping do what fit()'s do."""
    ours = optimizers.rate_callbacks(params.learning_rate, params.lr_schedule,
                                     ScheduleSettings.of(params))
    plateau = callbacks_of(keras.callbacks.ReduceLROnPlateau, listed)
    assert len(plateau) == len(callbacks_of(keras.callbacks.ReduceLROnPlateau, ours))
    for theirs, own in zip(plateau, callbacks_of(keras.callbacks.ReduceLROnPlateau, ours),
                           strict=True):
        assert [(callback.monitor, callback.factor, callback.patience, callback.min_lr,
                 abs(callback.min_delta), callback.cooldown) for callback in (theirs, own)] \
            == [(own.monitor, own.factor, own.patience, own.min_lr, abs(own.min_delta),
                 own.cooldown)] * 2
    warm_ups = [callbacks_of(keras.callbacks.LearningRateScheduler, found)
                for found in (listed, ours)]
    assert len(warm_ups[0]) == len(warm_ups[1])
    for theirs, own in zip(*warm_ups, strict=True):
        for epoch in range(4):
            assert theirs.schedule(epoch, 0.001) == own.schedule(epoch, 0.001)
    stopping = callbacks_of(keras.callbacks.EarlyStopping, listed)[0]
    assert (stopping.monitor, stopping.patience, stopping.restore_best_weights) == (
        params.early_stopping_monitor, params.early_stopping_patience,
        params.restore_best_weights)


def loss_settings(model: keras.Model) -> tuple[type, dict]:
    return type(model.loss), model.loss.get_config()


@pytest.mark.slow
@pytest.mark.parametrize("path, overrides", CASES.values(), ids=CASES)
def test_both_listings_train_the_run_network_as_compile_model_does(
        path, overrides: dict, tmp_path, monkeypatch) -> None:
    params = run_parameters(path, overrides)
    run_model = networks.build_model(IMAGE_SHAPE, CLASSES, params)
    arguments = settings(params)
    source = (network_code.keras_source(run_model) + "\n"
              + training_code.training_source(**arguments))
    x_train, y_train = split(IMAGES, params.label_encoding, seed=1)
    x_val, y_val = split(16, params.label_encoding, seed=2)
    namespace = {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}
    monkeypatch.chdir(tmp_path)  # the checkpoint lands here
    keras.utils.set_random_seed(0)
    exec(source, namespace)  # the code a student pastes, run as it is

    trained = namespace["model"]
    assert len(namespace["history"].history["loss"]) == EPOCHS
    assert (tmp_path / training_code.CHECKPOINT_FILE).is_file()
    assert networks.parameter_counts(trained) == networks.parameter_counts(run_model)
    fitting.compile_model(run_model, params.learning_rate, params.lr_schedule,
                           arguments["steps_per_epoch"], arguments["epochs"],
                           params.label_encoding, label_smoothing=params.label_smoothing,
                           ema_momentum=params.ema_momentum, xla="off",
                           optimizer=arguments["optimizer"], schedule=arguments["schedule"])
    assert optimizer_settings(trained) == optimizer_settings(run_model)
    assert loss_settings(trained) == loss_settings(run_model)
    assert type(trained.optimizer) is type(run_model.optimizer)
    assert type(trained.optimizer).__name__ == arguments["optimizer"].keras_name
    assert_same_callbacks(namespace["callbacks"], params)
    augmented = arguments["augmentation"].active
    assert ("augmentation" in namespace) == augmented


def test_default_profile_reads_as_a_student_writes_it() -> None:
    params = run_parameters(PROFILES["default"], {})
    source = training_code.training_source(**{**settings(params), "steps_per_epoch": 211,
                                              "epochs": 6, "batch_size": 256})
    lines = source.splitlines()
    assert lines[0] == "import keras" and "layers" not in source
    assert ("learning_rate = keras.optimizers.schedules.CosineDecay(0.003, decay_steps=1266)"
            in lines)
    assert "    optimizer=keras.optimizers.Adam(learning_rate=learning_rate)," in lines
    assert "    loss=keras.losses.SparseCategoricalCrossentropy()," in lines
    assert ('    keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, '
            'restore_best_weights=True),') in lines
    assert "    batch_size=256," in lines and "    epochs=6," in lines
    assert "# Stop after 4 epochs without a lower validation loss;" in lines
    for engineering in ("strategy", "xla", "jit", "oneDNN", "resume", "mixed", "SwapEMA",
                        "label_smoothing", "to_categorical"):
        assert engineering not in source


def test_only_switched_on_augmentations_are_written() -> None:
    params = run_parameters(PROFILES["c: flip and rotation"], {})
    source = training_code.training_source(**settings(params))
    assert 'layers.RandomFlip("horizontal"),' in source
    assert 'layers.RandomRotation(10 / 360, fill_mode="constant"),' in source
    for absent in ("RandomTranslation", "RandomZoom", "RandomErasing"):
        assert absent not in source


def test_a_patience_that_cannot_stop_early_is_said_so() -> None:
    params = run_parameters(PROFILES["a: layers with l2, sparse"], {})
    source = training_code.training_source(**{**settings(params), "epochs": 10})
    assert "# All 10 epochs run (a patience of 10 cannot stop them early);" in source
    assert "loss=keras.losses.SparseCategoricalCrossentropy()" in source
    assert "learning_rate=0.001)" in source and "CosineDecay" not in source


@pytest.mark.parametrize("name, value, message", [
    ("lr_schedule", "linear", "lr_schedule='linear'"),
    ("label_encoding", "integer", "label_encoding='integer'"),
    ("steps_per_epoch", 0, "steps_per_epoch=0"),
])
def test_a_setting_it_cannot_write_is_named(name: str, value, message: str) -> None:
    arguments = {**settings(run_parameters(PROFILES["default"], {})), name: value}
    with pytest.raises(ValueError, match=message):
        training_code.training_source(**arguments)


def test_an_sgd_plateau_run_reads_as_a_student_writes_it() -> None:
    params = run_parameters(PROFILES["default"],
                            OPTIMIZERS["sgd, Nesterov, plateau with warm-up, on accuracy, "
                                       "last weights"])
    source = training_code.training_source(**{**settings(params), "steps_per_epoch": 211,
                                              "epochs": 6})
    lines = source.splitlines()
    assert ("    optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, "
            "nesterov=True),") in lines
    assert ('    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, '
            'min_lr=0.0001),') in lines
    assert "    keras.callbacks.LearningRateScheduler(warm_up)," in lines
    assert '    keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=4),' in lines
    assert "# but keep the last epoch's weights (restore_best_weights is off)." in lines
    for other in ("Adam", "CosineDecay", "restore_best_weights=True"):
        assert other not in source


def test_a_step_decay_after_a_warm_up_lists_one_rate_per_epoch() -> None:
    params = run_parameters(PROFILES["default"], OPTIMIZERS["adamw, step decay with warm-up"])
    source = training_code.training_source(**{**settings(params), "steps_per_epoch": 211,
                                              "epochs": 6})
    assert ("rates = [0.003 * k / 2 for k in range(1, 2)] + [0.003 * 0.5 ** (epoch // 1) for "
            "epoch in range(5)]") in source
    assert "[211 * epoch - 1 for epoch in range(1, len(rates))], rates)" in source
    assert "optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=0.004)," \
        in source
