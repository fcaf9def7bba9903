"""training_source: 03's model code and 04's training code, run together, train the run's network
with the loss, optimizer and learning rate that fitting.compile_model gives it."""

import numpy as np
import pytest
import yaml

from helpers import artifacts, parameters
from helpers.backend import keras
from helpers.data import input_pipeline
from helpers.model import network_code, networks
from helpers.training import fitting, training_code

PARAMS = artifacts.PROJECT_ROOT / "params"
IMAGE_SHAPE, CLASSES = (28, 28, 1), 10
IMAGES, BATCH = 64, 32  # two batches of one epoch: enough to run every line
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
CASES = {**{name: (path, {}) for name, path in PROFILES.items()},
         "default with every option": (PROFILES["default"], EVERYTHING)}


def run_parameters(path, overrides: dict) -> parameters.RunParameters:
    return parameters.validate({**yaml.safe_load(path.read_text()), **overrides})


def settings(params: parameters.RunParameters) -> dict:
    """training_source's arguments as 04 passes them, for one short epoch."""
    return {"learning_rate": params.learning_rate, "lr_schedule": params.lr_schedule,
            "steps_per_epoch": IMAGES // BATCH, "epochs": 1, "batch_size": BATCH,
            "label_encoding": params.label_encoding, "label_smoothing": params.label_smoothing,
            "ema_momentum": params.ema_momentum,
            "early_stopping_patience": params.early_stopping_patience,
            "augmentation": input_pipeline.Augmentation(
                flip=params.augment_flip, shift=params.augment_shift,
                erase=params.augment_erase, rotation=params.augment_rotation,
                zoom=params.augment_zoom),
            "num_classes": CLASSES}


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
    return config


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
    assert len(namespace["history"].history["loss"]) == 1
    assert (tmp_path / training_code.CHECKPOINT_FILE).is_file()
    assert networks.parameter_counts(trained) == networks.parameter_counts(run_model)
    fitting.compile_model(run_model, params.learning_rate, params.lr_schedule,
                           arguments["steps_per_epoch"], arguments["epochs"],
                           params.label_encoding, label_smoothing=params.label_smoothing,
                           ema_momentum=params.ema_momentum, xla="off")
    assert optimizer_settings(trained) == optimizer_settings(run_model)
    assert loss_settings(trained) == loss_settings(run_model)
    assert isinstance(trained.optimizer, keras.optimizers.Adam)
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
