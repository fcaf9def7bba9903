"""A model of one's own with an operation TFLite does not have (the inverse error function,
tf.Erfinv): its Keras file and SavedModel export, its TFLite models cannot be made."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="tests_own_models")
class InverseErf(layers.Layer):
    """erfinv(x / 2) of each value: keeps [0, 1] inputs finite."""

    def call(self, inputs):
        return keras.ops.erfinv(inputs * 0.5)


def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = InverseErf()(layers.Rescaling(1 / 255)(inputs))
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
