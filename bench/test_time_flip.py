"""Test-time augmentation, measured: does averaging an image's and its mirror image's
predictions beat the plain prediction of a trained run's model?

Scores the run's test images with model.keras both ways and prints the two accuracies. The
validation images are scored too, since a choice to keep it must not be made on the test set.
The pipeline does it when `test_time_mirror` is on (the best profile); for such a run the
network inside the saved model is scored both ways. See docs/results.md.

    python bench/test_time_flip.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.backend import keras
from helpers.data import preprocess
from helpers.model import networks


def accuracies(model: keras.Model, images: np.ndarray,
               labels: np.ndarray) -> tuple[float, float]:
    """Plain accuracy and accuracy of the mean of the image's and its mirror's probabilities."""
    plain = model.predict(images, batch_size=512, verbose=0)
    mirrored = model.predict(images[:, :, ::-1], batch_size=512, verbose=0)
    true = labels if labels.ndim == 1 else labels.argmax(axis=1)
    return (float(np.mean(plain.argmax(axis=1) == true)),
            float(np.mean((plain + mirrored).argmax(axis=1) == true)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    for run_dir in parser.parse_args().run_dirs:
        model = networks.without_mirror_averaging(  # score the network, both ways
            networks.load_model(artifacts.artifact_path(run_dir, artifacts.MODEL)))
        row = {"run": str(run_dir)}
        for split in ("validation", "test"):
            data = preprocess.load_split(run_dir, split)
            plain, flipped = accuracies(model, data.images, data.labels)
            row[split] = {"plain": plain, "with_mirror": flipped,
                          "gain_points": round(100 * (flipped - plain), 2)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
