"""A small trained run directory, built in-process from real Fashion-MNIST for the serving tests.

It writes the same artifacts under the same names as notebooks 01-05, with a smaller network
trained for two epochs on a subset, in seconds rather than the minutes of a pipeline run.
"""

from __future__ import annotations

from pathlib import Path

from helpers import artifacts, parameters, step_outputs
from helpers.data import datasets, preprocess
from helpers.evaluation import scoring
from helpers.model import networks
from helpers.training import fitting


def build_trained_run(run_dir: Path, train_images: int = 4000, test_images: int = 0,
                      seed: int = 42) -> Path:
    """Write dataset, split, a two-epoch model, predictions and metrics into run_dir."""
    data = datasets.subsample(datasets.load_dataset("fashion_mnist", download=False), train_images,
                              test_images, seed)
    step_outputs.save_dataset(run_dir, data)
    train_indices, val_indices = preprocess.stratified_split(data.y_train, 0.1, seed)
    step_outputs.save_split(run_dir, train_indices, val_indices, len(data.y_test),
                       parameters.validate({"val_fraction": 0.1, "seed": seed}),
                       preprocess.PIXEL_SCALE)
    fitting.set_global_seed(seed)
    model = networks.build_cnn(data.image_shape, len(data.class_names), conv_filters=(16, 32),
                             dense_units=64, batch_norm=True)
    train = preprocess.load_split(run_dir, "train")
    fitting.compile_model(model, 1e-3, "constant", 1, 1, "sparse")
    model.fit(train.images, train.labels, batch_size=32, epochs=2, verbose=0)
    artifacts.save_with(run_dir / artifacts.MODEL, model.save)
    test = preprocess.load_split(run_dir, "test")
    probabilities = model.predict(test.images, batch_size=256, verbose=0)
    artifacts.write_arrays(run_dir / artifacts.PREDICTIONS, probabilities=probabilities,
                           true_labels=test.labels)
    metrics = scoring.classification_metrics(
        test.labels, scoring.predicted_classes(probabilities), data.class_names)
    artifacts.write_json(run_dir / artifacts.METRICS, metrics)
    return run_dir


def build_synthetic_run(run_dir: Path, image_shape: tuple[int, int, int],
                        class_names: tuple[str, ...], seed: int = 0) -> Path:
    """A run of random images in another shape (e.g. 32x32 RGB) with a briefly trained model.

    It stands in for the other datasets: nothing in export or serving may assume 28x28x1.
    """
    import numpy as np

    generator = np.random.default_rng(seed)
    classes = len(class_names)

    def images(count: int) -> tuple[np.ndarray, np.ndarray]:
        return (generator.integers(0, 256, (count, *image_shape), dtype=np.uint8),
                np.arange(count, dtype=np.int64) % classes)

    (x_train, y_train), (x_test, y_test) = images(120), images(30)
    step_outputs.save_dataset(run_dir, datasets.Dataset("synthetic", x_train, y_train, x_test,
                                                     y_test, class_names, "random"))
    train_indices, val_indices = preprocess.stratified_split(y_train, 0.2, seed)
    step_outputs.save_split(run_dir, train_indices, val_indices, len(y_test),
                       parameters.validate({"val_fraction": 0.2, "seed": seed}),
                       preprocess.PIXEL_SCALE)
    model = networks.build_cnn(image_shape, classes, conv_filters=(8,), dense_units=16)
    fitting.compile_model(model, 1e-3, "constant", 1, 1, "sparse")
    model.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0)
    artifacts.save_with(run_dir / artifacts.MODEL, model.save)
    return run_dir
