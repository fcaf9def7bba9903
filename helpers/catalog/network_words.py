"""How the report names each network kind and its regularization: the phrase and outline
functions the catalog's entries (helpers/catalog/networks.py) point at, one family of kinds
after another (convolutional, dense, written layer by layer, one's own file). Each reads
model.json's `architecture` record as NetworkKind.effective gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from helpers.catalog.layer_grammar import parse_layers, spelling
from helpers.wording import NUMBER_WORDS, and_list, plural


# cnn and vgg: convolution blocks, a dense layer, dropout, batch normalization and L2.
def convolutional_phrase(architecture: Mapping[str, Any]) -> str:
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


def convolutional_outline(title: str) -> Callable[[Mapping[str, Any], int], str]:
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


def parameter_regularization(where: Mapping[str, str]) -> Callable[[Mapping[str, Any]],
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


def dropout_rate(architecture: Mapping[str, Any]) -> list[float]:
    return [float(architecture.get("dropout_rate") or 0.0)]


def wider_convolutional(architecture: Mapping[str, Any]) -> str:
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
def mlp_phrase(architecture: Mapping[str, Any]) -> str:
    return ("a multilayer perceptron (dense layers of "
            f"{', '.join(map(str, architecture['hidden_units']))} neurons)")


def mlp_outline(architecture: Mapping[str, Any], classes: int) -> str:
    units = and_list([str(count) for count in architecture["hidden_units"]])
    return f"MLP: flatten, dense layers of {units} units (ReLU), a softmax output over {classes} " \
           "classes"


# layers: written out entry by entry; only its layer strings count, each shown in the
# grammar's own words, so the activation, window and padding it was built with are named
# even where the params file left them to their defaults.
def _layer_spellings(architecture: Mapping[str, Any]) -> list[str]:
    return [spelling(spec) for spec in parse_layers(list(architecture["layers"]))]


def layers_phrase(architecture: Mapping[str, Any]) -> str:
    return f"the network written out layer by layer ({'; '.join(_layer_spellings(architecture))})"


def layers_outline(architecture: Mapping[str, Any], classes: int) -> str:
    return (f"written layer by layer: {' → '.join(_layer_spellings(architecture))} → a softmax "
            f"output over {classes} classes")


def layers_regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
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
    rates = layers_dropout_rates(architecture)
    if rates:
        found["dropout"] = (f"dropout {and_list([f'{rate:g}' for rate in rates])} "
                            f"({plural(len(rates), 'layer')})")
    norms = sum(spec.kind == "batchnorm" for spec in specs)
    if norms:
        found["batch normalization"] = f"batch normalization ({plural(norms, 'layer')})"
    return found


def layers_dropout_rates(architecture: Mapping[str, Any]) -> list[float]:
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


def file_phrase(architecture: Mapping[str, Any]) -> str:
    phrases = _layer_count_phrases(_built(architecture))
    return (f"the network that {_file_name(architecture)} returns"
            + (f" ({and_list(phrases)})" if phrases else ""))


def file_outline(architecture: Mapping[str, Any], classes: int) -> str:
    return (f"{_file_name(architecture)}: "
            + " → ".join(layer["text"] for layer in _built(architecture)))


def file_regularization(architecture: Mapping[str, Any]) -> dict[str, str]:
    """L2, dropout and batch normalization as the built model has them."""
    built = _built(architecture)
    found: dict[str, str] = {}
    weighted = [layer for layer in built if layer.get("l2")]
    if weighted:
        values = and_list(sorted({f"{layer['l2']:g}" for layer in weighted}))
        found["L2"] = f"L2 {values} on {plural(len(weighted), 'layer')}"
    rates = file_dropout_rates(architecture)
    if rates:
        found["dropout"] = (f"dropout {and_list([f'{rate:g}' for rate in rates])} "
                            f"({plural(len(rates), 'layer')})")
    norms = sum(layer["class"] == "BatchNormalization" for layer in built)
    if norms:
        found["batch normalization"] = f"batch normalization ({plural(norms, 'layer')})"
    return found


def file_dropout_rates(architecture: Mapping[str, Any]) -> list[float]:
    return [float(layer["rate"]) for layer in _built(architecture)
            if layer["class"] == "Dropout" and layer.get("rate", 0) > 0]
