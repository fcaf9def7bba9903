"""The sentences under the figures and in the conclusion, from known histories and metrics."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.records import (
    DatasetRecord,
    MetricsRecord,
    ModelRecord,
    PreprocessRecord,
    TrainingRecord,
)
from helpers.writing import conclusion, headline, observations

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
DIGITS = [str(digit) for digit in range(10)]


def history(train_loss, val_loss, train_accuracy=None, val_accuracy=None) -> pd.DataFrame:
    epochs = len(train_loss)
    return pd.DataFrame({
        "epoch": range(1, epochs + 1),
        "accuracy": train_accuracy or np.linspace(0.85, 0.96, epochs),
        "loss": train_loss,
        "val_accuracy": val_accuracy or np.linspace(0.90, 0.94, epochs),
        "val_loss": val_loss})


# The default run of the issue: validation loss levels off near 0.167 from epoch 7 while
# training loss keeps falling to 0.121.
LEVELLING = history([0.41, 0.27, 0.23, 0.20, 0.18, 0.16, 0.148, 0.135, 0.127, 0.121],
                    [0.245, 0.226, 0.200, 0.186, 0.188, 0.174, 0.169, 0.168, 0.167, 0.1675])
OVERFITTING = history([0.5, 0.35, 0.30, 0.26, 0.23, 0.20, 0.18, 0.16],
                      [0.40, 0.34, 0.31, 0.302, 0.31, 0.32, 0.33, 0.34])
IMPROVING = history([0.5, 0.35, 0.30, 0.26], [0.40, 0.34, 0.31, 0.29])


@pytest.mark.parametrize(("dataset", "names", "plural"), [
    ("fashion_mnist", FASHION, "garments"), ("csv", FASHION, "garments"),
    ("folder", [name.replace("/", "-") for name in FASHION], "garments"),
    ("mnist_5k", DIGITS, "digits"), ("csv", [f"digit {n}" for n in range(10)], "digits"),
    ("cifar10", ["airplane", "cat"], "photos"), ("folder", ["cat", "dog"], "images")])
def test_sentences_name_the_datasets_own_things(dataset, names, plural) -> None:
    assert observations.subject(dataset, names).plural == plural


# A cosine schedule's end: the loss creeps down to the last epoch at a near-zero rate.
CONVERGED = history([0.9, 0.7, 0.6, 0.55, 0.52, 0.50, 0.49, 0.485, 0.48],
                    [0.80, 0.70, 0.66, 0.650, 0.645, 0.642, 0.641, 0.6405, 0.640],
                    val_accuracy=[0.90, 0.92, 0.93, 0.940, 0.945, 0.948, 0.947, 0.949, 0.948])


def test_test_against_validation() -> None:
    """Beside the kept model's validation accuracy, with the chance difference of two samples."""
    chosen, last = SimpleNamespace(kept=6, epochs_run=10), SimpleNamespace(kept=10,
                                                                         epochs_run=10)
    dropped = observations.test_against_validation(0.9302, 0.9405, 10_000, 6_000, chosen)
    assert dropped.startswith("Test accuracy **0.9302** is 1.0 point under the validation "
                              "accuracy 0.9405 of the kept epoch (epoch 6 of 10), beyond the ±0.8")
    assert "chosen because it did best on validation" in dropped
    # The last epoch kept: no choice among epochs made the validation figure optimistic.
    assert "harder for this model" in observations.test_against_validation(
        0.9302, 0.9405, 10_000, 6_000, last)
    assert "0.2 points over" in observations.test_against_validation(0.9820, 0.9800, 500, 500,
                                                                     chosen)
    assert "equals" in observations.test_against_validation(0.93, 0.9302, 500, 500, chosen)
    # 1.6 points on 1,000 test and 400 validation images: within their ±1.8 points.
    assert "within the ±1.8 points by which accuracies on 400 and 1,000 images can differ by " \
        "chance (95%), so the two agree" in observations.test_against_validation(
            0.9670, 0.9825, 1_000, 400, chosen)


PER_CLASS = {"Trouser": {"precision": 0.995, "recall": 0.987, "f1": 0.991, "support": 1000},
             "Sandal": {"precision": 0.99, "recall": 0.988, "f1": 0.989, "support": 1000},
             "Shirt": {"precision": 0.818, "recall": 0.757, "f1": 0.786, "support": 1000},
             "Coat": {"precision": 0.86, "recall": 0.75, "f1": 0.80, "support": 1000}}


