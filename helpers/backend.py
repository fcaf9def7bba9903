"""TensorFlow and Keras, imported once with TensorFlow's start-up log lines kept out of notebooks.

TensorFlow 2.21 logs INFO lines (oneDNN notices, "could not find cuda drivers") through
absl before its logging is initialized, so TF_CPP_MIN_LOG_LEVEL does not hide them, and
ipykernel copies them into the first cell that imports TensorFlow, with a timestamp that
differs on every run. They are muted only while TensorFlow loads and lists its devices;
Python exceptions are not affected.
"""

from __future__ import annotations

import os

from helpers.streams import native_stderr_to

# TensorFlow's C++ start-up chatter (CPU-feature notices) would otherwise fill every
# notebook's first output; set where TensorFlow is imported, so importing helpers alone
# leaves the environment as it was. Warnings and errors still show; set the variable to 0
# before importing helpers.backend to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
with native_stderr_to(os.devnull):
    import keras
    import tensorflow as tf

    GPUS = tuple(device.name for device in tf.config.list_physical_devices("GPU"))

__all__ = ["GPUS", "keras", "tf"]
