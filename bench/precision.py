"""Training speed by compute precision: float32 against mixed bfloat16 (and XLA on and off).

Trains the default profile's network and the best profile's (two convolutions per block,
dense 256) for one epoch-sized pass over random 28x28 images in each setting, one after the
other in this process, and prints images per second and the seconds one Fashion-MNIST epoch
(54,000 training images) would take. bfloat16 only pays on a GPU or a CPU with bfloat16
instructions (AMX or AVX-512 BF16); the result also goes to a JSON file for docs/results.md.

    python bench/precision.py [--images 12800] [--out reports/runs/bench/precision.json]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.backend import keras, tf
from helpers.model import networks
from helpers.training import devices

NETWORKS = {"default profile": {"conv_filters": (32, 64), "convs_per_block": 1,
                                "dense_units": 128},
            "best profile": {"conv_filters": (32, 64), "convs_per_block": 2,
                             "dense_units": 256}}
EPOCH_IMAGES = 54_000


def images_per_second(network: dict, policy: str, jit_compile: bool, images: np.ndarray,
                      labels: np.ndarray) -> float:
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = networks.build_cnn((28, 28, 1), 10, batch_norm=True, **network)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  jit_compile=jit_compile)
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(128).cache().prefetch(2)
    model.fit(batches.take(10), epochs=1, verbose=0, shuffle=False)  # trace and compile first
    started = time.perf_counter()
    model.fit(batches, epochs=1, verbose=0, shuffle=False)
    return len(images) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_800)
    parser.add_argument("--out", type=Path, default=artifacts.PROJECT_ROOT / "reports" / "runs"
                        / "bench" / "precision.json")
    arguments = parser.parse_args()
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, (arguments.images, 28, 28, 1), dtype=np.uint8)
    labels = generator.integers(0, 10, arguments.images)
    rows = []
    for name, network in NETWORKS.items():
        for policy in ("float32", "mixed_bfloat16"):
            for jit_compile in (False, True):
                speed = images_per_second(network, policy, jit_compile, images, labels)
                rows.append({"network": name, "policy": policy, "xla": jit_compile,
                             "images_per_second": round(speed),
                             "epoch_seconds": round(EPOCH_IMAGES / speed, 1)})
                print(f"{name:<16} {policy:<15} xla={jit_compile!s:<5} {speed:7.0f} images/s, "
                      f"{EPOCH_IMAGES / speed:5.1f} s per Fashion-MNIST epoch", flush=True)
    artifacts.write_json(arguments.out, {
        "rows": rows, "cpu_has_bfloat16_units": devices.cpu_has_bfloat16_units(),
        "machine": artifacts.machine_info([]), "versions": artifacts.package_versions(),
        "git": artifacts.git_state()})
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