def test_strongest_and_weakest_classes() -> None:
    lines = observations.per_class(PER_CLASS, observations.Subject("garment", "garments"))
    assert lines[0] == "Strongest classes: Trouser (F1 0.991), Sandal (F1 0.989)."
    assert lines[1].startswith("Weakest class: **Shirt** (F1 0.786: precision 0.818, recall 0.757)")
    assert "24% of the garments of class Shirt were given another class" in lines[1]
    assert lines[2] == "The lowest recall is Coat's, 0.750."
    assert lines[3] == "F1 spans 20.5 points from the strongest class to the weakest."
    # Weak because other images are taken for it: the sentence says so, not "0% missed".
    lines = observations.per_class({**PER_CLASS, "Shirt": {"precision": 0.70, "recall": 1.0,
                                                           "f1": 0.70, "support": 1000}},
                                   observations.Subject("digit", "digits"))
    assert "30% of the digits predicted as Shirt were of another class" in lines[1]


PAIRS = pd.DataFrame({"true class": ["Shirt", "Pullover", "Shirt"],
                      "predicted as": ["T-shirt/top", "Coat", "Coat"],
                      "images": [98, 60, 42], "share of true class": [0.098, 0.06, 0.042]})


def test_confused_pairs_with_counts_and_their_share_of_mistakes() -> None:
    lines = observations.confused_pairs(PAIRS, mistakes=698)
    assert lines[0] == ("Most-confused pairs: Shirt taken for T-shirt/top 98 times "
                        "(9.8% of Shirt); Pullover taken for Coat 60 times (6.0% of Pullover); "
                        "Shirt taken for Coat 42 times (4.2% of Shirt).")
    assert lines[1] == "These 3 pairs account for 200 of the 698 mistakes (29%)."
    assert observations.confused_pairs(PAIRS.head(0), mistakes=0)[0].startswith("No test image")


def test_mistakes_count_confidence_and_the_class_predicted_wrongly() -> None:
    true = np.array([0, 0, 1, 1, 2])
    probabilities = np.array([[0.9, 0.1, 0.0], [0.05, 0.95, 0.0], [0.0, 1.0, 0.0],
                              [0.0, 0.4, 0.6], [0.0, 0.0, 1.0]])
    lines = observations.mistakes(true, probabilities, ["zero", "one", "two"],
                                  observations.Subject("digit", "digits"))
    assert lines[0] == "2 of 5 test digits were misclassified (40.0%)."
    assert lines[1].startswith("1 of those mistakes (50%) were made with at least 90% confidence")
    assert "**one** (1 wrong predictions)" in lines[2]


def confusion_with(classes: list[str], pairs: pd.DataFrame, correct: int = 900,
                   spread: int = 10) -> list[list[int]]:
    """A confusion matrix with `correct` on the diagonal, the pairs' counts, and `spread`
    images in every other cell."""
    matrix = np.full((len(classes), len(classes)), spread)
    np.fill_diagonal(matrix, correct)
    for _, row in pairs.iterrows():
        if row["true class"] in classes and row["predicted as"] in classes:
            matrix[classes.index(row["true class"]), classes.index(row["predicted as"])] = \
                row["images"]
    return matrix.tolist()


def figures(history_: pd.DataFrame, architecture: dict, name: str = "fashion_mnist",
            classes=FASHION, pairs: pd.DataFrame = PAIRS,
            top_probabilities: np.ndarray | None = None) -> conclusion.RunFigures:
    per_class = {name_: {"precision": 0.9, "recall": 0.9 - index / 100, "f1": 0.9 - index / 100,
                         "support": 100} for index, name_ in enumerate(classes)}
    epochs = len(history_)
    return conclusion.RunFigures(
        DatasetRecord(name=name, class_names=list(classes), image_shape=[28, 28, 1],
                      train_images=60000, test_images=10000, source="x", files=[]),
        PreprocessRecord(val_fraction=0.1, seed=42, label_encoding="sparse", train_images=54000,
                         validation_images=6000, test_images=10000, pixel_scale=1 / 255),
        ModelRecord(parameters={"trainable": 421962, "non_trainable": 448, "total": 422410},
                    architecture=architecture, compute_dtype_policy="float32", seed=42),
        TrainingRecord(train_seconds=120.4, epochs_run=epochs,
                       best_epoch=int(history_.loc[history_["val_loss"].idxmin(), "epoch"]),
                       learning_rate=0.001, lr_schedule="cosine", batch_size=128,
                       global_batch_size=128, epochs=epochs, label_smoothing=0.0,
                       ema_momentum=0.0, seed=42, augmentation={}, devices=["CPU"], replicas=1,
                       compute_dtype_policy="mixed_bfloat16", early_stopping_patience=4,
                       resumed_after_epoch=3),
        MetricsRecord(test_accuracy=0.9031, test_loss=0.262, precision_macro=0.9037,
                      recall_macro=0.9031, f1_macro=0.9031, precision_weighted=0.9037,
                      recall_weighted=0.9031, f1_weighted=0.9031, test_images=10000,
                      per_class=per_class, confusion_matrix=confusion_with(list(classes), pairs),
                      class_names=list(classes), train_seconds=120.4, epochs_run=epochs,
                      best_epoch=1),
        history_, pairs, top_probabilities)


