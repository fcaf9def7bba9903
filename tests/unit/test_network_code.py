"""keras_source: the printed keras.Sequential rebuilds the very network build_model made."""

import numpy as np
import pytest
import yaml

from helpers import artifacts, parameters
from helpers.backend import keras
from helpers.model import network_code, networks

ASSIGNMENT_A = artifacts.PROJECT_ROOT / "params" / "assignments" / "a_csv_cnn_l2.yaml"
# The settings that make one layer differ from another of its class.
COMPARED = ("filters", "units", "kernel_size", "strides", "activation", "padding", "use_bias",
            "rate", "pool_size", "momentum", "epsilon", "scale", "offset")


def assignment_a_layers() -> list[str]:
    return yaml.safe_load(ASSIGNMENT_A.read_text())["layers"]


ARCHITECTURES = {
    "cnn default": ((28, 28, 1), {}),
    "cnn l2 without batch norm": ((28, 28, 1), {"l2_weight": 1e-4, "batch_norm": False}),
    "vgg": ((28, 28, 1), {"architecture": "vgg"}),
    "cnn 3 convs per block, 5x5, rgb": ((32, 32, 3), {"convs_per_block": 3, "kernel_size": 5,
                                                      "conv_filters": [8, 16]}),
    "mlp": ((28, 28, 1), {"architecture": "mlp"}),
    "mlp l2 without batch norm or dropout": ((28, 28, 1), {
        "architecture": "mlp", "hidden_units": [64], "batch_norm": False, "dropout_rate": 0.0,
        "l2_weight": 1e-3}),
    "assignment a layers": ((28, 28, 1), {"architecture": "layers",
                                          "layers": assignment_a_layers()}),
    "every layer kind": ((32, 32, 3), {"architecture": "layers", "layers": [
        "conv 16 5x5 tanh padding=same stride=2", "avgpool 2", "batchnorm",
        "conv 8 3x1 elu l2=0.001", "maxpool 3", "globalavgpool", "dense 32 gelu l2=0.01",
        "dropout 0.25", "dense 16 linear"]}),
}


def rebuilt(source: str) -> keras.Model:
    namespace: dict = {}
    exec(source, namespace)  # the code a student pastes, run as it is
    return namespace["model"]


def stack(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def l2_factor(config: dict) -> float | None:
    regularizer = config.get("kernel_regularizer")
    return None if regularizer is None else regularizer["config"]["l2"]


@pytest.mark.parametrize("image_shape, settings", ARCHITECTURES.values(), ids=ARCHITECTURES)
def test_the_printed_code_rebuilds_the_same_network(image_shape: tuple, settings: dict) -> None:
    original = networks.build_model(image_shape, 10, parameters.RunParameters(**settings))
    source = network_code.keras_source(original)
    copy = rebuilt(source)
    assert [type(layer) for layer in stack(copy)] == [type(layer) for layer in stack(original)]
    assert copy.input_shape == original.input_shape
    for theirs, ours in zip(stack(copy), stack(original), strict=True):
        assert theirs.output.shape == ours.output.shape, ours.name
        mine, yours = ours.get_config(), theirs.get_config()
        # Exact: floats are printed with repr, which reads back as the very same number.
        assert ({key: yours[key] for key in COMPARED if key in yours}
                == {key: mine[key] for key in COMPARED if key in mine}), ours.name
        assert l2_factor(yours) == l2_factor(mine), ours.name
    assert networks.parameter_counts(copy) == networks.parameter_counts(original)
    # Same weights, same answers: nothing the comparison above left out changes the network.
    copy.set_weights(original.get_weights())
    pixels = np.random.default_rng(0).integers(0, 256, (3, *image_shape)).astype("float32")
    np.testing.assert_allclose(copy.predict(pixels, verbose=0),
                               original.predict(pixels, verbose=0), rtol=1e-5, atol=1e-6)
    assert network_code.keras_source(copy) == source  # Sequential or functional, one text


def test_default_cnn_reads_as_a_student_writes_it() -> None:
    source = network_code.keras_source(
        networks.build_model((28, 28, 1), 10, parameters.RunParameters(l2_weight=1e-4)))
    lines = source.splitlines()
    assert lines[:5] == ["import keras", "from keras import layers, regularizers", "",
                         "model = keras.Sequential([", "    keras.Input(shape=(28, 28, 1)),"]
    assert lines[-1] == "])"
    assert "    layers.Rescaling(1 / 255)," in lines
    assert ('    layers.Conv2D(32, 3, padding="same", activation="relu", '
            'kernel_regularizer=regularizers.L2(0.0001)),') in lines
    assert "    layers.MaxPooling2D(2)," in lines
    assert "    layers.BatchNormalization(momentum=0.9)," in lines
    assert '    layers.Dense(10, activation="softmax"),' in lines
    assert "name=" not in source and "dtype" not in source


def test_regularizers_are_imported_only_when_used() -> None:
    source = network_code.keras_source(
        networks.build_model((28, 28, 1), 10, parameters.RunParameters()))
    assert "from keras import layers\n" in source and "regularizers" not in source


def test_an_unknown_layer_is_named_not_printed() -> None:
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.LayerNormalization(name="my_norm")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    with pytest.raises(ValueError, match="layer 'my_norm' is a LayerNormalization"):
        network_code.keras_source(model)


def test_a_setting_it_cannot_write_is_named() -> None:
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(
        2, kernel_initializer="he_normal", name="output")])
    with pytest.raises(ValueError, match="layer 'output' \\(Dense\\) sets kernel_initializer"):
        network_code.keras_source(model)


def test_a_network_that_is_not_a_chain_is_refused() -> None:
    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.Dense(4, name="hidden")(inputs)
    added = keras.layers.Add(name="skip")([inputs, hidden])
    model = keras.Model(inputs, keras.layers.Dense(2)(added))
    with pytest.raises(ValueError, match="skip"):
        network_code.keras_source(model)
