"""Mixed precision, XLA settings, label smoothing, the weight average and tf.distribute.

The strategies are tested through the pipeline itself: mirrored on the CPU split into two
logical devices, multi-worker with two local worker processes talking over loopback.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_pipeline import run_pipeline

from helpers import artifacts
from helpers.backend import keras
from helpers.model import networks
from helpers.training import devices, fitting

PARAMS_5K = artifacts.PROJECT_ROOT / "params" / "mnist_5k.yaml"
# A small, fast run of the embedded real digits up to and including training.
SMALL_RUN = ["-f", str(PARAMS_5K), "-p", "max_train_images", "1200", "-p", "max_test_images",
             "200", "-p", "epochs", "2", "-p", "batch_size", "16", "--to", "04_train"]


@pytest.mark.parametrize("flags, expected", [
    ("fpu sse avx2 amx_bf16 amx_tile avx512f", "mixed_bfloat16"),
    ("fpu sse avx2 avx512f avx512_bf16 avx512_vnni", "mixed_bfloat16"),
    ("fpu sse avx2 avx512f avx512_vnni", "float32"),
    ("fpu sse avx2", "float32"),
])
def test_auto_precision_on_a_cpu_follows_its_bfloat16_units(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: str, expected: str) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(devices, "_CPU_FLAGS", cpuinfo)
    monkeypatch.setattr(devices, "GPUS", ())
    assert devices.precision_policy("auto") == expected
    monkeypatch.setattr(devices, "GPUS", ("/physical_device:GPU:0",))
    assert devices.precision_policy("auto") == "mixed_float16"
    assert devices.precision_policy("off") == "float32"  # forced off, even on a GPU


@pytest.mark.parametrize("call, value, name", [
    (devices.precision_policy, "half", "mixed_precision"),
    (devices.jit_compile, "on", "xla"),
    (devices.make_strategy, "gpus", "strategy"),
])
def test_unknown_device_settings_are_named(call, value: str, name: str) -> None:
    with pytest.raises(ValueError, match=f"parameter {name} is '{value}'"):
        call(value)


def test_multi_worker_without_a_cluster_says_what_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        devices.make_strategy("multi_worker")


def test_a_mixed_precision_model_is_saved_computing_in_float32(tmp_path: Path) -> None:
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        fitting.set_global_seed(0)
        model = networks.build_cnn((12, 12, 1), 3, conv_filters=(4, 8), convs_per_block=2,
                                 dense_units=8, batch_norm=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert networks.compute_dtype_policy(model) == "mixed_bfloat16"
    assert [layer.name for layer in model.layers if "conv" in layer.name] == [
        "conv1_1", "conv1_2", "conv2_1", "conv2_2"]
    images = np.random.default_rng(0).integers(0, 256, (16, 12, 12, 1)).astype(np.float32)
    converted = networks.as_float32(model)
    converted.save(tmp_path / "model.keras")
    loaded = networks.load_model(tmp_path / "model.keras")
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
    # Same weights, now at full precision: bfloat16 keeps ~3 significant digits.
    np.testing.assert_allclose(loaded.predict(images, verbose=0),
                               model.predict(images, verbose=0), atol=0.02)
    assert not np.array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))


def test_a_reloaded_float16_model_trains_with_loss_scaling(tmp_path: Path) -> None:
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.save(tmp_path / "untrained.keras")  # as 03 hands it to 04
    reloaded = networks.load_model(tmp_path / "untrained.keras")
    fitting.compile_model(reloaded, 1e-3, "cosine", 4, 2, "sparse")
    assert isinstance(reloaded.optimizer, keras.optimizers.LossScaleOptimizer)
    float32_model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    fitting.compile_model(float32_model, 1e-3, "cosine", 4, 2, "sparse")
    assert not isinstance(float32_model.optimizer, keras.optimizers.LossScaleOptimizer)


def separable_data(count: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Bright-left versus bright-right 8x8 images: learnable in a few steps."""
    generator = np.random.default_rng(1)
    labels = np.arange(count) % 2
    images = generator.integers(0, 60, (count, 8, 8, 1))
    images[labels == 0, :, :4] += 150
    images[labels == 1, :, 4:] += 150
    return images.astype(np.uint8), labels


