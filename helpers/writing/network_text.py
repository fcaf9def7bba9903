"""03's explanations of the built network: what kind it is, what each kind of its layers does
and which layer holds most weights, every phrase read from the model itself.

Nothing is assumed of how it was built: activations, scaling, skip connections, custom layers
and the output layer are described as the model has them (a network from one's own file as
much as a named architecture). TensorFlow is imported only when a model is described.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from helpers.wording import and_list, plural

if TYPE_CHECKING:
    from helpers.backend import keras

# What a layer is called in a sentence: "batch normalization after a convolution".
LAYER_WORDS = {"Conv2D": "a convolution", "MaxPooling2D": "pooling", "AveragePooling2D":
               "pooling", "Dense": "a dense layer", "Dropout": "dropout", "Flatten": "flatten",
               "Activation": "an activation", "Rescaling": "the rescaling", "Add": "an addition"}
ACTIVATION_WORDS = {"relu": "ReLU, `max(0, x)`", "tanh": "tanh, squashing to (−1, 1)",
                    "sigmoid": "the sigmoid, squashing to (0, 1)", "elu": "ELU",
                    "gelu": "GELU", "swish": "swish, `x·sigmoid(x)`",
                    "silu": "swish, `x·sigmoid(x)`", "leaky_relu": "leaky ReLU"}
# Layer classes the explanations below cover; any other is named in a last line.
EXPLAINED = {"InputLayer", "Rescaling", "Conv2D", "MaxPooling2D", "AveragePooling2D",
             "GlobalAveragePooling2D", "BatchNormalization", "Flatten", "Dense", "Dropout",
             "Activation", "ReLU", "Softmax", "Add"}


def _tools() -> tuple[Any, Any]:
    from helpers.backend import keras
    from helpers.model import inspection

    return keras.layers, inspection


def _in_shape(layer: keras.layers.Layer) -> tuple[int, ...]:
    return tuple(int(size) for size in layer.input.shape[1:])


def _out_shape(layer: keras.layers.Layer) -> tuple[int, ...]:
    return tuple(int(size) for size in layer.output.shape[1:])


def _times(shape: Sequence[int]) -> str:
    return "×".join(map(str, shape))


def _activation(layer: keras.layers.Layer) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation)) if activation else "linear"


def network_kind(model: keras.Model) -> str:
    """'a convolutional neural network (CNN)' or 'a multilayer perceptron (MLP)'."""
    layers, inspection = _tools()
    stack = inspection.inner_layers(model)
    skips = [layer for layer in stack
             if isinstance(layer, layers.Add) and inspection.skipped_input(layer) is not None]
    if any(isinstance(layer, layers.Conv2D) for layer in stack):
        return "a convolutional neural network (CNN)" + (
            f" with {plural(len(skips), 'skip connection')}" if skips else "")
    weighted = {type(layer).__name__ for layer in stack if layer.weights}
    if weighted <= {"Dense", "BatchNormalization"}:
        return "a multilayer perceptron (MLP): dense layers only, no convolutions"
    return f"a network without convolutions (its weighted layers: {and_list(sorted(weighted))})"


def _scaling(stack: Sequence[keras.layers.Layer]) -> list[str]:
    layers, _ = _tools()
    rescaling = next((layer for layer in stack if isinstance(layer, layers.Rescaling)), None)
    if rescaling is None:
        return []
    scale, offset = float(rescaling.scale), float(rescaling.offset)
    factor = "1/255" if abs(scale * 255 - 1) < 1e-6 else f"{scale:.6g}"
    shift = f" and adds {offset:g}" if offset else ""
    return [f"**Rescaling** multiplies the raw 0-255 pixels by {factor}{shift} (see "
            "02_preprocess), so the model takes raw images everywhere it is used."]


def _convolutions(convs: Sequence[keras.layers.Layer]) -> str:
    filters = ", ".join(str(layer.filters) for layer in convs)
    windows = sorted({_times(layer.kernel_size) for layer in convs})
    paddings = sorted({layer.padding for layer in convs})
    activations = and_list(sorted({"no activation of their own" if name == "linear" else
                                   ACTIVATION_WORDS.get(name, name).split(",")[0]
                                   for name in map(_activation, convs)}))
    padding = ("Padding 'same' keeps the border pixels in play." if paddings == ["same"] else
               "Padding 'valid' (Keras's default) drops a border of pixels at each "
               "convolution." if paddings == ["valid"] else
               "Padding 'same' keeps the border, 'valid' drops it.")
    return (f"**Convolutions** ({plural(len(convs), 'layer')}, {filters} filters of "
            f"{' and '.join(windows)} pixels, {activations}): each filter slides over the "
            "image and responds to one local pattern (an edge, a corner, a texture) wherever "
            "it appears, so the same few weights serve the whole image; later layers combine "
            f"the earlier layers' patterns into larger parts. {padding}")


def _non_linearity(stack: Sequence[keras.layers.Layer], output: keras.layers.Layer) -> list[str]:
    """The activations between layers, as the built layers have them."""
    layers, _ = _tools()
    used: dict[str, int] = {}
    for layer in stack:
        if layer is output or isinstance(layer, layers.Softmax):
            continue
        if isinstance(layer, layers.ReLU):
            name = "relu"
        elif isinstance(layer, layers.Conv2D | layers.Dense | layers.Activation):
            name = _activation(layer)
        else:
            continue
        if name not in ("linear", "softmax"):
            used[name] = used.get(name, 0) + 1
    if not used:
        return []
    named = and_list([f"{ACTIVATION_WORDS.get(name, name)} ({plural(count, 'layer')})"
                      for name, count in used.items()])
    return [f"**Non-linearity** between layers: {named}. Without one, stacked layers would "
            "collapse into a single linear map."]


def _pooling(pools: Sequence[keras.layers.Layer], image: Sequence[int]) -> str:
    sizes = [_times(image[:2])] + [_times(_out_shape(layer)[:2]) for layer in pools]
    return (f"**Pooling** ({plural(len(pools), 'layer')}) keeps the strongest (max) or mean "
            f"(average) response of each window: the feature maps shrink "
            f"{' → '.join(sizes)}, which cuts computation and makes the features tolerant of "
            "small shifts.")


def _global_pooling(layer: keras.layers.Layer) -> str:
    height, width, channels = _in_shape(layer)
    return (f"**Global average pooling** averages each of the {channels} feature maps "
            f"({height}×{width}) into one number: a vector of {channels} values, with no "
            "weights, where a flatten would pass every position on.")


def _batch_normalization(norms: Sequence[keras.layers.Layer]) -> str:
    _, inspection = _tools()
    after = sorted({LAYER_WORDS.get(type(source).__name__, "another layer")
                    for layer in norms for source in inspection.inputs_of(layer)
                    if type(source).__name__ != "InputLayer"})
    return (f"**Batch normalization** ({plural(len(norms), 'layer')}"
            + (f", after {' and '.join(after)}" if after else "")
            + ") rescales each channel over the batch to zero mean and unit variance, then "
            "applies a learned scale and shift: the next layer sees inputs of a steady scale, "
            "which makes training faster and steadier. At test time it uses running averages "
            "of the batch statistics.")


def _flatten(incoming: Sequence[int], after_convolutions: bool) -> str:
    return (f"**Flatten** turns the {_times(incoming)} "
            f"{'feature maps' if after_convolutions else 'image'} into one vector of "
            f"{math.prod(incoming):,} values"
            + ("." if after_convolutions else ": the dense layers see pixels, not shapes, so "
               "they cannot reuse what they learn in one place of the image elsewhere."))


def _skip_connections(adds: Sequence[keras.layers.Layer]) -> list[str]:
    _, inspection = _tools()
    skips = [layer for layer in adds if inspection.skipped_input(layer) is not None]
    lines = []
    if skips:
        which = "; ".join(f"{inspection.skipped_input(layer).name}'s output added to "
                          f"{[source.name for source in inspection.inputs_of(layer)][-1]}'s"
                          for layer in skips)
        lines.append(f"**Skip connection** ({plural(len(skips), 'Add layer')}: {which}): the "
                     "layers in between learn a correction to their input rather than a new "
                     "representation, and the gradient reaches the earlier layers directly "
                     "through the addition.")
    if len(skips) < len(adds):
        lines.append("**Add** sums the outputs of parallel branches, value by value.")
    return lines


def _dense_and_dropout(hidden: Sequence[keras.layers.Layer],
                       dropouts: Sequence[keras.layers.Layer]) -> list[str]:
    lines = []
    if hidden:
        many = len(hidden) > 1
        lines.append(f"**Dense** layer{'s' if many else ''} of "
                     f"{', '.join(str(layer.units) for layer in hidden)} neurons "
                     f"connect{'' if many else 's'} every input value to every neuron and "
                     f"combine{'' if many else 's'} them to decide the class.")
    if dropouts:
        rates = ", ".join(dict.fromkeys(f"{layer.rate:g}" for layer in dropouts))
        lines.append(f"**Dropout** ({plural(len(dropouts), 'layer')}, rate {rates}) sets that "
                     "share of activations to zero at random at each training step, and none "
                     "at test time: the network cannot rely on any single unit, which reduces "
                     "overfitting.")
    return lines


def _l2(stack: Sequence[keras.layers.Layer]) -> list[str]:
    factors = []
    for layer in stack:
        regularizer = getattr(layer, "kernel_regularizer", None)
        if regularizer is not None and float(regularizer.get_config().get("l2", 0.0)) > 0:
            factors.append(float(regularizer.get_config()["l2"]))
    if not factors:
        return []
    shown = ", ".join(sorted({f"{factor:g}" for factor in factors}))
    return [f"**L2 regularization** (factor {shown} on {len(factors)} weight layers) adds "
            "factor × Σw² to the loss, pulling the weights towards zero: a guard against "
            "overfitting."]


def _output(model: keras.Model, output: keras.layers.Layer) -> str:
    layers, _ = _tools()
    classes = int(model.outputs[0].shape[-1])
    softmax = isinstance(output, layers.Softmax) or _activation(output) == "softmax"
    if isinstance(output, layers.Dense) and softmax:
        return (f"The output layer has one unit per class ({output.units}) and a softmax, "
                "which turns the scores into probabilities that sum to 1.")
    if softmax:
        return (f"The output layer ({output.name}) applies a softmax to one score per class "
                f"({classes}), which turns them into probabilities that sum to 1.")
    return (f"The output layer ({output.name}, {type(output).__name__}) gives one probability "
            f"per class ({classes}).")


def _others(stack: Sequence[keras.layers.Layer]) -> list[str]:
    """The layers no line above explains, by class: custom layers first."""
    _, inspection = _tools()
    counts: dict[str, int] = {}
    for layer in stack:
        name = type(layer).__name__
        if name not in EXPLAINED:
            label = f"{name} (custom, defined in the model file)" if inspection.is_custom(
                layer) else name
            counts[label] = counts.get(label, 0) + 1
    if not counts:
        return []
    return ["Also in this network: " + and_list([f"{label} × {count}" if count > 1 else label
                                                for label, count in counts.items()]) + "."]


def layer_explanations(model: keras.Model) -> list[str]:
    """What each kind of layer in this network does, with this network's own numbers."""
    layers, inspection = _tools()
    stack = inspection.inner_layers(model)
    output = inspection.output_layer(model)

    def of(*kinds: type) -> list[keras.layers.Layer]:
        return [layer for layer in stack if isinstance(layer, kinds)]

    convs, dense = of(layers.Conv2D), of(layers.Dense)
    flatten = of(layers.Flatten)
    image = tuple(int(size) for size in model.inputs[0].shape[1:])
    lines = _scaling(stack) + ([_convolutions(convs)] if convs else [])
    lines += _non_linearity(stack, output)
    pools = of(layers.MaxPooling2D, layers.AveragePooling2D)
    lines += [_pooling(pools, image)] if pools else []
    lines += [_global_pooling(layer) for layer in of(layers.GlobalAveragePooling2D)[:1]]
    lines += _skip_connections(of(layers.Add))
    norms = of(layers.BatchNormalization)
    lines += [_batch_normalization(norms)] if norms else []
    if flatten:
        lines.append(_flatten(_in_shape(flatten[0]), bool(convs)))
    lines += _dense_and_dropout([layer for layer in dense if layer is not dense[-1]],
                                of(layers.Dropout))
    lines += _l2(stack) + _others(stack)
    return lines + [_output(model, output)]


