"""The notebooks' run-dependent explanations say what each run's network, data and settings are."""

import pytest
import yaml

from helpers import artifacts, parameters
from helpers.model import networks
from helpers.parameters.optimization import OptimizerSettings, ScheduleSettings, StoppingSettings
from helpers.writing import narrative

ASSIGNMENTS = artifacts.PROJECT_ROOT / "params" / "assignments"


def built(params_file: str):
    """The network a params file describes, for 28x28 grayscale images of ten classes."""
    given = yaml.safe_load((artifacts.PROJECT_ROOT / params_file).read_text())
    known = {name: value for name, value in given.items()
             if name in parameters.RunParameters.model_fields}
    return networks.build_model((28, 28, 1), 10, parameters.validate(known))


# params file -> (kinds its text must explain, kinds it must not, flatten size, largest layer)
NETWORKS = {
    "params/default.yaml": ({"Convolutions", "Pooling", "Batch normalization", "Dropout"},
                            {"L2 regularization"}, "3,136", "dense"),
    "params/assignments/a_csv_cnn_l2.yaml": ({"Convolutions", "Pooling", "Dropout",
                                              "L2 regularization"},
                                             {"Batch normalization"}, "1,600", "dense1"),
    "params/assignments/b_mnist_5k_cnn_bn_dropout.yaml": (
        {"Convolutions", "Batch normalization", "Dropout"}, {"L2 regularization"}, "9,216",
        "dense1"),
    "params/assignments/d_fashion_mlp.yaml": ({"Dense"}, {"Convolutions", "Pooling",
                                                          "Batch normalization", "Dropout",
                                                          "L2 regularization"}, "784", "dense1"),
    "params/assignments/e_mnist_5k_cnn.yaml": ({"Convolutions", "Pooling"},
                                               {"Batch normalization", "Dropout"}, "1,600",
                                               "dense1"),
}


@pytest.mark.parametrize("params_file", NETWORKS)
def test_layer_explanations_cover_exactly_the_layers_the_network_has(params_file: str) -> None:
    present, absent, flatten_size, largest = NETWORKS[params_file]
    model = built(params_file)
    text = "\n".join(narrative.layer_explanations(model))
    for kind in present:
        assert f"**{kind}**" in text, kind
    for kind in absent:
        assert f"**{kind}**" not in text, kind
    assert f"one vector of {flatten_size} values" in text
    assert f"**{largest}**" in narrative.largest_layer(model)


def test_network_kind_names_an_mlp_as_such() -> None:
    assert "multilayer perceptron" in narrative.network_kind(
        built("params/assignments/d_fashion_mlp.yaml"))
    assert "convolutional" in narrative.network_kind(built("params/default.yaml"))


def test_training_settings_quote_the_runs_own_rate_schedule_and_epochs() -> None:
    text = " ".join(narrative.training_settings(0.003, "cosine", "sparse", 6, 256))
    assert "**0.003**" in text and "6 planned epochs" in text and "1e-3" not in text
    assert "**Adam**" in text
    constant = " ".join(narrative.training_settings(0.0003, "constant", "one_hot", 15, 64))
    assert "0.0003" in constant and "cosine" not in constant and "categorical" in constant


SGD_PLATEAU = narrative.training_settings(
    0.05, "plateau", "sparse", 10, 128, optimizer=OptimizerSettings("sgd", 0.9, nesterov=True),
    schedule=ScheduleSettings(lr_plateau_patience=1, lr_warmup_epochs=2),
    stopping=StoppingSettings("val_accuracy", restore_best_weights=False),
    early_stopping_patience=4)


def test_training_settings_name_the_optimizer_and_schedule_the_run_used() -> None:
    text = " ".join(SGD_PLATEAU)
    assert "**SGD** (stochastic gradient descent) at a learning rate of **0.05**" in text
    assert "**Nesterov momentum 0.9**" in text
    assert ("A **plateau schedule** (Keras's ReduceLROnPlateau) multiplies the rate by 0.5 each "
            "time validation loss has gone 1 epoch without falling by at least 0.0001") in text
    assert "epoch by epoch over the first 2 epochs (0.0167, 0.0333, then 0.05)" in text
    assert ("**Early stopping** watches validation accuracy: training ends after 4 epochs "
            "without a higher validation accuracy") in text
    assert "the saved model keeps the last epoch's weights" in text
    for other in ("Adam", "cosine", "Cosine"):
        assert other not in text


