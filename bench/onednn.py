"""Training speed with TensorFlow's oneDNN CPU kernels on and off, and same-seed identity.

The setting is read when TensorFlow is imported, so every measurement runs in a fresh child
process with TF_ENABLE_ONEDNN_OPTS=1 or 0, alternating on, off, on, off... for each network
(the default and best profiles', float32, batch 128), so drift on a shared machine hits
both settings alike. Then two short trainings with oneDNN on and deterministic ops, on real
Fashion-MNIST, must give bit-identical weights. Results go to a JSON file for docs/results.md.

    python bench/onednn.py [--images 12800] [--repeats 3] [--out reports/runs/bench/onednn.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
EPOCH_IMAGES = 54_000  # one Fashion-MNIST epoch with the default 10% validation share


def measure_in_child(network: str, onednn: str, images: int) -> float:
    """Images per second of one epoch-sized pass, in a child process with the given setting."""
    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    output = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", network,
         "--images", str(images)], env=environment, capture_output=True, text=True, check=True)
    return float(output.stdout.strip().splitlines()[-1])


def worker(network: str, images: int) -> None:
    """The child: print images per second of the named network (float32, as `auto` on AVX2)."""
    sys.path.insert(0, str(BENCH_DIR))
    import numpy as np
    from precision import NETWORKS, images_per_second

    generator = np.random.default_rng(0)
    pixels = generator.integers(0, 256, (images, 28, 28, 1), dtype=np.uint8)
    labels = generator.integers(0, 10, images)
    print(images_per_second(NETWORKS[network], "float32", False, pixels, labels))


def weights_digest() -> None:
    """The child: two epochs of the default network on 3,000 real images; print a weights hash."""
    from helpers.data import datasets, preprocess
    from helpers.model import networks
    from helpers.training import fitting

    fitting.set_global_seed(42, deterministic_ops=True)
    data = datasets.subsample(datasets.load_dataset("fashion_mnist", download=False), 3000, 0,
                              42)
    model = networks.build_cnn((28, 28, 1), 10)
    fitting.compile_model(model, 1e-3, "cosine", 24, 2, "sparse")
    train, _ = preprocess.stratified_split(data.y_train, 0.1, 42)
    model.fit(data.x_train[train], data.y_train[train], batch_size=128, epochs=2, verbose=0,
              shuffle=True)
    digest = hashlib.sha256(b"".join(weight.tobytes() for weight in model.get_weights()))
    print(digest.hexdigest())


def same_seed_identity() -> dict[str, object]:
    """Two same-seed trainings with oneDNN on: their weights' hashes, and whether they match."""
    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"}
    digests = [subprocess.run([sys.executable, str(Path(__file__).resolve()), "--digest"],
                              env=environment, capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1] for _ in range(2)]
    return {"digests": digests, "identical": digests[0] == digests[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_800)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH_DIR.parent / "reports" / "runs"
                        / "bench" / "onednn.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        return worker(arguments.worker, arguments.images)
    if arguments.digest:
        return weights_digest()
    from helpers import artifacts

    rows = []
    for network in ("default profile", "best profile"):
        speeds: dict[str, list[float]] = {"1": [], "0": []}
        for _ in range(arguments.repeats):
            for setting in ("1", "0"):
                speeds[setting].append(measure_in_child(network, setting, arguments.images))
        for setting, values in speeds.items():
            seconds = [EPOCH_IMAGES / speed for speed in values]
            rows.append({"network": network, "onednn": setting == "1",
                         "epoch_seconds": [round(value, 1) for value in seconds],
                         "median_epoch_seconds": round(statistics.median(seconds), 1)})
            print(f"{network:<16} oneDNN {'on ' if setting == '1' else 'off'}  seconds per "
                  f"epoch: median {statistics.median(seconds):5.1f} "
                  f"(runs {', '.join(f'{value:.1f}' for value in seconds)})", flush=True)
    identity = same_seed_identity()
    print(f"same seed, oneDNN on, deterministic ops: weights identical: {identity['identical']}")
    payload = {"rows": rows, "same_seed_identity": identity, "images_per_pass": arguments.images,
               "machine": artifacts.machine_info([]), "cpu_flags": cpu_flags(),
               "versions": artifacts.package_versions(), "git": artifacts.git_state()}
    artifacts.write_json(arguments.out, payload)
    print(f"wrote {arguments.out}")
    print(json.dumps({row["network"] + (" on" if row["onednn"] else " off"):
                      row["median_epoch_seconds"] for row in rows}))


def cpu_flags() -> list[str]:
    """The CPU's vector and matrix extensions that decide TensorFlow's kernels."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        return []
    return sorted(flag for flag in flags if flag.startswith(("avx", "amx", "fma", "sse4")))


if __name__ == "__main__":
    main()
