"""The network as the Python source of an equivalent `keras.Sequential`, for a reader to paste.

A grader reads the architecture as code, the way the Keras guides write it: `keras.Input`
first, one layer per line, and only the arguments that differ from Keras's defaults. The
source is written from the built model's own layer configs (get_config()), so it shows the
network that was trained, not the parameters that were meant to build it.

It never guesses: a layer class it does not know, or a setting of a known layer that it
cannot write (a non-default initializer, say), raises a ValueError naming the layer, rather
than printing code that would build a different network. The precision policy (dtype) is
not written: mixed precision is set for the whole program, not per layer in a student's code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from helpers.backend import keras
from helpers.model import own_model
from helpers.parameters import RunParameters

layers = keras.layers

# Per layer class: the arguments always written, positionally in this order (what a reader
# looks for first: filters and window, units, rate, pool size), and the keyword arguments
# written when they differ from Keras's defaults. Exact classes only: a subclass may behave
# differently and is refused rather than printed as its parent.
WRITTEN_ARGUMENTS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {
    layers.Rescaling: (("scale",), ("offset",)),
    layers.Conv2D: (("filters", "kernel_size"),
                    ("strides", "padding", "activation", "use_bias", "kernel_regularizer")),
    layers.MaxPooling2D: (("pool_size",), ("strides", "padding")),
    layers.AveragePooling2D: (("pool_size",), ("strides", "padding")),
    layers.BatchNormalization: ((), ("momentum", "epsilon")),
    layers.Activation: (("activation",), ()),
    layers.Dropout: (("rate",), ("seed",)),
    layers.Flatten: ((), ()),
    layers.GlobalAveragePooling2D: ((), ()),
    layers.Dense: (("units",), ("activation", "use_bias", "kernel_regularizer")),
}
# Config entries that are not the layer's architecture: its generated name and its
# precision policy (see the module docstring).
NOT_WRITTEN = ("name", "dtype")


def listing_markdown(model: keras.Model, parameters: RunParameters) -> str:
    """03's code listing: one's own model file as it ran (architecture `file`), any other
    network as the keras.Sequential source that builds it."""
    if parameters.architecture == "file":
        return own_model.source_markdown(parameters)
    return f"```python\n{keras_source(model)}\n```"


def keras_source(model: keras.Model) -> str:
    """Python source that builds the same network as a keras.Sequential, imports included."""
    stack = _layer_stack(model)
    calls = [_layer_call(layer) for layer in stack]
    uses_regularizers = any("regularizers." in call for call in calls)
    modules = "layers, regularizers" if uses_regularizers else "layers"
    input_shape = tuple(model.inputs[0].shape[1:])
    lines = ["import keras", f"from keras import {modules}", "", "model = keras.Sequential([",
             f"    keras.Input(shape={input_shape!r}),",
             *(f"    {call}," for call in calls), "])"]
    return "\n".join(lines) + "\n"


def _layer_stack(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, checked to be one chain, as keras.Sequential needs."""
    try:
        (tensor,), (output,) = model.inputs, model.outputs
    except (AttributeError, ValueError, TypeError):
        raise ValueError(f"model {model.name!r}: keras_source needs a built model with one "
                         "input and one output") from None
    stack = []
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        try:
            layer_input = layer.input
        except (AttributeError, ValueError) as error:
            raise ValueError(f"layer {layer.name!r}: {error}") from None
        if layer_input is not tensor:
            raise ValueError(f"layer {layer.name!r} does not take the previous layer's output: "
                             "keras.Sequential cannot express this network")
        tensor = layer.output
        stack.append(layer)
    if tensor is not output:
        raise ValueError(f"model {model.name!r}: its output is not its last layer's output")
    return stack


def _layer_call(layer: keras.layers.Layer) -> str:
    """One layer as `layers.Conv2D(32, 3, padding="same", activation="relu")`."""
    kind = type(layer)
    if kind not in WRITTEN_ARGUMENTS:
        known = ", ".join(sorted(known.__name__ for known in WRITTEN_ARGUMENTS))
        raise ValueError(f"layer {layer.name!r} is a {kind.__name__}, which keras_source "
                         f"cannot write as code (it knows {known})")
    positional, keywords = WRITTEN_ARGUMENTS[kind]
    config = layer.get_config()
    changed = _non_default_settings(kind, config, positional)
    unwritable = sorted(set(changed) - set(keywords))
    if unwritable:
        raise ValueError(f"layer {layer.name!r} ({kind.__name__}) sets "
                         + ", ".join(f"{key}={changed[key]!r}" for key in unwritable)
                         + ", which keras_source cannot write as code")
    try:
        arguments = [_literal(key, config[key]) for key in positional]
        arguments += [f"{key}={_literal(key, config[key])}" for key in keywords
                      if key in changed]
    except ValueError as error:
        raise ValueError(f"layer {layer.name!r} ({kind.__name__}): {error}") from None
    return f"layers.{kind.__name__}({', '.join(arguments)})"


def _non_default_settings(kind: type, config: Mapping[str, Any],
                          positional: tuple[str, ...]) -> dict[str, Any]:
    """The config entries that differ from a layer built with Keras's defaults.

    The reference layer gets the always-written arguments too, so that defaults derived
    from them (a pooling layer's strides are its pool size) count as defaults.
    """
    reference = kind(**{key: config[key] for key in positional},
                     name="keras_source_reference").get_config()
    return {key: value for key, value in config.items()
            if key not in NOT_WRITTEN and key not in positional
            and reference.get(key, object()) != value}


def _literal(key: str, value: Any) -> str:
    """A config value as a Python literal a reader would write."""
    if isinstance(value, list | tuple) and len(set(value)) == 1:
        return _literal(key, value[0])  # (3, 3) is written 3, as Keras accepts and people write
    if isinstance(value, list | tuple):
        return f"({', '.join(_literal(key, item) for item in value)})"
    if isinstance(value, str):
        return json.dumps(value)  # double quotes, as the project and the Keras guides write
    if isinstance(value, Mapping):
        return _regularizer(key, value)
    if key == "scale" and isinstance(value, float) and value:
        reciprocal = Fraction(1 / value).limit_denominator(1)
        if reciprocal > 1 and 1 / float(reciprocal) == value:
            return f"1 / {reciprocal}"  # 1 / 255 rather than 0.00392156862745098
    return repr(value)


def _regularizer(key: str, value: Mapping[str, Any]) -> str:
    """A built-in regularizer's serialized config as `regularizers.L2(0.0001)`."""
    if value.get("module") != "keras.regularizers" or value.get("registered_name"):
        raise ValueError(f"{key}={value!r} is not one of Keras's built-in regularizers")
    settings = value.get("config", {})
    if list(settings) in (["l1"], ["l2"]):
        return f"regularizers.{value['class_name']}({next(iter(settings.values()))!r})"
    written = ", ".join(f"{name}={number!r}" for name, number in settings.items())
    return f"regularizers.{value['class_name']}({written})"
