"""Training throughput through the tf.data pipeline against a bare `model.fit` on numpy arrays.

The default profile's model, the real Fashion-MNIST training images, no validation. Each
variant trains for 3 epochs on a freshly built model; the first epoch (tracing, warm-up)
is left out and images per second are taken over epochs 2-3. Variants run in turn in one
process, twice each, alternating, so drifts in machine load hit both.

    python bench/input_pipeline.py
"""

from __future__ import annotations

import math
import time

import numpy as np

from helpers.backend import keras
from helpers.data import datasets
from helpers.data.input_pipeline import Augmentation, training_dataset
from helpers.model import networks
from helpers.training import fitting

BATCH_SIZE = 128
EPOCHS = 3


class EpochClock(keras.callbacks.Callback):
    """Wall seconds of each epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds = [*getattr(self, "seconds", []), time.perf_counter() - self.started]


def images_per_second(data: datasets.Dataset, variant: str) -> float:
    fitting.set_global_seed(42, deterministic_ops=True)
    model = networks.build_cnn(data.image_shape, 10, batch_norm=True)
    fitting.compile_model(model, 1e-3, "cosine", math.ceil(len(data.y_train) / BATCH_SIZE),
                           EPOCHS, "sparse")
    clock = EpochClock()
    if variant == "numpy arrays":
        model.fit(data.x_train, data.y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,
                  shuffle=True, callbacks=[clock], verbose=0)
    else:
        augmentation = (Augmentation(flip=True, shift=0.1, erase=0.5)
                        if variant == "tf.data, augmented" else Augmentation())
        model.fit(training_dataset(data.x_train, data.y_train, BATCH_SIZE, 42, augmentation),
                  epochs=EPOCHS, shuffle=False, callbacks=[clock], verbose=0)
    return len(data.y_train) * (EPOCHS - 1) / sum(clock.seconds[1:])


def main() -> None:
    data = datasets.load_dataset("fashion_mnist")
    variants = ("numpy arrays", "tf.data", "tf.data, augmented")
    rates: dict[str, list[float]] = {variant: [] for variant in variants}
    for _ in range(2):
        for variant in variants:
            rates[variant].append(images_per_second(data, variant))
            print(f"{variant:<20} {rates[variant][-1]:7.0f} images/s", flush=True)
    best = {variant: max(values) for variant, values in rates.items()}
    for variant in variants[1:]:
        print(f"{variant} / numpy arrays: {best[variant] / best['numpy arrays']:.2f} "
              f"(best of two: {best[variant]:.0f} vs {best['numpy arrays']:.0f} images/s)")
    print("medians: " + ", ".join(f"{variant} {np.median(values):.0f}"
                                   for variant, values in rates.items()))


if __name__ == "__main__":
    main()
