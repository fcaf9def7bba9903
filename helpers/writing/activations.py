"""The activations a built network really uses, read from its Keras layers, and what each does.

A convolution or dense layer may carry its activation itself (`Conv2D(..., activation="tanh")`)
or leave it linear for an `Activation` layer after a batch normalization (the cnn kind's dense
layer); `hidden_activations` reports the one that acts on each layer's output, so 03 never
names ReLU for a tanh network. The output layer's softmax is not a hidden activation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from helpers.wording import and_list

if TYPE_CHECKING:
    from helpers.backend import keras

# How a sentence names an activation, and what it computes.
NAMES = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "elu": "ELU", "gelu": "GELU",
         "swish": "swish", "silu": "swish", "linear": "no activation"}
FORMULAS = {"relu": "`max(0, x)`, negative values to zero",
            "tanh": "`tanh(x)`, every value squashed into (−1, 1)",
            "sigmoid": "`1 / (1 + e^−x)`, every value squashed into (0, 1)",
            "elu": "`x` above zero, `e^x − 1` below",
            "gelu": "`x·Φ(x)`, a smooth ReLU", "swish": "`x·sigmoid(x)`, a smooth ReLU",
            "silu": "`x·sigmoid(x)`, a smooth ReLU"}


def _keras_layers() -> Any:
    from helpers.backend import keras

    return keras.layers


def _name(activation: Any) -> str:
    """An activation as Keras stores it (a name, or a function) as its lower-case name."""
    return str(getattr(activation, "__name__", activation)).lower()


def hidden_activations(model: keras.Model) -> list[tuple[keras.layers.Layer, str]]:
    """Each convolution and hidden dense layer with the activation applied to its output: its
    own, or, when it is linear, that of an Activation layer before the next weight layer."""
    layers = _keras_layers()
    stack = [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    weighted = [index for index, layer in enumerate(stack)
                if isinstance(layer, layers.Conv2D | layers.Dense)]
    found = []
    for position, index in enumerate(weighted[:-1] if weighted else []):  # last: the output
        activation = _name(stack[index].get_config().get("activation", "linear"))
        following = stack[index + 1:weighted[position + 1]]
        if activation == "linear":
            activation = next((_name(layer.get_config()["activation"]) for layer in following
                               if isinstance(layer, layers.Activation)), "linear")
        found.append((stack[index], activation))
    return found


def name_of(layers_and_activations: Sequence[tuple[Any, str]]) -> str:
    """The activations of some layers as a sentence names them: 'ReLU', 'tanh and ReLU'."""
    names = dict.fromkeys(NAMES.get(activation, activation)
                          for _, activation in layers_and_activations)
    return and_list(list(names)) if names else ""


def explanation(model: keras.Model) -> str | None:
    """What the non-linearity between this network's layers is, with where each one acts;
    None for a network without hidden layers."""
    layers = _keras_layers()
    found = hidden_activations(model)
    if not found:
        return None
    parts = []
    for activation in dict.fromkeys(activation for _, activation in found):
        convs = sum(isinstance(layer, layers.Conv2D) and used == activation
                    for layer, used in found)
        dense = sum(isinstance(layer, layers.Dense) and used == activation
                    for layer, used in found)
        where = and_list([text for count, text in (
            (convs, f"{convs} convolution{'s' if convs > 1 else ''}"),
            (dense, f"{dense} hidden dense layer{'s' if dense > 1 else ''}")) if count])
        if activation == "linear":
            parts.append(f"none after {where} (linear: those layers only add weighted sums)")
        else:
            formula = FORMULAS.get(activation)
            parts.append(f"**{NAMES.get(activation, activation)}**"
                         f"{f' ({formula})' if formula else ''} after {where}")
    return (f"**Activation**: {'; '.join(parts)}. The activation is the non-linearity "
            "between layers: without one, stacked layers would collapse into one linear map.")