@pytest.mark.parametrize("optimizer, schedule, settings, phrases", [
    (OptimizerSettings("adamw", weight_decay=0.004), "step", ScheduleSettings(lr_decay_epochs=3),
     ["**AdamW** at a learning rate of **0.001**", "**Weight decay 0.004**, decoupled",
      "A **step decay** multiplies the rate by 0.5 every 3 epochs: 0.001 at first, 0.000125 in "
      "the last planned epoch (epoch 10)"]),
    (OptimizerSettings("rmsprop", momentum=0.5), "exponential",
     ScheduleSettings(lr_decay_factor=0.9),
     ["**RMSprop** at a learning rate of **0.001**", "**Momentum 0.5**",
      "An **exponential decay** multiplies the rate by 0.9 every epoch"]),
    (OptimizerSettings("sgd"), "cosine", ScheduleSettings(lr_warmup_epochs=1),
     ["the rate matters more than for an optimizer that adapts it per weight",
      "step by step over the first epoch, from zero to 0.001",
      "from 0.001 to zero over the 9 remaining epochs"]),
])
def test_each_optimizer_and_schedule_is_described_with_the_runs_numbers(
        optimizer: OptimizerSettings, schedule: str, settings: ScheduleSettings,
        phrases: list[str]) -> None:
    text = " ".join(narrative.training_settings(0.001, schedule, "sparse", 10, 128,
                                                optimizer=optimizer, schedule=settings))
    for phrase in phrases:
        assert phrase in text
    assert ("cosine" in text) == (schedule == "cosine")
    assert ("Adam" in text) == (optimizer.optimizer in ("adam", "adamw"))


def test_augmentation_sentence_names_what_was_used_or_none() -> None:
    assert "no augmentation" in narrative.augmentation_sentence({"flip": False, "shift": 0.0})
    used = narrative.augmentation_sentence({"flip": True, "rotation": 10.0, "zoom": 0.0})
    assert "left-right flips" in used and "10°" in used and "zoom" not in used


def test_source_names_list_every_file_not_only_the_last() -> None:
    assert narrative.source_names(["/d/train.csv", "/d/test.csv"], "") == "train.csv and test.csv"
    source = "/x/mnist_5k.csv.gz (test set: a stratified 0.1 of it, seed 42)"
    assert narrative.source_names([], source) == "mnist_5k.csv.gz"


def test_the_subset_says_it_is_not_full_mnist_and_names_no_file() -> None:
    lines = narrative.data_description("mnist_5k", [str(digit) for digit in range(10)],
                                       [28, 28, 1], 4000, 1000)
    assert "5,000" in " ".join(lines) and "70,000" in " ".join(lines)
    assert "params/" not in " ".join(lines) and ".yaml" not in " ".join(lines)
    fashion = narrative.data_description("fashion_mnist", ["T-shirt/top", "Trouser"],
                                         [28, 28, 1], 60000, 10000)
    assert len(fashion) == 1 and "Fashion-MNIST" in fashion[0]


def test_look_alike_classes_are_this_datasets() -> None:
    assert "4 and 9" in narrative.look_alike_classes("mnist_5k", [str(d) for d in range(10)])
    assert "shirt" in narrative.look_alike_classes("csv", ["T-shirt/top", "Trouser", "Shirt"])
    assert "shirt" not in narrative.look_alike_classes("folder", ["cat", "dog"])


def test_a_tanh_network_is_not_said_to_use_relu() -> None:
    """LeNet-5's tanh convolutions: the explanations name tanh, never ReLU, and the largest
    layer's reason names only the layer kinds the network has."""
    checked = parameters.validate({"architecture": "layers", "layers": [
        "conv 6 5x5 tanh padding=same", "avgpool 2", "conv 16 5x5 tanh", "avgpool 2",
        "flatten", "dense 120 tanh", "dense 84 tanh"]})
    text = "\n".join(narrative.layer_explanations(networks.build_model((28, 28, 1), 10,
                                                                      checked)))
    assert "ReLU" not in text and "max(0, x)" not in text
    assert "(2 layers, 6, 16 filters of 5×5 pixels, tanh)" in text
    assert "**Non-linearity** between layers: tanh, squashing to (−1, 1) (4 layers)" in text
    mlp = networks.build_mlp((28, 28, 1), 10, [32])
    assert "convolution" not in narrative.largest_layer(mlp)


LENET5 = ["conv 6 5x5 tanh same", "avgpool 2x2", "conv 16 5x5 tanh", "avgpool 2x2", "flatten",
          "dense 120 tanh", "dense 84 tanh"]


def test_an_mlp_is_not_told_that_a_convolution_shares_its_weights() -> None:
    mlp = narrative.largest_layer(built("params/assignments/d_fashion_mlp.yaml"))
    assert "convolution" not in mlp.lower() and "one weight per input and unit" in mlp
    assert "A convolution shares its few weights" in narrative.largest_layer(
        built("params/default.yaml"))


def test_the_catalog_names_a_layers_network_s_real_activation() -> None:
    """The settings table and 08's phrase spell each entry out, defaults included."""
    from helpers import catalog

    architecture = {"architecture": "layers", "layers": [*LENET5[:4], "flatten", "dense 64"]}
    kind = catalog.network_of(architecture)
    assert kind.outline(architecture, 3) == (
        "written layer by layer: conv 6 5x5 tanh same → avgpool 2 → conv 16 5x5 tanh valid → "
        "avgpool 2 → flatten → dense 64 relu → a softmax output over 3 classes")
    assert "conv 6 5x5 tanh same; avgpool 2" in kind.describe(architecture)
