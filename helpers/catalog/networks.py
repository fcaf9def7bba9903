"""Every network kind the `architecture` parameter names, declared once: what builds it, which
parameters it uses, and how the report names it and its regularization.

The functions below read model.json's `architecture` record (the parameters the kind uses; a
run recorded before that holds them all) through NetworkKind.effective, which applies what a
kind fixes itself (vgg: two convolutions per block). The builders live in helpers.model and
are named here as text, so that the ground imports no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import PurePath
from typing import Any

from helpers.catalog.layer_grammar import parse_layers, spelling
from helpers.wording import NUMBER_WORDS, and_list, plural

# The architecture parameters 03 builds from, whichever kind uses them; model.json records
# those its kind uses (NetworkKind.parameters), in this order.
ARCHITECTURE_PARAMETERS = ("architecture", "hidden_units", "layers", "conv_filters",
                           "kernel_size", "convs_per_block", "dense_units", "dropout_rate",
                           "batch_norm", "l2_weight", "model_file", "model_function")


@dataclass(frozen=True)
class NetworkKind:
    """One `architecture` value and what the rest of the project needs to know of it."""

    name: str
    builder: str  # "module:function" taking (input_shape, num_classes, effective architecture)
    parameters: frozenset[str]  # the architecture parameters it is built from
    describe: Callable[[Mapping[str, Any]], str]  # the network in one phrase (08)
    outline: Callable[[Mapping[str, Any], int], str]  # its layers in words (settings table)
    regularization: Callable[[Mapping[str, Any]], dict[str, str]]  # 'L2' -> 'L2 0.001 on ...'
    dropout_rates: Callable[[Mapping[str, Any]], list[float]]
    capacity_parameters: str  # what a larger network changes, named in next steps
    wider_network: Callable[[Mapping[str, Any]], str]  # a next step against a confusion
    dropout_parameter: str = "dropout_rate"
    suggests_convolutions: bool = False  # dense only: next steps suggest convolutions
    fixed: Mapping[str, Any] = field(default_factory=dict)  # parameters this kind sets itself
    fixed_message: str = ""  # the schema's error when a params file sets one of them otherwise
    # Built by code the parameters do not describe: model.json's architecture record then
    # holds the built model's layers too ("built_layers", helpers.model.inspection), which
    # the functions above read.
    records_built_layers: bool = False

    def effective(self, architecture: Mapping[str, Any]) -> dict[str, Any]:
        """model.json's architecture parameters with what this kind fixes itself applied."""
        return {**architecture, **self.fixed}

    def build(self, input_shape: Sequence[int], num_classes: int,
              architecture: Mapping[str, Any]) -> Any:
        """The Keras model this kind builds from its parameters."""
        module, function = self.builder.split(":")
        return getattr(import_module(module), function)(input_shape, num_classes,
                                                        self.effective(architecture))


# cnn and vgg: convolution blocks, a dense layer, dropout, batch normalization and L2.
def _convolutional_phrase(architecture: Mapping[str, Any]) -> str:
    convs, filters = architecture.get("convs_per_block", 1), architecture["conv_filters"]
    extras = [name for name, used in (("batch normalization", architecture.get("batch_norm")),
                                      (f"dropout {architecture.get('dropout_rate')}",
                                       architecture.get("dropout_rate")),
                                      (f"L2 {architecture.get('l2_weight')}",
                                       architecture.get("l2_weight"))) if used]
    per_block = "one convolution" if convs == 1 else f"{convs} convolutions"
    return (f"a convolutional network ({len(filters)} blocks of {per_block} and max pooling, "
            f"with {', '.join(map(str, filters))} filters, then a dense layer of "
            f"{architecture['dense_units']}{'; ' + ', '.join(extras) if extras else ''})")


def _convolutional_outline(title: str) -> Callable[[Mapping[str, Any], int], str]:
    def outline(architecture: Mapping[str, Any], classes: int) -> str:
        convs, size = architecture["convs_per_block"], architecture["kernel_size"]
        conv = (f"a {size}×{size} convolution" if convs == 1 else
                f"{NUMBER_WORDS.get(convs, str(convs))} {size}×{size} convolutions")
        filters = and_list([str(count) for count in architecture["conv_filters"]])
        return (f"{title}: {len(architecture['conv_filters'])} blocks of {conv} (ReLU) and 2×2 "
                f"max pooling, with {filters} filters; flatten, a dense layer of "
                f"{architecture['dense_units']} units (ReLU), a softmax output over {classes} "
                "classes")
    return outline


