"""The runtimes a trained model runs in: Keras, a SavedModel and TFLite, all taking raw pixels.

Serving (helpers.serving) and the export measurements (helpers.evaluation.export_benchmark) call the
model through these, so both see exactly what a deployed model computes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from helpers.streams import native_stderr_to

Predict = Callable[[np.ndarray], np.ndarray]


class TFLiteModel:
    """A TFLite interpreter that takes raw pixels and returns float class probabilities.

    Quantized inputs and outputs are converted with the scale and zero point stored in the
    model, so callers treat every variant alike.
    """

    def __init__(self, path: str | Path, num_threads: int | None = None) -> None:
        from helpers.backend import tf

        with warnings.catch_warnings():
            # tf.lite.Interpreter warns that LiteRT will replace it; it is what TF ships.
            warnings.simplefilter("ignore")
            self.interpreter = tf.lite.Interpreter(model_path=str(path),
                                                   num_threads=num_threads)
        self.path = Path(path)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.input_shape = tuple(int(size) for size in self.input["shape"][1:])
        self._batch_size = 0

    def _resize(self, batch_size: int) -> None:
        if batch_size != self._batch_size:
            self.interpreter.resize_tensor_input(self.input["index"],
                                                 [batch_size, *self.input_shape])
            # "Created TensorFlow Lite XNNPACK delegate" is logged in C++ on allocation.
            with native_stderr_to(os.devnull):
                self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
            self.output = self.interpreter.get_output_details()[0]
            self._batch_size = batch_size

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (float32) of a batch of raw-pixel images."""
        self._resize(len(images))
        values = images.astype(np.float32)
        scale, zero_point = self.input["quantization"]
        if self.input["dtype"] in (np.int8, np.uint8):
            limits = np.iinfo(self.input["dtype"])
            values = np.clip(np.round(values / scale + zero_point), limits.min, limits.max)
        self.interpreter.set_tensor(self.input["index"], values.astype(self.input["dtype"]))
        self.interpreter.invoke()
        result = self.interpreter.get_tensor(self.output["index"])
        scale, zero_point = self.output["quantization"]
        if self.output["dtype"] in (np.int8, np.uint8):
            return ((result.astype(np.float32) - zero_point) * scale).astype(np.float32)
        return result.astype(np.float32)


def saved_model_predictor(path: Path) -> Predict:
    """The SavedModel's serving signature, as TensorFlow Serving would call it."""
    from helpers.backend import tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    input_name = next(iter(signature.structured_input_signature[1]))
    output_name = next(iter(signature.structured_outputs))

    def predict(images: np.ndarray) -> np.ndarray:
        tensor = tf.constant(images.astype(np.float32))
        return signature(**{input_name: tensor})[output_name].numpy()

    predict.keep_alive = loaded  # the signature holds only a weak reference to its variables
    return predict


def keras_predictor(model) -> Predict:
    """The Keras model's forward pass, compiled once for any batch size (no predict() overhead)."""
    from helpers.backend import tf

    forward = tf.function(lambda images: model(images, training=False), reduce_retracing=True)

    def predict(images: np.ndarray) -> np.ndarray:
        return forward(tf.constant(images.astype(np.float32))).numpy()

    return predict


def batched(predict: Predict, images: np.ndarray, batch_size: int) -> np.ndarray:
    """Predict in fixed-size batches; the last one is padded so no new shape is compiled."""
    results = []
    for start in range(0, len(images), batch_size):
        batch = images[start: start + batch_size]
        missing = batch_size - len(batch)
        if missing:
            batch = np.concatenate([batch, np.zeros((missing, *batch.shape[1:]), batch.dtype)])
        results.append(predict(batch)[: batch_size - missing])
    return np.concatenate(results)
