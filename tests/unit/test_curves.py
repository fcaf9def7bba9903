"""The curve diagnosis: a table of histories (every committed reference's, and made-up ones for
each category) and the categories and sentences each must get."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import records
from helpers.data import input_pipeline
from helpers.records import ModelRecord, PreprocessRecord, TrainingRecord, read_record
from helpers.writing import curve_diagnosis

REFERENCE = Path(__file__).resolve().parents[2] / "reports" / "reference"


def made_up(loss, val_loss, accuracy=None, val_accuracy=None) -> pd.DataFrame:
    """A history with the given losses; accuracies rise steadily unless given."""
    epochs = len(loss)
    return pd.DataFrame({
        "epoch": range(1, epochs + 1), "loss": loss, "val_loss": val_loss,
        "accuracy": accuracy if accuracy is not None else np.linspace(0.85, 0.96, epochs),
        "val_accuracy": (val_accuracy if val_accuracy is not None
                         else np.linspace(0.88, 0.92, epochs))})


def context(planned_epochs, schedule="constant", validation_images=10_000, patience=None,
            train_only=(), learning_rate=0.001) -> curve_diagnosis.CurveContext:
    return curve_diagnosis.CurveContext(planned_epochs, patience if patience else planned_epochs,
                               learning_rate, schedule, validation_images, tuple(train_only))


def reference(name: str) -> tuple[pd.DataFrame, curve_diagnosis.CurveContext]:
    """A committed reference's history and its context, from its own records."""
    folder = REFERENCE / name
    return (pd.read_csv(folder / "history.csv"),
            curve_diagnosis.context_from_records(read_record(folder, ModelRecord),
                                        read_record(folder, TrainingRecord),
                                        read_record(folder, PreprocessRecord).validation_images))