def _parameter_regularization(where: Mapping[str, str]) -> Callable[[Mapping[str, Any]],
                                                                      dict[str, str]]:
    """L2, dropout and batch normalization from the l2_weight, dropout_rate and batch_norm
    parameters, each placed where the kind's builder puts it."""
    def regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
        found = {}
        if architecture["l2_weight"] > 0:
            found["L2"] = f"L2 {architecture['l2_weight']:g} on {where['L2']}"
        if architecture["dropout_rate"] > 0:
            found["dropout"] = f"dropout {architecture['dropout_rate']:g} {where['dropout']}"
        if architecture["batch_norm"]:
            found["batch normalization"] = (f"batch normalization "
                                            f"{where['batch normalization']}")
        return found
    return regularization


def _dropout_rate(architecture: Mapping[str, Any]) -> list[float]:
    return [float(architecture.get("dropout_rate") or 0.0)]


def _wider_convolutional(architecture: Mapping[str, Any]) -> str:
    two_convs = architecture.get("convs_per_block", 1) > 1
    return (f"a {'wider' if two_convs else 'wider or deeper'} network "
            f"({'conv_filters' if two_convs else 'conv_filters, convs_per_block'}) may see the "
            "finer detail that tells them apart; ")


CONVOLUTIONAL_PARAMETERS = frozenset({"conv_filters", "kernel_size", "convs_per_block",
                                      "dense_units", "dropout_rate", "batch_norm", "l2_weight"})
CONVOLUTIONAL_PLACES = {"L2": "every convolution and the dense layer",
                        "dropout": "after flatten and the dense layer",
                        "batch normalization": "after each pooling and the dense layer"}


# mlp: dense layers only.
def _mlp_phrase(architecture: Mapping[str, Any]) -> str:
    return ("a multilayer perceptron (dense layers of "
            f"{', '.join(map(str, architecture['hidden_units']))} neurons)")


def _mlp_outline(architecture: Mapping[str, Any], classes: int) -> str:
    units = and_list([str(count) for count in architecture["hidden_units"]])
    return f"MLP: flatten, dense layers of {units} units (ReLU), a softmax output over {classes} " \
           "classes"


# layers: written out entry by entry; only its layer strings count, each shown in the
# grammar's own words, so the activation, window and padding it was built with are named
# even where the params file left them to their defaults.
def _layer_spellings(architecture: Mapping[str, Any]) -> list[str]:
    return [spelling(spec) for spec in parse_layers(list(architecture["layers"]))]


def _layers_phrase(architecture: Mapping[str, Any]) -> str:
    return f"the network written out layer by layer ({'; '.join(_layer_spellings(architecture))})"


def _layers_outline(architecture: Mapping[str, Any], classes: int) -> str:
    return (f"written layer by layer: {' → '.join(_layer_spellings(architecture))} → a softmax "
            f"output over {classes} classes")


def _layers_regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
    """What the layer strings hold (older runs' model.json also holds the cnn/mlp parameters
    dropout_rate, batch_norm and l2_weight, which this network ignores)."""
    specs = parse_layers(list(architecture["layers"]))
    found: dict[str, str] = {}
    weighted = [spec for spec in specs if spec.l2 > 0]
    if weighted:
        values = and_list(sorted({f"{spec.l2:g}" for spec in weighted}))
        kinds = and_list([f"{sum(spec.kind == kind for spec in weighted)} {kind}"
                      for kind in ("conv", "dense") if any(spec.kind == kind
                                                          for spec in weighted)])
        found["L2"] = f"L2 {values} on {kinds} layer{'s' if len(weighted) > 1 else ''}"
    rates = _layers_dropout_rates(architecture)
    if rates:
        found["dropout"] = (f"dropout {and_list([f'{rate:g}' for rate in rates])} "
                            f"({plural(len(rates), 'layer')})")
    norms = sum(spec.kind == "batchnorm" for spec in specs)
    if norms:
        found["batch normalization"] = f"batch normalization ({plural(norms, 'layer')})"
    return found


def _layers_dropout_rates(architecture: Mapping[str, Any]) -> list[float]:
    return [spec.rate for spec in parse_layers(list(architecture.get("layers") or []))
            if spec.kind == "dropout" and spec.rate > 0]