CNN = {"architecture": "cnn", "conv_filters": [32, 64], "convs_per_block": 1, "dense_units": 128,
       "dropout_rate": 0.3, "batch_norm": True, "l2_weight": 0.0}


def test_conclusion_cites_the_run_and_the_brief() -> None:
    run = figures(LEVELLING, CNN)
    garments = observations.Subject("garment", "garments")
    built = conclusion.what_was_built(run, garments)
    assert built.startswith("This run trained a convolutional network (2 blocks of one "
                            "convolution and max pooling, with 32, 64 filters, then a dense layer "
                            "of 128; batch normalization, dropout 0.3)")
    assert "421,962 trainable parameters" in built and "54,000 garments of Fashion-MNIST" in built
    assert "6,000 out for validation, for 10 epochs (120 s of training)" in built
    table = headline.headline_table(run, {"test_accuracy": 0.90, "f1_macro": 0.8985})
    kept = f"validation (epoch {run.training.best_epoch}, kept)"
    assert table.loc["accuracy", kept] == f"{0.94 - 0.04 / 9:.4f}"
    assert table.loc["F1 (macro)", "reported by the brief"] == "0.8985"
    assert table.loc["F1 (macro)", kept] == "–"  # a run from before 05 measured validation
    lines = headline.headline_observations(run, {"test_accuracy": 0.90, "test_loss": 0.3})
    assert lines[1] == ("The highest validation accuracy of any epoch was 0.9400, at epoch 10; "
                        "the kept epoch, 9, had 0.9356.")
    assert lines[2] == ("Test accuracy 0.9031 is 0.3 points over the brief's 0.9000: within the "
                        "±0.6 points a test set of 10,000 images can tell apart, so the two agree.")
    assert headline.against_brief(run.metrics, {"test_accuracy": 0.88, "f1_macro": 0.92}) == [
        "Test accuracy 0.9031 beats the brief's 0.8800 by 2.3 points.",
        "Test F1 (macro) 0.9031 falls short of the brief's 0.9200 by 1.7 points."]
    assert lines[3] == "Test loss (cross-entropy) 0.2620 beats the brief's 0.3000."


def test_what_worked_reads_the_curves_then_the_classes() -> None:
    lines = conclusion.what_worked(figures(LEVELLING, CNN),
                                   observations.Subject("garment", "garments"))
    assert lines[0].startswith("Validation loss was lowest at **epoch 9 of 10** (0.1670")
    assert "cosine schedule" in lines[1]  # the run's cosine rate was near zero at its end
    assert any(line.startswith("Strongest classes:") for line in lines)


def test_future_work_follows_from_the_curves_and_the_network() -> None:
    garments = observations.Subject("garment", "garments")
    unfinished = conclusion.future_work(figures(IMPROVING, CNN), garments)
    # Plain words: a reader acts on the step, the parameter names are in the appendix.
    assert unfinished[0].startswith("Train for more epochs: validation loss was still falling")
    assert unfinished[-1].startswith("Train the network with more seeds")
    assert not conclusion.future_work(figures(IMPROVING, CNN), garments, seeds=3)[-1] \
        .startswith("Train the network with more seeds")
    overfit = conclusion.future_work(figures(OVERFITTING, {"architecture": "mlp",
                                                           "hidden_units": [512, 256]}), garments)
    assert overfit[0].startswith("Regularize against the overfitting that began after epoch 4: "
                                 "dropout, augmentation")
    assert overfit[1].startswith("Use convolutions:")
    assert not any(step.startswith("Attack") for step in overfit)  # an MLP: no wider network
    digit_pairs = pd.DataFrame({"true class": ["4"], "predicted as": ["9"], "images": [40],
                                "share of true class": [0.04]})
    digits = conclusion.future_work(figures(OVERFITTING, CNN, "mnist", DIGITS, digit_pairs),
                                    observations.Subject("digit", "digits"))
    assert digits[0].startswith("Regularize against the overfitting that began after epoch 4: "
                                "a higher dropout rate,")
    assert "Attack the 4 / 9 confusion: a wider or deeper network may see" in digits[1]
    two_convs = conclusion.future_work(
        figures(OVERFITTING, {**CNN, "convs_per_block": 2, "conv_filters": [64, 128]}), garments)
    assert "a wider network may see" in two_convs[1]
    no_bn = conclusion.future_work(figures(OVERFITTING, {**CNN, "batch_norm": False}), garments)
    assert "Add batch normalization: it steadies training" in no_bn[1]
    assert no_bn[-1].startswith("Train the network with more seeds")
    for steps in (unfinished, overfit, digits, two_convs, no_bn):
        assert not any("`" in step for step in steps)