# (history, context, the categories it must get, phrases its observations must contain)
MADE_UP = {
    # Validation loss lowest at epoch 5, then up for 7 epochs while training loss falls, and
    # validation accuracy down 2 points on 10,000 images: beyond its ±0.5-point interval.
    "clear overfitting": (
        made_up([0.60, 0.45, 0.38, 0.33, 0.29, 0.26, 0.23, 0.20, 0.18, 0.16, 0.14, 0.12],
                [0.50, 0.42, 0.37, 0.34, 0.33, 0.34, 0.35, 0.36, 0.38, 0.40, 0.42, 0.44],
                val_accuracy=[0.85, 0.88, 0.90, 0.91, 0.92, 0.918, 0.915, 0.912, 0.91, 0.906,
                              0.903, 0.90]),
        context(12), ("overfitting",),
        ["Validation loss rose after epoch 5 while training loss kept falling",
         "from 0.3300 at epoch 5 to 0.4400 at epoch 12 (+33% at the end)",
         "training loss from 0.2900 to 0.1200", "**the model overfit from epoch 6 on**",
         "Validation accuracy fell too, from 0.9200 to 0.9000"]),
    # Constant rate, validation loss still 5% lower each epoch.
    "still improving": (
        made_up([0.60, 0.50, 0.44, 0.40, 0.37, 0.35, 0.33, 0.31],
                [0.50, 0.45, 0.42, 0.40, 0.38, 0.36, 0.34, 0.32]),
        context(8), ("still_improving",),
        ["Validation loss was still falling at the end: 0.3600 at epoch 6, 0.3200 by epoch 8 "
         "(−11%)", "up 1.1 points, more than the ±0.53-point 95% interval",
         "training had not converged"]),
    # Cosine over 10 epochs: the last two ran under 6% of the rate, and the curves flattened.
    "schedule plateau": (
        made_up([0.60, 0.45, 0.38, 0.33, 0.30, 0.28, 0.265, 0.255, 0.251, 0.250],
                [0.50, 0.42, 0.37, 0.34, 0.32, 0.31, 0.302, 0.297, 0.295, 0.2948]),
        context(10, "cosine"), ("schedule_plateau",),
        ["In the last 2 epochs (9-10) the cosine schedule had brought the learning rate below "
         "10% of its initial 0.001 (5.6% in epoch 9, 0.8% in epoch 10)",
         "validation loss went from 0.2970 at epoch 8 to 0.2948 (−0.0022)",
         "only a longer schedule can tell"]),
    # Dropout 0.5: training loss above validation loss in every epoch, still falling.
    "train above validation with dropout": (
        made_up([0.80, 0.62, 0.52, 0.46, 0.42, 0.39],
                [0.50, 0.44, 0.40, 0.37, 0.35, 0.33]),
        context(6, train_only=("dropout 0.5",)), ("still_improving", "train_above_validation"),
        ["Training loss stayed above validation loss in every epoch (0.3900 against 0.3300 "
         "at epoch 6)", "dropout 0.5 acts only while training",
         "The model is not overfitting"]),
    # 300 validation images (±2.5 points): accuracy swings of one to five images are noise.
    "noisy small validation set": (
        made_up([0.50, 0.35, 0.28, 0.24, 0.21, 0.19, 0.17, 0.155, 0.14],
                [0.30, 0.22, 0.19, 0.175, 0.170, 0.168, 0.171, 0.169, 0.170],
                val_accuracy=[0.90, 0.93, 0.94, 0.9467, 0.95, 0.9567, 0.95, 0.9633, 0.9533]),
        context(9, validation_images=300), ("levelled_off", "noise"),
        ["From epoch 6 to 9 validation accuracy went up and down (0.9567, 0.9500, 0.9633, "
         "0.9533), by at most 1.3 points an epoch", "one image is 0.33 points",
         "These swings are noise, not a trend."]),
    # Patience 3 of 20 planned: stopped at epoch 8, three epochs after the best.
    "early stopping": (
        made_up([0.60, 0.45, 0.38, 0.33, 0.29, 0.26, 0.23, 0.20],
                [0.50, 0.42, 0.37, 0.34, 0.33, 0.345, 0.36, 0.37],
                val_accuracy=[0.85, 0.88, 0.90, 0.91, 0.92, 0.915, 0.91, 0.905]),
        context(20, patience=3), ("early_stopping", "overfitting"),
        ["**Early stopping fired** after epoch 8 of the 20 planned: validation loss had not "
         "improved on epoch 5's 0.3300 for 3 epochs (the patience is 3)."]),
    # A long fall, then one epoch up 10% on 10,000 images.
    "last-epoch rise": (
        made_up([0.60, 0.45, 0.38, 0.33, 0.29, 0.26], [0.50, 0.42, 0.37, 0.34, 0.32, 0.352],
                val_accuracy=[0.85, 0.88, 0.90, 0.91, 0.92, 0.91]),
        context(6), ("last_epoch_rise",),
        ["In the last epoch validation loss rose from 0.3200 (epoch 5, its lowest) to 0.3520 "
         "(+10%)", "One epoch is not a trend: it may be noise", "or the start of overfitting"]),
    "unstable": (
        made_up([0.60, 0.45, 0.38, 0.40, 0.45, 0.52], [0.50, 0.42, 0.37, 0.40, 0.46, 0.55]),
        context(6), ("unstable",), ["the training became unstable"]),
}
REFERENCES = {
    "default": (("still_improving",),
                ["Validation loss was lowest at **epoch 6 of 6** (0.1687, validation accuracy "
                 "0.9385)", "Validation loss still fell 3.9% in the last epoch (0.1756 → 0.1687)",
                 "the cosine schedule had brought the learning rate to 2.3% of its start"]),
    "best": (("schedule_plateau", "noise"),
             ["In the last 6 epochs (25-30)", "0.1% in epoch 30"]),
    "csv": (("schedule_plateau", "noise"), ["In the last 2 epochs (9-10)"]),
    "folder": (("schedule_plateau", "noise"), ["In the last 2 epochs (9-10)"]),
    "mnist_5k": (("early_stopping", "overfitting", "noise"),
                 ["**Early stopping fired** after epoch 10 of the 15 planned",
                  "from 0.0551 at epoch 5 to 0.0636 at epoch 8 and 0.0568 at epoch 10",
                  "**the model overfit from epoch 6 on**"]),
    "assignment-a": (("last_epoch_rise", "noise"),
                     ["In the last epoch validation loss rose from 0.3076 (epoch 9; lowest "
                      "0.3035 at epoch 8) to 0.3151 (+2.4%)",
                      "One epoch is not a trend: it may be noise"]),
    "assignment-b": (("overfitting", "noise"),
                     ["from 0.1065 at epoch 6 to 0.2025 at epoch 10 (+90% at the end)",
                      "training loss from 0.0315 to 0.0191",
                      "**the model overfit from epoch 7 on**"]),
    "assignment-c": (("levelled_off", "train_above_validation", "noise"),
                     ["Training loss stayed above validation loss in every epoch (0.2321 "
                      "against 0.1977 at epoch 10)", "dropout 0.3 and augmentation (left-right "
                      "flips, rotations up to ±10°) act only while training",
                      "validation had levelled off"]),
    "assignment-d": (("overfitting",), ["**the model overfit from epoch 9 on**",
                                        "+10% at the end"]),
    "assignment-e": (("last_epoch_rise",),
                     ["In the last epoch validation loss rose from 0.0527 (epoch 9, its lowest) "
                      "to 0.0857 (+63%)", "One epoch is not a trend: it may be noise",
                      "or the start of overfitting"]),
}
CASES = ([pytest.param(*MADE_UP[name], id=name) for name in MADE_UP]
         + [pytest.param(*reference(name), *REFERENCES[name], id=name) for name in REFERENCES])


