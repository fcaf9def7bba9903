"""What one's own model (architecture `file`) must be for every later step, checked when 03
builds it: each check raises a ValueError naming the file, the function and what is expected.

A functional or Sequential keras.Model with one input of the images' shape and one output of
one probability per class; raw 0-255 pixels scaled inside the model; no Lambda layer and every
custom layer class registered, so model.keras loads in safe mode (checked by saving it and
loading it back, as 04-07 and the server do).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from helpers.backend import keras
from helpers.model.inspection import inner_layers, is_custom

# Layers that bring raw pixels to a trainable scale before the first weighted layer.
SCALING_LAYERS = (keras.layers.Rescaling, keras.layers.Normalization,
                  keras.layers.BatchNormalization, keras.layers.LayerNormalization)


def all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer, nested models' layers included, in order."""
    found = []
    for layer in inner_layers(model):
        found.append(layer)
        if isinstance(layer, keras.Model):
            found += all_layers(layer)
    return found


def _check_structure(model: Any, where: str, input_shape: tuple[int, ...],
                     num_classes: int) -> None:
    """A functional or Sequential keras.Model: one input of the images' shape, one output of
    one value per class."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"{where} returned {type(model).__name__}, not a keras.Model: return "
                         "the model, e.g. keras.Model(inputs, outputs)")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        raise ValueError(
            f"{where} returned a {type(model).__name__} with no known input: build it with the "
            "functional API (keras.Input(shape=input_shape) ... keras.Model(inputs, outputs)) "
            "or as a keras.Sequential that starts with keras.Input(shape=input_shape), so that "
            "its layers can be listed, saved and exported") from None
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"{where} returned a model with {len(inputs)} inputs and "
                         f"{len(outputs)} outputs; it needs one of each: the images in, the "
                         "class probabilities out")
    taken = tuple(inputs[0].shape[1:])
    if taken != input_shape:
        raise ValueError(f"{where} returned a model taking inputs of shape {taken}, but this "
                         f"run's images are {input_shape}: start with "
                         "keras.Input(shape=input_shape)")
    given = tuple(outputs[0].shape[1:])
    if given != (num_classes,):
        raise ValueError(f"{where} returned a model whose output has shape (None, "
                         f"{', '.join(map(str, given))}); it must end in num_classes="
                         f"{num_classes} values, one probability per class, e.g. "
                         "keras.layers.Dense(num_classes, activation=\"softmax\")")


def _check_loadable_layers(model: keras.Model, where: str) -> None:
    """No Lambda layer (safe mode refuses it) and every custom layer class registered."""
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.Lambda):
            raise ValueError(f"{where}: layer {layer.name!r} is a keras.layers.Lambda, which "
                             "model.keras cannot be loaded with in safe mode (it would run "
                             "code stored in the file): write it as a layer class decorated "
                             "with @keras.saving.register_keras_serializable()")
        kind = type(layer)
        if is_custom(layer) and ">" not in keras.saving.get_registered_name(kind):
            raise ValueError(f"{where}: layer {layer.name!r} is of the custom class "
                             f"{kind.__name__}, which is not registered: decorate the class "
                             "with @keras.saving.register_keras_serializable() so that 04-07 "
                             "and the server can load model.keras")


def _check_scales_pixels(model: keras.Model, where: str) -> None:
    """A scaling layer (or a custom layer, trusted to scale) before the first weighted one."""
    for layer in all_layers(model):
        if isinstance(layer, SCALING_LAYERS) or (is_custom(layer) and
                                                 not isinstance(layer, keras.Model)):
            return
        if layer.weights and not isinstance(layer, keras.Model):
            raise ValueError(
                f"{where}: its first weighted layer, {layer.name!r} ({type(layer).__name__}), "
                "takes the pixels unscaled. The pipeline feeds every model raw 0-255 pixels "
                "(training, evaluation, export and serving alike), so the model scales them "
                "itself: put keras.layers.Rescaling(1 / 255) right after keras.Input")


def _check_probabilities(model: keras.Model, where: str, input_shape: tuple[int, ...]) -> None:
    """The outputs of black, white and random raw-pixel images are class probabilities."""
    generator = np.random.default_rng(0)
    images = np.stack([np.zeros(input_shape), np.full(input_shape, 255.0),
                       generator.integers(0, 256, input_shape)]).astype(np.float32)
    outputs = np.asarray(model(images, training=False), dtype=np.float64)
    if not np.all(np.isfinite(outputs)):
        raise ValueError(f"{where}: the model gives NaN or infinite outputs for raw-pixel "
                         "images")
    sums = outputs.sum(axis=1)
    if outputs.min() < -1e-6 or np.abs(sums - 1).max() > 1e-2:
        raise ValueError(f"{where}: its outputs are not class probabilities (they sum to "
                         f"{', '.join(f'{total:.3g}' for total in sums)} for three images): end "
                         "the model in a softmax, e.g. keras.layers.Dense(num_classes, "
                         "activation=\"softmax\"); training minimizes cross-entropy on "
                         "probabilities")


def _innermost(error: BaseException) -> str:
    """The root of a Keras deserialization error: its last 'Exception encountered:' line,
    else the first line of the message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line.removeprefix("Exception encountered:").strip() for line in lines
              if line.startswith("Exception encountered:")]
    return causes[-1] if causes else f"{type(error).__name__}: {lines[0] if lines else ''}"


def _check_round_trip(model: keras.Model, where: str) -> None:
    """Saved and loaded back in safe mode, as 04-07 and the server load model.keras."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "check.keras"
        try:
            model.save(path)
            keras.models.load_model(path, safe_mode=True)
        except Exception as error:
            raise ValueError(
                f"{where}: saving the model and loading it back in safe mode, as 04-07 and "
                f"the server do, failed ({_innermost(error)}). A custom layer "
                "needs @keras.saving.register_keras_serializable() and, when its __init__ "
                "takes arguments, a get_config() that returns them") from error


def check_model(model: Any, path: Path, function: str, input_shape: tuple[int, ...],
                num_classes: int) -> keras.Model:
    """The model, checked for everything the later steps need of it."""
    where = f"model_file {path}: {function}(input_shape={input_shape}, num_classes={num_classes})"
    _check_structure(model, where, input_shape, num_classes)
    _check_loadable_layers(model, where)
    _check_scales_pixels(model, where)
    _check_probabilities(model, where, input_shape)
    _check_round_trip(model, where)
    return model
