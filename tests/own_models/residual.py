"""The smallest residual network the tests bring as their own model (architecture `file`):
Rescaling, a convolution, one residual block closed by an Add, global average pooling and a
softmax, with one custom layer that is registered so model.keras loads in safe mode."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="tests_own_models")
class ChannelScale(layers.Layer):
    """Multiplies each channel by a learned factor."""

    def __init__(self, initial: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.initial = initial

    def build(self, input_shape):
        self.factors = self.add_weight(name="factors", shape=(input_shape[-1],),
                                       initializer=keras.initializers.Constant(self.initial))

    def call(self, inputs):
        return inputs * keras.ops.cast(self.factors, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "initial": self.initial}


def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(x)
    y = layers.Conv2D(8, 3, padding="same", activation="relu", name="block_conv")(x)
    y = ChannelScale(name="block_scale")(y)
    x = layers.Add(name="block_add")([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(inputs, outputs, name="tiny_residual")
