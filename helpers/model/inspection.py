"""What a built network has, read from the model itself: its layers in words, the record of
them that model.json keeps (for the report, which reads records, never the model), its
parameter counts and Keras's summary.

Nothing here assumes how the network was built: a network from one's own file (architecture
`file`) with branches, skip connections and custom layers is described as it is.
"""

from __future__ import annotations

import io
from typing import Any

from helpers.backend import keras

layers = keras.layers


def inner_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, without its input layer."""
    return [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]


def inputs_of(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """The layers whose outputs this layer takes (its first call's), in order."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        return []
    return [tensor._keras_history.operation for tensor in nodes[0].input_tensors]


def _ancestors(layer: keras.layers.Layer) -> set[int]:
    """The ids of every layer upstream of this one."""
    seen: set[int] = set()
    pending = inputs_of(layer)
    while pending:
        current = pending.pop()
        if id(current) not in seen:
            seen.add(id(current))
            pending.extend(inputs_of(current))
    return seen


def skipped_input(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """For a merge layer (Add, Concatenate...), the input that skips past the layers its other
    input goes through (a residual connection), or None when the branches are parallel."""
    sources = inputs_of(layer)
    for source in sources:
        if any(id(source) in _ancestors(other) for other in sources if other is not source):
            return source
    return None


def is_custom(layer: keras.layers.Layer) -> bool:
    """Whether the layer's class is one's own rather than Keras's."""
    return not type(layer).__module__.startswith("keras")


def output_layer(model: keras.Model) -> keras.layers.Layer:
    """The layer whose output is the model's output."""
    return model.outputs[0]._keras_history.operation


def layer_listing(model: keras.Model) -> list[str]:
    """The network in words, one line per layer, from the built model itself."""
    output = output_layer(model)
    return [describe(layer, layer is output) for layer in inner_layers(model)]


def _activation_name(activation: Any) -> str:
    return activation if isinstance(activation, str) else getattr(activation, "__name__",
                                                                    str(activation))


def _weighted(layer: keras.layers.Layer, config: dict[str, Any], output: bool) -> str | None:
    """A convolution or dense layer as a brief writes it: 'conv 32 3x3, relu, padding valid'."""
    l2 = (config.get("kernel_regularizer") or {}).get("config", {}).get("l2")
    extra = f", l2 {l2:g}" if l2 else ""
    if isinstance(layer, layers.Conv2D):
        window = "x".join(map(str, config["kernel_size"]))
        stride = "" if tuple(config["strides"]) == (1, 1) else f", stride {config['strides'][0]}"
        return (f"conv {config['filters']} {window}, {config['activation']}, "
                f"padding {config['padding']}{stride}{extra}")
    if isinstance(layer, layers.Dense):
        role = " (the output: one unit per class)" if output else ""
        bias = "" if config["use_bias"] else ", no bias (batch norm follows)"
        return f"dense {config['units']}, {config['activation']}{bias}{extra}{role}"
    return None


def _rescaling(config: dict[str, Any]) -> str:
    scale, offset = float(config["scale"]), float(config["offset"])
    if abs(scale * 255 - 1) < 1e-6 and offset == 0:
        return "scale the pixels to [0, 1]"
    if abs(scale * 127.5 - 1) < 1e-6 and offset == -1:
        return "scale the pixels to [-1, 1]"
    return f"rescale the pixels: × {scale:.6g} + {offset:g}"


def _merge(layer: keras.layers.Layer) -> str:
    names = [source.name for source in inputs_of(layer)]
    verb = type(layer).__name__.lower()
    skipped = skipped_input(layer)
    if skipped is not None and isinstance(layer, layers.Add):
        return f"add {' + '.join(names)} (a skip connection: {skipped.name}'s output added back)"
    return f"{verb} {' + '.join(names)}"


def describe(layer: keras.layers.Layer, output: bool = False) -> str:
    """One layer as a brief would write it: 'conv 32 3x3, relu, padding valid, l2 0.001'."""
    config = layer.get_config()
    weighted = _weighted(layer, config, output)
    if weighted is not None:
        return weighted
    if isinstance(layer, layers.Rescaling):
        return _rescaling(config)
    if isinstance(layer, layers.Add | layers.Concatenate | layers.Average | layers.Multiply):
        return _merge(layer)
    described = {layers.BatchNormalization: "batch normalization",
                 layers.Flatten: "flatten", layers.GlobalAveragePooling2D: "global average pool",
                 layers.GlobalMaxPooling2D: "global max pool", layers.ReLU: "relu",
                 layers.Softmax: "softmax"}
    for kind, text in described.items():
        if isinstance(layer, kind):
            return text
    if isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D):
        kind = "max" if isinstance(layer, layers.MaxPooling2D) else "average"
        return f"{kind} pool {'x'.join(map(str, config['pool_size']))}"
    if isinstance(layer, layers.Dropout):
        return f"dropout {config['rate']:g}"
    if isinstance(layer, layers.Activation):
        return _activation_name(config["activation"])
    if isinstance(layer, keras.Model):
        return f"the model {layer.name!r} ({len(inner_layers(layer))} layers)"
    if is_custom(layer):
        return f"{type(layer).__name__} (a custom layer, {layer.count_params():,} parameters)"
    return type(layer).__name__


def layer_record(layer: keras.layers.Layer, output: bool = False) -> dict[str, Any]:
    """One layer as model.json records it: its name, class, the line describing it, its
    parameter count, and what the report's regularization and activations read."""
    record: dict[str, Any] = {"name": layer.name, "class": type(layer).__name__,
                              "text": describe(layer, output),
                              "parameters": int(layer.count_params()),
                              "custom": is_custom(layer)}
    activation = getattr(layer, "activation", None)
    if activation is not None:
        record["activation"] = _activation_name(activation)
    regularizer = getattr(layer, "kernel_regularizer", None)
    l2 = float(regularizer.get_config().get("l2", 0.0)) if regularizer is not None else 0.0
    if l2 > 0:
        record["l2"] = l2
    if isinstance(layer, layers.Dropout):
        record["rate"] = float(layer.rate)
    if isinstance(layer, layers.Add) and skipped_input(layer) is not None:
        record["skip_connection"] = True
    return record


def layer_records(model: keras.Model) -> list[dict[str, Any]]:
    """Every layer of the built model as model.json records it, in order."""
    output = output_layer(model)
    return [layer_record(layer, layer is output) for layer in inner_layers(model)]


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