@pytest.mark.parametrize(("history", "context_", "categories", "phrases"), CASES)
def test_each_history_gets_its_diagnosis(history, context_, categories, phrases) -> None:
    diagnosis = curve_diagnosis.diagnose(history, context_)
    assert diagnosis.categories == categories
    text = " ".join(diagnosis.observations)
    for phrase in phrases:
        assert phrase in text
    assert diagnosis.observations[0].startswith("Validation loss was lowest at **epoch")


@pytest.mark.parametrize(("history", "context_", "categories", "phrases"), CASES)
def test_claims_name_their_evidence_and_steps_follow_from_the_diagnosis(
        history, context_, categories, phrases) -> None:
    diagnosis = curve_diagnosis.diagnose(history, context_)
    for line in diagnosis.observations:
        assert re.search(r"epoch \d+|the last epoch", line) and re.search(r"\d\.\d{3,4}",
                                                                          line), line
    steps = " ".join(diagnosis.next_steps)
    assert "no sign of overfitting" not in " ".join(diagnosis.observations)
    assert "`" not in steps and "raise epochs" not in steps.lower()
    # Regularization is advised for an overfitting run only.
    assert ("Regularize" in steps) == ("overfitting" in categories)
    # A gain at a near-zero rate is no reason for more epochs, only for finding out.
    if "schedule_plateau" in categories and "still_improving" not in categories:
        assert not any(step.startswith("Train for more epochs") for step in diagnosis.next_steps)
    # At a schedule's flat end the first step is finding out what a longer one gives (at a
    # constant rate that levelled off, it is a decaying rate instead).
    if "schedule_plateau" in categories and (
            categories == ("schedule_plateau",) or "train_above_validation" in categories):
        assert diagnosis.next_steps[0].startswith("Find out whether longer training helps "
                                                  "with a longer schedule") \
            or diagnosis.next_steps[0].startswith("Train for more epochs (epochs)")


def test_next_steps_in_words() -> None:
    plateau = curve_diagnosis.diagnose(*MADE_UP["schedule plateau"][:2])
    assert plateau.next_steps == (
        "Find out whether longer training helps with a longer schedule: more epochs (epochs), "
        "over which the cosine decay stretches. This run's flat end was set by the learning "
        "rate reaching zero and cannot say.",)
    overfit = curve_diagnosis.diagnose(*MADE_UP["clear overfitting"][:2])
    assert overfit.next_steps[0] == (
        "Regularize against the overfitting that began after epoch 5: dropout (dropout_rate), "
        "augmentation (augment_shift, augment_rotation) or more training images; early "
        "stopping already keeps epoch 5's weights.")
    improving = curve_diagnosis.diagnose(*MADE_UP["still improving"][:2])
    assert improving.next_steps[0].startswith("Train for more epochs (epochs)")
    above = curve_diagnosis.diagnose(*MADE_UP["train above validation with dropout"][:2])
    assert above.next_steps[1] == (
        "The model is not overfitting, so it has room for more capacity: try a larger network "
        "(conv_filters, dense_units) or less dropout (dropout_rate), compared on validation.")
    noisy = curve_diagnosis.diagnose(*MADE_UP["noisy small validation set"][:2])
    assert "300 validation images cannot tell them apart" in noisy.next_steps[-1]
    single = curve_diagnosis.diagnose(made_up([0.5], [0.4]), context(1))
    assert single.categories == ()
    assert single.next_steps == ("Train for more than one epoch (epochs): a single point is not "
                                 "a curve.",)


