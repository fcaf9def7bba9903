"""The networks, built from parameters; each takes raw pixels and scales them itself.

Named architectures (cnn, vgg, mlp), networks written layer by layer
(helpers.catalog.layer_grammar), and one's own from a Python file (helpers.model.own_model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import catalog
from helpers.backend import keras
from helpers.catalog.layer_grammar import LayerSpec, parse_layers
from helpers.catalog.networks import ARCHITECTURE_PARAMETERS
from helpers.data.preprocess import PIXEL_SCALE
from helpers.model import own_model

# The layer listing and counts live in inspection; callers have always found them here.
from helpers.model.inspection import (  # noqa: F401
    layer_listing,
    parameter_counts,
    summary_text,
)
from helpers.parameters import RunParameters

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


def build_model(input_shape: Sequence[int], num_classes: int,
                parameters: RunParameters) -> keras.Model:
    """The network the `architecture` parameter names (its catalog entry's builder), built
    from the architecture parameters."""
    return catalog.network(parameters.architecture).build(
        input_shape, num_classes, parameters.model_dump(include=set(ARCHITECTURE_PARAMETERS)))


# The builders the catalog names (helpers/catalog/networks.py): each takes the architecture
# parameters, with what its kind fixes itself applied.
def build_cnn_kind(input_shape: Sequence[int], num_classes: int,
                   architecture: Mapping[str, Any]) -> keras.Model:
    """cnn and vgg: build_cnn from the architecture parameters."""
    return build_cnn(input_shape, num_classes, architecture["conv_filters"],
                     architecture["kernel_size"], architecture["convs_per_block"],
                     architecture["dense_units"], architecture["dropout_rate"],
                     architecture["batch_norm"], architecture["l2_weight"])


def build_mlp_kind(input_shape: Sequence[int], num_classes: int,
                   architecture: Mapping[str, Any]) -> keras.Model:
    """mlp: build_mlp from the architecture parameters."""
    return build_mlp(input_shape, num_classes, architecture["hidden_units"],
                     architecture["dropout_rate"], architecture["batch_norm"],
                     architecture["l2_weight"])


def build_layers_kind(input_shape: Sequence[int], num_classes: int,
                      architecture: Mapping[str, Any]) -> keras.Model:
    """layers: the network written entry by entry in the `layers` parameter."""
    return build_from_layers(input_shape, num_classes, parse_layers(architecture["layers"] or []))


def build_mlp(input_shape: Sequence[int], num_classes: int, hidden_units: Sequence[int],
              dropout_rate: float = 0.0, batch_norm: bool = False,
              l2_weight: float = 0.0) -> keras.Model:
    """Flatten, then (dense -> ReLU [-> batch norm] [-> dropout]) per hidden layer, softmax."""
    _check_fits_the_data(input_shape, num_classes, ())
    regularizer = regularizers.L2(l2_weight) if l2_weight > 0 else None
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    x = layers.Rescaling(PIXEL_SCALE, name="scale_to_unit")(inputs)
    x = layers.Flatten(name="flatten")(x)
    for number, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", kernel_regularizer=regularizer,
                         name=f"dense{number}")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"dense{number}_bn")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name=f"dense{number}_dropout")(x)
    return keras.Model(inputs, _class_probabilities(x, num_classes), name="mlp")


def build_from_layers(input_shape: Sequence[int], num_classes: int,
                      specs: Sequence[LayerSpec]) -> keras.Model:
    """The network written in the `layers` parameter, between the scaling and the output."""
    _check_fits_the_data(input_shape, num_classes, ())
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    x = layers.Rescaling(PIXEL_SCALE, name="scale_to_unit")(inputs)
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.kind] = counts.get(spec.kind, 0) + 1
        x = _keras_layer(spec, f"{spec.kind}{counts[spec.kind]}")(x)
    return keras.Model(inputs, _class_probabilities(x, num_classes), name="layers")


def _keras_layer(spec: LayerSpec, name: str) -> keras.layers.Layer:
    """The Keras layer one parsed entry describes."""
    regularizer = regularizers.L2(spec.l2) if spec.l2 > 0 else None
    if spec.kind == "conv":
        return layers.Conv2D(spec.size, spec.kernel, strides=spec.stride, padding=spec.padding,
                             activation=spec.activation, kernel_regularizer=regularizer,
                             name=name)
    if spec.kind == "dense":
        return layers.Dense(spec.size, activation=spec.activation,
                            kernel_regularizer=regularizer, name=name)
    return {"maxpool": lambda: layers.MaxPooling2D(spec.size, name=name),
            "avgpool": lambda: layers.AveragePooling2D(spec.size, name=name),
            "batchnorm": lambda: layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM,
                                                           name=name),
            "dropout": lambda: layers.Dropout(spec.rate, name=name),
            "flatten": lambda: layers.Flatten(name=name),
            "globalavgpool": lambda: layers.GlobalAveragePooling2D(name=name)}[spec.kind]()


def _class_probabilities(x: keras.KerasTensor, num_classes: int) -> keras.KerasTensor:
    """The output layer: one unit per class, softmax, in float32 under mixed precision."""
    return layers.Dense(num_classes, activation="softmax", dtype="float32",
                        name="class_probabilities")(x)


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
    """The dtype policy the model's first conv or dense layer computes in (mixed_bfloat16...)."""
    return next((layer.dtype_policy.name for layer in model.layers
                 if isinstance(layer, layers.Conv2D | layers.Dense)), model.dtype_policy.name)


def as_float32(model: keras.Model) -> keras.Model:
    """The same network and weights computing in float32, without the optimizer's state.

    The trained model is saved this way: evaluation, export (TFLite has no bfloat16 kernels)
    and serving run it on any CPU at full precision, and model.keras holds the weights alone
    (training's resumable state, Adam's moments included, is kept in the backup instead).
    Its variables were float32 all along: only the layers' compute dtype changes.
    """
    config = model.get_config()
    _compute_in_float32(config)
    # type(model): a keras.Sequential (one's own file may return one) rebuilds as one
    float32_model = type(model).from_config(config)
    float32_model.set_weights(model.get_weights())
    return float32_model


def _compute_in_float32(config: dict[str, Any]) -> None:
    """Set every layer of a model config, nested models' too, to compute in float32."""
    for layer in config["layers"]:
        if "layers" in layer["config"]:
            _compute_in_float32(layer["config"])
        # A layer whose config holds no dtype (a custom layer's own get_config) keeps its own.
        if "dtype" in layer["config"]:
            layer["config"]["dtype"] = "float32"


MIRROR_AVERAGE = "mean_with_mirror_image"  # the output layer's name when the model does it


@keras.saving.register_keras_serializable(package="helpers")
class MirrorImage(layers.Layer):
    """Images mirrored left-right (N x H x W x C), at every call.

    Ours because keras.layers.RandomFlip mirrors only while training, and at random, and a
    Lambda layer would not load in safe mode.
    """

    def call(self, images):
        return keras.ops.flip(images, axis=-2)


def with_mirror_averaging(model: keras.Model) -> keras.Model:
    """The model predicting the mean of each image's and its mirror image's probabilities.

    Test-time augmentation built into the model itself, so that 05, every export format and
    the REST API predict the same way; it doubles the cost of a prediction.
    """
    inputs = keras.Input(model.input_shape[1:], dtype=model.inputs[0].dtype, name="pixels")
    mirrored = MirrorImage(name="mirror_image")(inputs)
    probabilities = layers.Average(name=MIRROR_AVERAGE)([model(inputs), model(mirrored)])
    return keras.Model(inputs, probabilities, name=f"{model.name}_with_mirror_averaging")


def averages_with_mirror(model: keras.Model) -> bool:
    """Whether the model predicts the mean of each image's and its mirror image's output."""
    return any(layer.name == MIRROR_AVERAGE for layer in model.layers)


def without_mirror_averaging(model: keras.Model) -> keras.Model:
    """The network a with_mirror_averaging model averages; any other model as it is."""
    if not averages_with_mirror(model):
        return model
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def prediction_method(model: keras.Model) -> str:
    """How the model turns an image into class probabilities, in words for 05 and 07."""
    if averages_with_mirror(model):
        return "it predicts the mean of each image's and its mirror image's probabilities"
    return "it predicts each image once, as it is"


def load_model(path: str | Path) -> keras.Model:
    """Load a saved .keras model in safe mode (no code stored in the file runs).

    A network from one's own file (architecture `file`) first has that file's copy imported
    (model_source.py beside the model, or in the run directory above checkpoints/ and
    export/), which registers its custom layers.
    """
    own_model.import_saved_source(Path(path))
    return keras.models.load_model(path, safe_mode=True)
