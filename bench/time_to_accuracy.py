"""Time to accuracy: keras.io's "simple MNIST convnet" against the project's default profile.

Both train in this one process on the same real Fashion-MNIST arrays, one after the other.
After every epoch the 10,000 test images are scored, for this benchmark only, and the time
that scoring takes is left out of the timed span. Printed for each: the final test
accuracy, the training seconds until the test accuracy first reached the target (0.90), and
the ratio of the two. The result also goes to a JSON file for docs/results.md.

    python bench/time_to_accuracy.py [--out reports/runs/bench/time_to_accuracy.json]
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from helpers import artifacts, parameters
from helpers.backend import keras
from helpers.data import datasets, input_pipeline, preprocess
from helpers.model import networks
from helpers.training import devices, fitting

TARGET_ACCURACY = 0.90
SEED = 42
DEFAULT_PROFILE = artifacts.PROJECT_ROOT / "params" / "default.yaml"


class TestAccuracyClock(keras.callbacks.Callback):
    """Scores the test set after each epoch; keeps training time apart from scoring time."""

    def __init__(self, test_images: np.ndarray, test_labels: np.ndarray) -> None:
        super().__init__()
        self.test_images, self.test_labels = test_images, test_labels
        self.epochs: list[dict] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()
        self.scoring_seconds = 0.0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        stopped = time.perf_counter()
        probabilities = self.model.predict(self.test_images, batch_size=1000, verbose=0)
        accuracy = float(np.mean(probabilities.argmax(axis=1) == self.test_labels))
        self.epochs.append({"epoch": epoch + 1, "test_accuracy": round(accuracy, 4),
                            "train_seconds": round(stopped - self.started
                                                   - self.scoring_seconds, 2)})
        self.scoring_seconds += time.perf_counter() - stopped


def keras_io_simple_convnet(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """https://keras.io/examples/vision/mnist_convnet/, layer for layer."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


def run_reference(data: datasets.Dataset) -> TestAccuracyClock:
    """keras.io's recipe: inputs scaled outside the model, one-hot labels, Adam, batch 128,
    15 epochs, validation_split 0.1."""
    fitting.set_global_seed(SEED, deterministic_ops=True)
    keras.mixed_precision.set_global_policy("float32")  # keras.io's example as published
    classes = len(data.class_names)
    model = keras_io_simple_convnet(data.image_shape, classes)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    clock = TestAccuracyClock(data.x_test.astype("float32") / 255, data.y_test)
    model.fit(data.x_train.astype("float32") / 255,
              keras.utils.to_categorical(data.y_train, classes), batch_size=128, epochs=15,
              validation_split=0.1, callbacks=[clock], verbose=0)
    return clock


def run_project_default(data: datasets.Dataset) -> TestAccuracyClock:
    """What `make run` trains, read from params/default.yaml, through the project's own fit."""
    profile = parameters.validate(parameters.read_parameters_file(DEFAULT_PROFILE))
    fitting.set_global_seed(SEED, deterministic_ops=True)
    train_rows, val_rows = preprocess.stratified_split(data.y_train, profile.val_fraction, SEED)
    devices.use_precision(profile.mixed_precision)  # as 03_build_model does
    model = networks.build_model(data.image_shape, len(data.class_names), profile)
    keras.mixed_precision.set_global_policy("float32")
    fitting.compile_model(model, profile.learning_rate, profile.lr_schedule,
                           math.ceil(len(train_rows) / profile.batch_size), profile.epochs,
                           profile.label_encoding, profile.label_smoothing,
                           profile.ema_momentum)
    clock = TestAccuracyClock(data.x_test, data.y_test)
    with tempfile.TemporaryDirectory() as scratch:
        fitting.fit(model, data.x_train[train_rows], data.y_train[train_rows],
                     data.x_train[val_rows], data.y_train[val_rows],
                     batch_size=profile.batch_size, epochs=profile.epochs,
                     early_stopping_patience=profile.early_stopping_patience,
                     checkpoint_path=Path(scratch) / "best.keras", extra_callbacks=[clock],
                     seed=SEED, augmentation=input_pipeline.Augmentation(
                         flip=profile.augment_flip, shift=profile.augment_shift,
                         erase=profile.augment_erase, rotation=profile.augment_rotation,
                         zoom=profile.augment_zoom))
    return clock


def seconds_to(clock: TestAccuracyClock, target: float) -> float | None:
    """Training seconds at the end of the first epoch whose test accuracy reached target."""
    return next((epoch["train_seconds"] for epoch in clock.epochs
                 if epoch["test_accuracy"] >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=artifacts.PROJECT_ROOT / "reports" / "runs" / "bench" /
                        "time_to_accuracy.json")
    arguments = parser.parse_args()
    data = datasets.load_dataset("fashion_mnist")
    results = {}
    for name, runner in (("keras.io simple convnet", run_reference),
                         ("project default profile", run_project_default)):
        clock = runner(data)
        results[name] = {"final_test_accuracy": clock.epochs[-1]["test_accuracy"],
                         "compute_dtype_policy": networks.compute_dtype_policy(clock.model),
                         "seconds_to_target": seconds_to(clock, TARGET_ACCURACY),
                         "train_seconds": clock.epochs[-1]["train_seconds"],
                         "epochs": clock.epochs}
        print(f"{name:<25} final test accuracy {clock.epochs[-1]['test_accuracy']:.4f}, "
              f"{TARGET_ACCURACY} reached after {seconds_to(clock, TARGET_ACCURACY)} s "
              f"of {clock.epochs[-1]['train_seconds']:.1f} s of training", flush=True)
    reference, project = (results[name]["seconds_to_target"] for name in results)
    ratio = project / reference if reference and project else None
    print(f"time to {TARGET_ACCURACY}: project / keras.io = "
          + (f"{ratio:.2f} (target <= 0.33)" if ratio else "n/a: a model never reached it"))
    # The whole training of each recipe (keras.io's 15 epochs, ours as configured).
    total_ratio = (results["project default profile"]["train_seconds"]
                   / results["keras.io simple convnet"]["train_seconds"])
    print(f"whole training: project / keras.io = {total_ratio:.2f}")
    artifacts.write_json(arguments.out, {
        "target_accuracy": TARGET_ACCURACY, "ratio": round(ratio, 3) if ratio else None,
        "train_seconds_ratio": round(total_ratio, 3),
        "models": results, "machine": artifacts.machine_info([]),
        "python": platform.python_version(), "versions": artifacts.package_versions(),
        "git": artifacts.git_state()})
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