def largest_layer(model: keras.Model) -> str:
    """Which layer holds most of the weights, and why, for the kinds of layer it has."""
    layers, inspection = _tools()
    stack = inspection.inner_layers(model)
    counted = [(layer, layer.count_params()) for layer in stack]
    total = sum(count for _, count in counted)
    layer, count = max(counted, key=lambda item: item[1])
    if isinstance(layer, layers.Dense):
        how = f"{math.prod(_in_shape(layer)):,} inputs × {layer.units} units" + (
            ", plus biases" if layer.use_bias else "")
    elif isinstance(layer, layers.Conv2D):
        how = (f"{_times(layer.kernel_size)} windows × {_in_shape(layer)[-1]} input channels × "
               f"{layer.filters} filters" + (", plus biases" if layer.use_bias else ""))
    else:
        how = type(layer).__name__
    why = (["a convolution shares its few weights across the whole image"]
           if any(isinstance(item, layers.Conv2D) for item in stack) else [])
    why += (["a dense layer has one weight per input and unit"]
            if any(isinstance(item, layers.Dense) for item in stack) else [])
    reason = f" {'; '.join(why)[0].upper()}{'; '.join(why)[1:]}." if why else ""
    return (f"The largest layer is **{layer.name}** ({how}): {count:,} of the network's "
            f"{total:,} parameters ({count / total:.0%}).{reason}")