def test_no_regularization_or_more_epochs_for_a_run_the_schedule_ended() -> None:
    steps = conclusion.future_work(figures(CONVERGED, CNN),
                                   observations.Subject("garment", "garments"))
    assert steps[0].startswith("Find out whether longer training helps with a longer schedule")
    assert not any(step.startswith(("Train for more epochs", "Regularize")) for step in steps)


def test_regularize_more_names_what_the_run_already_used() -> None:
    run = figures(OVERFITTING, CNN)
    flipped = dataclasses.replace(run, training=run.training.model_copy(update={
        "augmentation": {"flip": True, "shift": 0.0, "rotation": 0.0}}))
    assert conclusion.future_work(flipped, observations.Subject("garment", "garments"))[0] == (
        "Regularize against the overfitting that began after epoch 4: a higher dropout rate, "
        "more augmentation or more training images; early stopping already keeps epoch 4's "
        "weights.")
    # A comparison that found no effect of dropout leaves dropout out of the advice.
    steps = conclusion.future_work(flipped, observations.Subject("garment", "garments"),
                                   without_effect=["dropout"])
    assert not any("dropout" in step for step in steps)


def test_a_mirror_averaged_test_figure_says_validation_was_not() -> None:
    run = figures(LEVELLING, CNN)
    assert "mirror" not in headline.headline_observations(run)[0]
    mirrored = dataclasses.replace(
        run, training=run.training.model_copy(update={"test_time_mirror": True}))
    assert headline.headline_observations(mirrored)[0].endswith(
        "the test predictions average each image with its mirror image, the validation figure "
        "does not.")


def test_the_committed_sweep_says_what_it_measured_on() -> None:
    table = conclusion.read_sweep("reports/reference/sweep-bn-dropout")
    assert table.attrs["measured_on"] == "Fashion-MNIST, 10 epochs per point"
    with pytest.raises(FileNotFoundError, match="related_sweep 'no/such/sweep'"):
        conclusion.read_sweep("no/such/sweep")


def test_limits_and_appendix() -> None:
    run = figures(LEVELLING, CNN)
    limits = conclusion.limits(run, observations.Subject("garment", "garments"))
    assert "known to about ±0.0058 (95% interval)" in limits[0]
    assert "Shirt taken for T-shirt/top (98 times)" in limits[2]
    appendix = conclusion.how_computed(run)
    assert "mixed bfloat16" in appendix[0] and "resumed after epoch 3" in appendix[2]


def test_sweep_effects_per_setting_of_the_other_parameter() -> None:
    leaderboard = pd.DataFrame({
        "rank": [1, 2, 3, 4], "run": ["bn-d3", "bn-d0", "nobn-d0", "nobn-d3"],
        "dropout_rate": [0.3, 0.0, 0.0, 0.3], "batch_norm": [True, True, False, False],
        "validation_accuracy": [0.9397, 0.9352, 0.9278, 0.9252],
        "test_accuracy": [0.9295, 0.9240, 0.9218, 0.9167]})
    leaderboard.attrs["measured_on"] = "Fashion-MNIST, 10 epochs per point"
    lines = conclusion.sweep_effects(leaderboard)
    assert lines.pop(0) == "The sweep measured on Fashion-MNIST, 10 epochs per point."
    assert lines[0] == ("`dropout_rate` 0.3 instead of 0.0 changed test accuracy by −0.5 points "
                        "with batch_norm False and +0.6 points with batch_norm True.")
    assert lines[1] == ("`batch_norm` True instead of False changed test accuracy by +0.2 points "
                        "with dropout_rate 0.0 and +1.3 points with dropout_rate 0.3.")
    assert "the best point was bn-d3: validation 0.9397, test 0.9295" in lines[2]


def test_a_mistake_is_confident_only_at_ninety_percent() -> None:
    true = np.array([0, 1, 2, 2])
    probabilities = np.array([[0.62, 0.38, 0.0], [0.1, 0.9, 0.0], [0.0, 0.55, 0.45],
                              [0.0, 0.0, 1.0]])
    lines = observations.mistakes(true, probabilities, ["zero", "one", "two"],
                                  observations.Subject("digit", "digits"))
    assert lines[1] == ("None of those mistakes was made with 90% confidence or more (the most "
                        "confident: 55%): where the model is wrong, it hesitates.")