# file: one's own network, returned by a function in a Python file (helpers.model.own_model).
# Nothing is assumed of it: every phrase reads the layers 03 recorded of the built model.
def _built(architecture: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(architecture.get("built_layers") or [])


# How a recorded layer class is counted in a sentence; other classes as "<class> layer".
LAYER_COUNT_WORDS = {"Conv2D": "convolution", "DepthwiseConv2D": "depthwise convolution",
                     "SeparableConv2D": "separable convolution", "Dense": "dense layer",
                     "MaxPooling2D": "max pooling layer",
                     "AveragePooling2D": "average pooling layer",
                     "GlobalAveragePooling2D": "global average pooling layer",
                     "GlobalMaxPooling2D": "global max pooling layer",
                     "BatchNormalization": "batch normalization layer",
                     "Dropout": "dropout layer", "Flatten": "flatten layer",
                     "Concatenate": "concatenation"}
NOT_COUNTED = {"Rescaling", "Activation", "ReLU", "Softmax", "InputLayer"}


def _layer_count_phrases(built: Sequence[Mapping[str, Any]]) -> list[str]:
    """'3 convolutions', '1 skip connection', '1 custom Scale layer', in order."""
    counts: dict[str, int] = {}
    for layer in built:
        kind = layer["class"]
        if kind == "Add":
            word = "skip connection" if layer.get("skip_connection") else "addition"
        elif layer.get("custom"):
            word = f"custom {kind} layer"
        elif kind in NOT_COUNTED:
            continue
        else:
            word = LAYER_COUNT_WORDS.get(kind, f"{kind} layer")
        counts[word] = counts.get(word, 0) + 1
    return [plural(count, word) for word, count in counts.items()]


def _file_name(architecture: Mapping[str, Any]) -> str:
    return f"{architecture['model_function']} in {PurePath(str(architecture['model_file'])).name}"


def _file_phrase(architecture: Mapping[str, Any]) -> str:
    phrases = _layer_count_phrases(_built(architecture))
    return (f"the network that {_file_name(architecture)} returns"
            + (f" ({and_list(phrases)})" if phrases else ""))


def _file_outline(architecture: Mapping[str, Any], classes: int) -> str:
    return (f"{_file_name(architecture)}: "
            + " → ".join(layer["text"] for layer in _built(architecture)))


def _file_regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
    """L2, dropout and batch normalization as the built model has them."""
    built = _built(architecture)
    found: dict[str, str] = {}
    weighted = [layer for layer in built if layer.get("l2")]
    if weighted:
        values = and_list(sorted({f"{layer['l2']:g}" for layer in weighted}))
        found["L2"] = f"L2 {values} on {plural(len(weighted), 'layer')}"
    rates = _file_dropout_rates(architecture)
    if rates:
        found["dropout"] = (f"dropout {and_list([f'{rate:g}' for rate in rates])} "
                            f"({plural(len(rates), 'layer')})")
    norms = sum(layer["class"] == "BatchNormalization" for layer in built)
    if norms:
        found["batch normalization"] = f"batch normalization ({plural(norms, 'layer')})"
    return found


def _file_dropout_rates(architecture: Mapping[str, Any]) -> list[float]:
    return [float(layer["rate"]) for layer in _built(architecture)
            if layer["class"] == "Dropout" and layer.get("rate", 0) > 0]


NETWORKS = "helpers.model.networks"
NETWORK_KINDS: dict[str, NetworkKind] = {kind.name: kind for kind in (
    NetworkKind(
        "cnn", f"{NETWORKS}:build_cnn_kind", CONVOLUTIONAL_PARAMETERS, _convolutional_phrase,
        _convolutional_outline("CNN"), _parameter_regularization(CONVOLUTIONAL_PLACES),
        _dropout_rate, "conv_filters, dense_units", _wider_convolutional),
    # The best profile's network: the cnn with two convolutions before each pooling.
    NetworkKind(
        "vgg", f"{NETWORKS}:build_cnn_kind", CONVOLUTIONAL_PARAMETERS - {"convs_per_block"},
        _convolutional_phrase, _convolutional_outline("VGG-style CNN"),
        _parameter_regularization(CONVOLUTIONAL_PLACES), _dropout_rate,
        "conv_filters, dense_units", _wider_convolutional, fixed={"convs_per_block": 2},
        fixed_message="architecture 'vgg' has two convolutions per block: leave "
                      "convs_per_block out, or use architecture 'cnn'"),
    NetworkKind(
        "mlp", f"{NETWORKS}:build_mlp_kind",
        frozenset({"hidden_units", "dropout_rate", "batch_norm", "l2_weight"}), _mlp_phrase,
        _mlp_outline, _parameter_regularization({
            "L2": "every hidden dense layer", "dropout": "after each hidden layer",
            "batch normalization": "after each hidden layer"}),
        _dropout_rate, "hidden_units", lambda architecture: "", suggests_convolutions=True),
    NetworkKind(
        "layers", f"{NETWORKS}:build_layers_kind", frozenset({"layers"}), _layers_phrase,
        _layers_outline, _layers_regularization, _layers_dropout_rates, "layers",
        lambda architecture: "more or wider convolution layers (layers) may see the finer "
                             "detail that tells them apart; ", dropout_parameter="layers"),
    NetworkKind(
        "file", "helpers.model.own_model:build_file_kind",
        frozenset({"model_file", "model_function"}), _file_phrase, _file_outline,
        _file_regularization, _file_dropout_rates, "model_file",
        lambda architecture: "a wider or deeper network (model_file) may see the finer "
                             "detail that tells them apart; ", dropout_parameter="model_file",
        records_built_layers=True),
)}
