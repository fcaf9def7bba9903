"""A small residual network: an example of bringing your own Keras model (architecture `file`).

params/own_model.yaml names this file (`model_file: params/models/residual.py`, read from the
project root) and its function (`model_function: build_model`). 03_build_model calls
build_model(input_shape, num_classes) with the data's image shape, e.g. (28, 28, 1), and its
number of classes, shows this file and the model it returns, and copies the file into the run
directory as model_source.py; 04-07 and the server import that copy before loading the model.

What the pipeline needs of the model (03 checks each, and says which one fails):
- a functional or Sequential keras.Model, one input of `input_shape`, one output of
  `num_classes` probabilities (a softmax);
- raw 0-255 pixels in: every step feeds the model raw pixels, so it scales them itself
  (the Rescaling layer below);
- custom layers registered with @keras.saving.register_keras_serializable(), with a
  get_config() returning their __init__ arguments, and no Lambda layers: model.keras is
  loaded in safe mode.
"""

import keras
from keras import layers

# Keras's default batch-normalization momentum (0.99) lets the test-time statistics lag far
# behind the weights over a short run; 0.9 keeps them within a few dozen steps.
BATCH_NORM_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="own_models")
class ChannelScale(layers.Layer):
    """Multiplies each channel by a learned factor (LayerScale, as in ConvNeXt): a residual
    branch that starts small leaves the block close to the identity at first."""

    def __init__(self, initial: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.initial = initial

    def build(self, input_shape):
        self.factors = self.add_weight(name="factors", shape=(input_shape[-1],),
                                       initializer=keras.initializers.Constant(self.initial))

    def call(self, inputs):
        return inputs * keras.ops.cast(self.factors, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "initial": self.initial}


def residual_block(x, filters: int, name: str):
    """Two 3x3 convolutions whose output, scaled, is added back to the block's input."""
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn2")(y)
    y = ChannelScale(name=f"{name}_scale")(y)
    x = layers.Add(name=f"{name}_add")([x, y])
    return layers.Activation("relu", name=f"{name}_relu2")(x)


def build_model(input_shape, num_classes):
    """Rescaling, a stem convolution, two residual blocks around a pooling, global average
    pooling and a softmax over the classes."""
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = layers.Rescaling(1 / 255, name="scale_to_unit")(inputs)  # raw 0-255 pixels come in
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="stem")(x)
    x = residual_block(x, 32, "block1")
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="widen")(x)
    x = residual_block(x, 64, "block2")
    x = layers.GlobalAveragePooling2D(name="average")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    # float32 keeps the softmax numerically safe when mixed precision is on (on a GPU).
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name="residual")
