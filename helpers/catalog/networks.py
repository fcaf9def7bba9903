"""Every network kind the `architecture` parameter names, declared once: what builds it, which
parameters it uses, and how the report names it and its regularization.

Each entry's phrase functions (helpers/catalog/network_words.py) read model.json's
`architecture` record (the parameters the kind uses; a run recorded before that holds them
all) through NetworkKind.effective, which applies what a kind fixes itself (vgg: two
convolutions per block). The builders live in helpers.model and are named here as text, so
that the ground imports no TensorFlow. A new kind is one entry below, its builder and a test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from helpers.catalog.network_words import (
    CONVOLUTIONAL_PARAMETERS,
    CONVOLUTIONAL_PLACES,
    convolutional_outline,
    convolutional_phrase,
    dropout_rate,
    file_dropout_rates,
    file_outline,
    file_phrase,
    file_regularization,
    layers_dropout_rates,
    layers_outline,
    layers_phrase,
    layers_regularization,
    mlp_outline,
    mlp_phrase,
    parameter_regularization,
    wider_convolutional,
)

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


NETWORKS = "helpers.model.networks"
NETWORK_KINDS: dict[str, NetworkKind] = {kind.name: kind for kind in (
    NetworkKind(
        "cnn", f"{NETWORKS}:build_cnn_kind", CONVOLUTIONAL_PARAMETERS, convolutional_phrase,
        convolutional_outline("CNN"), parameter_regularization(CONVOLUTIONAL_PLACES),
        dropout_rate, "conv_filters, dense_units", wider_convolutional),
    # The best profile's network: the cnn with two convolutions before each pooling.
    NetworkKind(
        "vgg", f"{NETWORKS}:build_cnn_kind", CONVOLUTIONAL_PARAMETERS - {"convs_per_block"},
        convolutional_phrase, convolutional_outline("VGG-style CNN"),
        parameter_regularization(CONVOLUTIONAL_PLACES), dropout_rate,
        "conv_filters, dense_units", wider_convolutional, fixed={"convs_per_block": 2},
        fixed_message="architecture 'vgg' has two convolutions per block: leave "
                      "convs_per_block out, or use architecture 'cnn'"),
    NetworkKind(
        "mlp", f"{NETWORKS}:build_mlp_kind",
        frozenset({"hidden_units", "dropout_rate", "batch_norm", "l2_weight"}), mlp_phrase,
        mlp_outline, parameter_regularization({
            "L2": "every hidden dense layer", "dropout": "after each hidden layer",
            "batch normalization": "after each hidden layer"}),
        dropout_rate, "hidden_units", lambda architecture: "", suggests_convolutions=True),
    NetworkKind(
        "layers", f"{NETWORKS}:build_layers_kind", frozenset({"layers"}), layers_phrase,
        layers_outline, layers_regularization, layers_dropout_rates, "layers",
        lambda architecture: "more or wider convolution layers (layers) may see the finer "
                             "detail that tells them apart; ", dropout_parameter="layers"),
    NetworkKind(
        "file", "helpers.model.own_model:build_file_kind",
        frozenset({"model_file", "model_function"}), file_phrase, file_outline,
        file_regularization, file_dropout_rates, "model_file",
        lambda architecture: "a wider or deeper network (model_file) may see the finer "
                             "detail that tells them apart; ", dropout_parameter="model_file",
        records_built_layers=True),
)}