def trained_distance(tmp_path: Path, ema_momentum: float, label_smoothing: float) -> float:
    """How far fit() moved the dense layer's weights from their initial values."""
    fitting.set_global_seed(0)
    images, labels = separable_data()
    model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8, batch_norm=True)
    initial = model.get_layer("dense").get_weights()[0].copy()
    fitting.compile_model(model, 1e-2, "constant", steps_per_epoch=4, epochs=3,
                           label_encoding="sparse", label_smoothing=label_smoothing,
                           ema_momentum=ema_momentum)
    result = fitting.fit(model, images[:64], labels[:64], images[64:], labels[64:],
                          batch_size=16, epochs=3, early_stopping_patience=3,
                          checkpoint_path=tmp_path / f"best-{ema_momentum}.keras")
    assert result.history["val_accuracy"].iloc[-1] > 0.5
    return float(np.abs(model.get_layer("dense").get_weights()[0] - initial).mean())


def test_the_weight_average_is_what_validation_and_the_saved_model_use(tmp_path: Path) -> None:
    # With momentum 0.99 over 12 steps the average has moved ~11 % of the way the weights
    # went; the kept model must be that average, not the last step's weights.
    plain = trained_distance(tmp_path, ema_momentum=0.0, label_smoothing=0.0)
    averaged = trained_distance(tmp_path, ema_momentum=0.99, label_smoothing=0.0)
    assert averaged < 0.3 * plain


def test_label_smoothing_trains_on_sparse_labels(tmp_path: Path) -> None:
    fitting.set_global_seed(0)
    images, labels = separable_data()
    model = networks.build_cnn((8, 8, 1), 2, conv_filters=(4,), dense_units=8)
    fitting.compile_model(model, 1e-2, "constant", steps_per_epoch=4, epochs=4,
                           label_encoding="sparse", label_smoothing=0.2)
    result = fitting.fit(model, images[:64], labels[:64], images[64:], labels[64:],
                          batch_size=16, epochs=4, early_stopping_patience=4,
                          checkpoint_path=tmp_path / "best.keras")
    assert result.history["val_accuracy"].iloc[-1] == 1.0
    # With targets 0.9 / 0.1 the loss cannot fall below their entropy (0.325): proof the
    # smoothed targets, not the hard labels, were trained on.
    assert result.history["loss"].min() > 0.32


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_pipeline(*SMALL_RUN, "-p", "strategy", "mirrored", "--run-dir", str(run_dir),
                          env={**os.environ, devices.LOGICAL_CPUS_VARIABLE: "2"})
    assert result.returncode == 0, result.stdout + result.stderr
    info = json.loads((run_dir / artifacts.TRAINING_INFO).read_text())
    assert info["replicas"] == 2 and info["global_batch_size"] == 32
    assert [device.split("/")[-1] for device in info["devices"]] == [
        "device:CPU:0", "device:CPU:1"]
    assert pd.read_csv(run_dir / artifacts.HISTORY)["val_accuracy"].iloc[-1] > 0.7


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def test_multi_worker_strategy_trains_two_local_workers_in_step(tmp_path: Path) -> None:
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "helpers.runner", "run", *SMALL_RUN, "-p", "strategy",
             "multi_worker", "--run-dir", str(tmp_path / f"worker{index}")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=artifacts.PROJECT_ROOT, env={**os.environ, "TF_CONFIG": json.dumps(tf_config)}))
    outputs = [process.communicate(timeout=900)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
    infos = [json.loads((tmp_path / f"worker{index}" / artifacts.TRAINING_INFO).read_text())
             for index in range(2)]
    assert [info["replicas"] for info in infos] == [2, 2]
    assert [info["global_batch_size"] for info in infos] == [32, 32]
    assert pd.read_csv(tmp_path / "worker0" / artifacts.HISTORY)["val_accuracy"].iloc[-1] > 0.7
    # Gradients were averaged across both workers at every step: the trained weights are the
    # same. (Batch normalization's running statistics are each worker's own: not compared.)
    weights = [[weight.numpy() for weight in networks.load_model(
        tmp_path / f"worker{index}" / artifacts.MODEL).trainable_weights] for index in range(2)]
    for first, second in zip(*weights, strict=True):
        np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)