def test_the_gap_is_in_points_and_signed() -> None:
    lines = curve_diagnosis.diagnose(made_up([0.5, 0.4], [0.45, 0.35], [0.80, 0.90], [0.85, 0.88]),
                            context(2)).observations
    assert lines[-1] == ("At epoch 2 training accuracy was 0.9000 against 0.8800 on "
                         "validation, a gap of 2.0 points.")
    lines = curve_diagnosis.diagnose(made_up([0.5, 0.4], [0.45, 0.35], [0.80, 0.87], [0.85, 0.88]),
                            context(2)).observations
    assert lines[-1].endswith("a gap of 1.0 point in favour of validation.")


def test_cosine_learning_rate_per_epoch() -> None:
    shares = [curve_diagnosis.learning_rate_share(epoch, 10, "cosine") for epoch in range(1, 11)]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] == pytest.approx(0.9918, abs=1e-4)
    assert shares[-1] == pytest.approx(0.0082, abs=1e-4)
    assert sum(shares) / 10 == pytest.approx(0.5)  # half a cosine averages to half the rate
    assert curve_diagnosis.learning_rate_share(3, 10, "constant") == 1.0
    assert curve_diagnosis.learning_rate_share(12, 10, "cosine") == 0.0


def test_regularizers_that_act_only_while_training() -> None:
    default = {"architecture": "cnn", "layers": None, "dropout_rate": 0.3, "batch_norm": True}
    assert curve_diagnosis.train_only_regularizers(default, {"flip": False, "shift": 0.0}) == (
        "dropout 0.3",)
    # model.json records dropout_rate for every architecture; `layers` uses its own entries.
    layers = {**default, "architecture": "layers",
              "layers": ["conv 32 3x3 relu", "maxpool 2", "flatten", "dense 64 relu"]}
    assert curve_diagnosis.train_only_regularizers(layers, {}) == ()
    layers["layers"] = layers["layers"] + ["dropout 0.25", "dense 32", "dropout 0.5"]
    assert curve_diagnosis.train_only_regularizers(layers, {}) == ("dropout 0.25 and 0.5",)
    assert curve_diagnosis.train_only_regularizers({"architecture": "mlp", "dropout_rate": 0.0},
                                                   {}) == ()
    augmentation = input_pipeline.Augmentation(flip=True, shift=0.1, rotation=10.0)
    assert curve_diagnosis.train_only_regularizers({**default, "dropout_rate": 0.0},
                                                   augmentation) == (
        "augmentation (left-right flips, shifts up to 10%, rotations up to ±10°)",)


def test_bad_input_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="lr_schedule 'linear'"):
        context(10, "linear")
    with pytest.raises(ValueError, match="validation_images"):
        context(10, validation_images=0)
    with pytest.raises(ValueError, match="missing column.*val_accuracy"):
        curve_diagnosis.diagnose(made_up([0.5], [0.4]).drop(columns="val_accuracy"), context(1))
    with pytest.raises(ValueError, match="no epochs"):
        curve_diagnosis.diagnose(made_up([0.5], [0.4]).head(0), context(1))


def test_observations_for_run_reads_the_network_and_the_split(tmp_path) -> None:
    for kind in (ModelRecord, PreprocessRecord):
        records.write_record(tmp_path, read_record(REFERENCE / "assignment-c", kind))
    history = pd.read_csv(REFERENCE / "assignment-c" / "history.csv")
    markdown = curve_diagnosis.observations_for_run(
        tmp_path, history, epochs=10, early_stopping_patience=4, learning_rate=0.001,
        lr_schedule="cosine",
        augmentation=input_pipeline.Augmentation(flip=True, rotation=10.0))
    assert markdown.startswith("**What this run shows**\n\n- Validation loss was lowest at "
                               "**epoch 9 of 10**")
    assert "dropout 0.3 and augmentation (left-right flips, rotations up to ±10°)" in markdown
