"""Networks written layer by layer: each brief's network built exactly, a bad entry named."""

import pytest

from helpers import parameters
from helpers.catalog.layer_grammar import LayerSpec, LayerSpecError, parse_layers, spelling
from helpers.model import networks

ASSIGNMENT_A = ["conv 32 3x3 relu l2=0.001", "maxpool 2", "conv 64 3x3 relu l2=0.001",
                "maxpool 2", "flatten", "dense 128 relu l2=0.001", "dropout 0.3"]


def test_entries_are_read_with_keras_defaults() -> None:
    specs = parse_layers(["conv 32", "conv 16 5x5 tanh padding=same stride=2", "avgpool",
                          "globalavgpool", "dense 64 linear", "dropout 0.5", "batchnorm"])
    assert specs[0] == LayerSpec("conv", 32, (3, 3), "relu", "valid", 1, 0.0)
    assert specs[1] == LayerSpec("conv", 16, (5, 5), "tanh", "same", 2, 0.0)
    assert specs[2].size == 2 and specs[4].activation == "linear" and specs[5].rate == 0.5


LENET5 = ["conv 6 5x5 tanh same", "avgpool 2x2", "conv 16 5x5 tanh", "avgpool 2x2", "flatten",
          "dense 120 tanh", "dense 84 tanh"]


def test_a_brief_s_own_words_are_read() -> None:
    """LeNet-5 as a brief writes it: padding bare, pools as 2x2."""
    specs = parse_layers(LENET5)
    assert specs[0] == LayerSpec("conv", 6, (5, 5), "tanh", "same")
    assert specs[1] == LayerSpec("avgpool", 2) and specs[2].padding == "valid"
    assert [spelling(spec) for spec in specs] == [
        "conv 6 5x5 tanh same", "avgpool 2", "conv 16 5x5 tanh valid", "avgpool 2", "flatten",
        "dense 120 tanh", "dense 84 tanh"]


@pytest.mark.parametrize("entry, meant", [
    ("conv 6 5x5 tanh padding=same", "conv 6 5x5 tanh same"),
    ("conv 6 same tanh 5x5", "conv 6 5x5 tanh same"),
    ("conv 32 (3,3)", "conv 32 3x3 relu valid"),
    ("conv 32 (3, 3) activation='relu' padding='same'", "conv 32 3x3 relu same"),
    ("conv 32 3 x 3", "conv 32 3x3 relu valid"),
    ("conv 32 5×5 relu", "conv 32 5x5 relu valid"),
    ("conv 32 3x3, relu, padding same, l2 0.001", "conv 32 3x3 relu same l2=0.001"),
    ("Conv2D 32 3x3 relu strides=(2,2)", "conv 32 3x3 relu valid stride=2"),
    ("maxpool 2x2", "maxpool 2"), ("MaxPooling2D (2, 2)", "maxpool 2"),
    ("maxpool 3x3 stride=3", "maxpool 3"), ("AveragePooling2D 2x2", "avgpool 2"),
    ("BatchNormalization", "batchnorm"), ("GlobalAveragePooling2D", "globalavgpool"),
])
def test_other_spellings_of_a_layer_mean_the_same_layer(entry: str, meant: str) -> None:
    spec = parse_layers([entry, "flatten"] if "Global" not in entry else [entry])[0]
    assert spelling(spec) == meant
    assert parse_layers([meant, "flatten"] if meant != "globalavgpool" else [meant])[0] == spec


@pytest.mark.parametrize("entries, message", [
    (["conv 32 3x3 reluu", "flatten"], "layers[0] 'conv 32 3x3 reluu': 'reluu' is not a window "
     "(3x3), an activation (relu, tanh, sigmoid, elu, gelu, swish, linear) or a padding (valid, "
     "same) (did you mean 'relu'?); write it as 'conv FILTERS [KxK] [ACTIVATION] [same|valid] "
     "[stride=N] [l2=X]', e.g. 'conv 6 5x5 tanh same'"),
    (["conv 32 3x3 tanh full", "flatten"], "'full' is not a window (3x3), an activation"),
    (["conv 32 activation=reluu", "flatten"], "activation 'reluu' is not one of relu, tanh"),
    (["conv 32 3x3 5x5", "flatten"], "'5x5' is a second window: give one"),
    (["flatten", "dense 128 relu tanh"], "'tanh' is a second activation: give one"),
    (["flatten", "dense 128 3x3"], "a dense layer takes its units only, no window"),
    (["flatten", "dense 10 softmax"], "layers[1] 'dense 10 softmax': the output layer (one unit "
     "per class, softmax) is added after the last entry, always: leave it out of layers"),
    (["conv 32", "relu", "flatten"], "relu is an activation: write it in the conv or dense entry"),
    (["input 28x28x1", "flatten"], "the input and its scaling to [0, 1] come before the first"),
    (["flatten", "dense"], "layers[1] 'dense': units must be a whole number"),
    (["conv x", "flatten"], "the number of filters must be a whole number >= 1, got 'x'"),
    (["pooling 2", "flatten"], "unknown layer 'pooling' (did you mean 'maxpool'?); allowed: conv"),
    (["maxpoll 2", "flatten"], "unknown layer 'maxpoll' (did you mean 'maxpool'?)"),
    (["conv 32 padding=full", "flatten"], "padding 'full' is not one of valid, same"),
    (["conv 32 dilation=2", "flatten"], "unknown setting dilation; conv takes activation"),
    (["maxpool 2x3", "flatten"], "the pool size '2x3': only square ones are supported here"),
    (["maxpool 2 stride=1", "flatten"], "a pool here strides by its own size (stride=2 for "
     "maxpool 2), not 1; write it as 'maxpool [N or NxN]', e.g. 'maxpool 2x2'"),
    (["avgpool 2 same", "flatten"], "(pools here have no padding)"),
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


def test_lenet5_in_a_brief_s_words_is_built_as_written() -> None:
    lenet = networks.build_model((28, 28, 1), 10, parameters.validate(
        {"architecture": "layers", "layers": LENET5}))
    assert networks.parameter_counts(lenet)["total"] == 61_706  # LeNet-5 on 28x28, same padding
    assert networks.layer_listing(lenet)[1:4] == [
        "conv 6 5x5, tanh, padding same", "average pool 2x2", "conv 16 5x5, tanh, padding valid"]


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