def test_a_model_at_chance_says_so_instead_of_reading_its_mistakes() -> None:
    """Three classes, every probability about 1/3 (the highest 0.338), as the issue's run."""
    rng = np.random.default_rng(0)
    true = np.repeat([0, 1, 2], 100)
    probabilities = 1 / 3 + rng.uniform(-0.004, 0.004, (300, 3))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    lines = observations.mistakes(true, probabilities, ["a", "b", "c"],
                                  observations.Subject("image", "images"))
    assert len(lines) == 2 and lines[1].startswith("**The model did not learn**: its test loss, ")
    assert "is about ln 3 = 1.0986" in lines[1] and "confiden" not in lines[1]
    assert "highest probability it gave any test image is 0.33" in lines[1]


def test_a_pair_stands_out_only_well_above_how_the_model_predicts() -> None:
    confusion = confusion_with(FASHION, PAIRS)
    assert observations.pair_stands_out(confusion, FASHION.index("Shirt"), 0)  # 98 vs ~26
    assert not observations.pair_stands_out(confusion, FASHION.index("Bag"), 0)  # 10: spread
    # A model that answers class 0 for everything: its mistakes go there by how it predicts,
    # not because the classes look alike.
    collapsed = [[100, 0, 0], [100, 0, 0], [100, 0, 0]]
    assert not observations.pair_stands_out(collapsed, 1, 0)
    # Two classes: every mistake of one is the other, which says nothing of look-alikes.
    assert not observations.pair_stands_out([[90, 10], [30, 70]], 1, 0)
    assert not observations.top_pair_stands_out(PAIRS, [], FASHION)


@pytest.mark.parametrize("recall, words", [(0.0, "100% missed"), (0.5, "50% missed"),
                                           (0.75, "about one in 4 missed"),
                                           (0.9, "about one in 10 missed"),
                                           (1.0, "none missed")])
def test_misses_in_words_never_say_one_in_one(recall: float, words: str) -> None:
    assert observations.missed(recall) == words


def test_limits_claim_look_alikes_and_confidence_only_where_the_numbers_do() -> None:
    garments = observations.Subject("garment", "garments")
    confident = figures(LEVELLING, CNN, top_probabilities=np.array([0.99, 0.97, 0.6, 0.95]))
    limits = conclusion.limits(confident, garments)
    assert any("classes that look alike" in line for line in limits)
    assert any(line.endswith("often confidently.") for line in limits)
    spread = PAIRS.assign(images=[12, 11, 10])
    hesitant = figures(LEVELLING, CNN, pairs=spread,
                       top_probabilities=np.array([0.5, 0.95, 0.6, 0.7]))
    limits = conclusion.limits(hesitant, garments)
    assert not any("look alike" in line or "confidently" in line for line in limits)
    assert not any("Attack the" in step for step in conclusion.future_work(hesitant, garments))


# A run left at chance on three classes: validation loss at ln 3 = 1.0986 throughout.
AT_CHANCE = history([1.1002, 1.0991, 1.0989], [1.0990, 1.0988, 1.0989],
                    [0.33, 0.34, 0.33], [0.3333, 0.3344, 0.3333])


def test_a_run_at_chance_is_not_read_as_converged_in_the_conclusion() -> None:
    three = ["cat", "dog", "fox"]
    pairs = pd.DataFrame({"true class": ["dog"], "predicted as": ["cat"], "images": [100],
                          "share of true class": [1.0]})
    run = figures(AT_CHANCE, CNN, "folder", three, pairs, np.full(300, 0.338))
    run = dataclasses.replace(run, metrics=run.metrics.model_copy(update={
        "confusion_matrix": [[100, 0, 0], [100, 0, 0], [100, 0, 0]]}))
    images = observations.Subject("image", "images")
    worked = " ".join(conclusion.what_worked(run, images))
    assert "**The model did not learn**: its lowest validation loss, 1.0988 at epoch 2, is about " \
           "ln 3 = 1.0986" in worked
    assert "converged" not in worked and "levelled" not in worked
    limits = " ".join(conclusion.limits(run, images))
    assert "look alike" not in limits and "confidently" not in limits and "one in 1 " not in limits
    steps = conclusion.future_work(run, images)
    assert steps[0].startswith("Check the learning rate (learning_rate, 0.001 here)")
    assert not any(step.startswith(("Attack", "Repeat with two more seeds")) for step in steps)
