"""The CNN, built from parameters; it takes raw pixels and scales them itself."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from helpers.backend import keras
from helpers.preprocess import PIXEL_SCALE

layers = keras.layers
regularizers = keras.regularizers
# Keras's default (0.99) lets the test-time statistics lag hundreds of steps behind the
# weights, which spoils the first epochs' validation figures and any short run; 0.9
# (PyTorch's default) tracks them within a few dozen steps.
BATCH_NORM_MOMENTUM = 0.9


def build_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    conv_filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    convs_per_block: int = 1,
    dense_units: int = 128,
    dropout_rate: float = 0.3,
    batch_norm: bool = True,
    l2_weight: float = 0.0,
) -> keras.Model:
    """Conv blocks ((conv 3x3 -> ReLU) x convs_per_block -> 2x2 max pool -> [batch norm]),
    dense, dropout, softmax. The defaults are helpers.parameters.RunParameters's."""
    _check_fits_the_data(input_shape, num_classes, conv_filters)
    regularizer = regularizers.L2(l2_weight) if l2_weight > 0 else None
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    x = layers.Rescaling(PIXEL_SCALE, name="scale_to_unit")(inputs)
    for block, filters in enumerate(conv_filters, start=1):
        for conv in range(1, convs_per_block + 1):
            # A second convolution before pooling sees 5x5 pixels at full resolution, which
            # separates the look-alike classes (shirt, T-shirt, pullover, coat) better.
            suffix = f"_{conv}" if convs_per_block > 1 else ""
            x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu",
                              kernel_regularizer=regularizer, name=f"conv{block}{suffix}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        if batch_norm:
            # Normalizing the pooled block output rather than the convolution's output
            # touches 4x fewer values: measured 17 s instead of 21 s per Fashion-MNIST epoch
            # on 2 CPU cores, for the same accuracy.
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM,
                                          name=f"block{block}_bn")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout_rate, name="flatten_dropout")(x)
    x = layers.Dense(dense_units, use_bias=not batch_norm, kernel_regularizer=regularizer,
                     name="dense")(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    x = layers.Dropout(dropout_rate, name="dense_dropout")(x)
    # float32 output keeps the softmax numerically safe under mixed precision on a GPU.
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def parameter_counts(model: keras.Model) -> dict[str, int]:
    """Trainable, non-trainable and total parameter counts."""
    trainable = sum(int(keras.ops.size(weight)) for weight in model.trainable_weights)
    non_trainable = sum(int(keras.ops.size(weight)) for weight in model.non_trainable_weights)
    return {"trainable": trainable, "non_trainable": non_trainable,
            "total": trainable + non_trainable}


def summary_text(model: keras.Model) -> str:
    """model.summary() as text, at a fixed width so it reads the same everywhere."""
    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **_: buffer.write(line + "\n"), line_length=90)
    return buffer.getvalue()


def _check_fits_the_data(input_shape: Sequence[int], num_classes: int,
                         conv_filters: Sequence[int]) -> None:
    """The checks that depend on the data, which the parameter schema cannot make."""
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if min(input_shape[:2]) // 2 ** len(conv_filters) < 1:
        raise ValueError(f"conv_filters has {len(conv_filters)} blocks, each halving the image: "
                         f"too many for a {input_shape[0]}x{input_shape[1]} input")


def compute_dtype_policy(model: keras.Model) -> str:
    """The dtype policy the model's convolutions compute in (mixed_bfloat16, float32, ...)."""
    return next(layer.dtype_policy.name for layer in model.layers
                if isinstance(layer, layers.Conv2D))


def as_float32(model: keras.Model) -> keras.Model:
    """The same network and weights computing in float32, without the optimizer's state.

    The trained model is saved this way: evaluation, export (TFLite has no bfloat16 kernels)
    and serving run it on any CPU at full precision, and model.keras holds the weights alone
    (training's resumable state, Adam's moments included, is kept in the backup instead).
    Its variables were float32 all along: only the layers' compute dtype changes.
    """
    config = model.get_config()
    for layer in config["layers"]:
        layer["config"]["dtype"] = "float32"
    float32_model = keras.Model.from_config(config)
    float32_model.set_weights(model.get_weights())
    return float32_model


def load_model(path: str | Path) -> keras.Model:
    """Load a saved .keras model in safe mode (no arbitrary code from the file runs)."""
    return keras.models.load_model(path, safe_mode=True)
