"""Networks written layer by layer: each brief's network built exactly, a bad entry named."""

import pytest

from helpers import parameters
from helpers.catalog.layer_grammar import LayerSpec, LayerSpecError, parse_layers
from helpers.model import networks

ASSIGNMENT_A = ["conv 32 3x3 relu l2=0.001", "maxpool 2", "conv 64 3x3 relu l2=0.001",
                "maxpool 2", "flatten", "dense 128 relu l2=0.001", "dropout 0.3"]


def test_entries_are_read_with_keras_defaults() -> None:
    specs = parse_layers(["conv 32", "conv 16 5x5 tanh padding=same stride=2", "avgpool",
                          "globalavgpool", "dense 64 linear", "dropout 0.5", "batchnorm"])
    assert specs[0] == LayerSpec("conv", 32, (3, 3), "relu", "valid", 1, 0.0)
    assert specs[1] == LayerSpec("conv", 16, (5, 5), "tanh", "same", 2, 0.0)
    assert specs[2].size == 2 and specs[4].activation == "linear" and specs[5].rate == 0.5


@pytest.mark.parametrize("entries, message", [
    (["conv 32 3x3 reluu", "flatten"], "layers[0] 'conv 32 3x3 reluu': activation 'reluu'"),
    (["flatten", "dense"], "layers[1] 'dense': units must be a whole number"),
    (["conv x", "flatten"], "the number of filters must be a whole number >= 1, got 'x'"),
    (["convolution 32", "flatten"], "unknown layer 'convolution'; allowed: conv, maxpool"),
    (["conv 32 padding=full", "flatten"], "padding 'full' is not one of valid, same"),
    (["conv 32 dilation=2", "flatten"], "unknown setting dilation"),
    (["flatten", "dropout 1.5"], "the rate must be below 1"),
    (["flatten", "flatten 3"], "flatten takes no value"),
    (["dense 10"], "put flatten (or globalavgpool) before the first dense layer"),
    (["flatten", "conv 32"], "needs an image, but an earlier flatten made it a vector"),
    (["conv 32"], "never flattens the image"),
    ([3], "each entry is a string such as 'conv 32 3x3 relu'"),
])
def test_a_garbled_entry_is_refused_naming_it_and_the_form(entries: list, message: str) -> None:
    with pytest.raises(LayerSpecError) as error:
        parse_layers(entries)
    assert message in str(error.value)


def test_a_bad_layers_parameter_is_refused_before_any_work() -> None:
    with pytest.raises(parameters.ParameterError, match=r"layers\[2\] 'maxpool two'"):
        parameters.validate({"architecture": "layers",
                             "layers": ["conv 32", "conv 64", "maxpool two", "flatten"]})
    with pytest.raises(parameters.ParameterError, match="set architecture: layers"):
        parameters.validate({"layers": ASSIGNMENT_A})
    with pytest.raises(parameters.ParameterError, match="needs the layers parameter"):
        parameters.validate({"architecture": "layers"})


def test_assignment_a_and_d_networks_have_their_published_parameter_counts() -> None:
    cnn = networks.build_model((28, 28, 1), 10, parameters.validate(
        {"architecture": "layers", "layers": ASSIGNMENT_A}))
    assert networks.parameter_counts(cnn)["total"] == 225_034  # Keras's summary of brief A
    assert networks.layer_listing(cnn)[1] == "conv 32 3x3, relu, padding valid, l2 0.001"
    assert networks.layer_listing(cnn)[-1].startswith("dense 10, softmax")
    mlp = networks.build_model((28, 28, 1), 10, parameters.validate(
        {"architecture": "mlp", "hidden_units": [512, 256], "dropout_rate": 0.0,
         "batch_norm": False}))
    assert networks.parameter_counts(mlp)["total"] == 535_818  # 784-512-256-10
    assert [layer for layer in networks.layer_listing(mlp) if layer.startswith("dense")] == [
        "dense 512, relu", "dense 256, relu", "dense 10, softmax (the output: one unit per class)"]


def test_vgg_is_the_cnn_with_two_convolutions_per_block() -> None:
    vgg = networks.build_model((28, 28, 1), 10, parameters.validate({"architecture": "vgg"}))
    conv_layers = [line for line in networks.layer_listing(vgg) if line.startswith("conv")]
    assert len(conv_layers) == 4
    with pytest.raises(parameters.ParameterError, match="two convolutions per block"):
        parameters.validate({"architecture": "vgg", "convs_per_block": 3})
