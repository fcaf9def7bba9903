"""A model left at chance is said to have learned nothing, with the numbers and what to check."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.writing import chance, curve_diagnosis


def history(val_loss: list[float], val_accuracy: list[float],
            loss: list[float] | None = None) -> pd.DataFrame:
    epochs = len(val_loss)
    return pd.DataFrame({"epoch": range(1, epochs + 1), "loss": loss or val_loss,
                         "accuracy": val_accuracy, "val_loss": val_loss,
                         "val_accuracy": val_accuracy})


# The run: three classes, validation loss 1.0988 = ln 3, accuracy a third.
AT_CHANCE = history([1.0990, 1.0988, 1.0989, 1.0988], [0.3333, 0.3344, 0.3333, 0.3333],
                    [1.1002, 1.0991, 1.0989, 1.0989])
LEARNED = history([0.9, 0.6, 0.45, 0.40], [0.55, 0.75, 0.82, 0.85])


def context(epochs: int = 4) -> curve_diagnosis.CurveContext:
    return curve_diagnosis.CurveContext(planned_epochs=epochs, early_stopping_patience=4,
                                        learning_rate=5.0, lr_schedule="constant",
                                        validation_images=300)


def test_a_loss_at_ln_classes_with_a_guess_s_accuracy_is_chance() -> None:
    level = chance.from_history(AT_CHANCE, 3)
    assert level == chance.AtChance(3, 1.0988, 0.3344, 2)
    assert math.isclose(level.uniform_loss, math.log(3))
    assert chance.from_history(LEARNED, 3) is None
    # A loss near ln 10 is chance for ten classes, not for three.
    assert chance.from_history(history([2.30, 2.29], [0.11, 0.1]), 10) is not None
    assert chance.from_history(history([2.30, 2.29], [0.11, 0.1]), 30) is None


def test_a_tiny_learning_rate_that_ranks_right_but_unsure_is_not_chance() -> None:
    """Loss still near ln 3, but accuracy far above a guess: the model learned something."""
    assert chance.from_history(history([1.09, 1.08], [0.60, 0.70]), 3) is None


def test_a_loss_above_ln_classes_or_not_a_number_is_chance_too() -> None:
    diverged = chance.from_history(history([8.1, 7.9], [0.33, 0.34]), 3)
    assert diverged is not None
    assert "7.9000 at epoch 2, is above ln 3 = 1.0986" in chance.sentence(diverged)
    blown_up = chance.from_history(history([math.nan, math.nan], [0.33, 0.33]), 3)
    assert "was not a number (NaN) in any epoch" in chance.sentence(blown_up)


def test_the_sentence_says_plainly_that_the_model_did_not_learn() -> None:
    assert chance.sentence(chance.from_history(AT_CHANCE, 3)) == (
        "**The model did not learn**: its lowest validation loss, 1.0988 at epoch 2, is about ln "
        "3 = 1.0986, the loss of giving each of the 3 classes the same probability, 1/3 = 0.3333, "
        "and validation accuracy there was 0.3344, what guessing scores (one in 3).")


def test_from_predictions_names_the_highest_probability() -> None:
    true = np.repeat([0, 1, 2], 4)
    probabilities = np.tile([0.338, 0.331, 0.331], (12, 1))
    level = chance.from_predictions(true, probabilities)
    assert level.epoch is None and level.highest_probability == pytest.approx(0.338)
    assert "its test loss, 1.09" in chance.sentence(level)
    confident = np.eye(3)[true] * 0.9 + 0.1 / 3
    assert chance.from_predictions(true, confident) is None


def test_the_curve_reading_of_a_run_at_chance_is_replaced_not_converged() -> None:
    read = curve_diagnosis.diagnose(AT_CHANCE, context())
    assert "converged" in " ".join(read.observations)  # what the curves alone would say
    replaced = chance.unless_learned(read, AT_CHANCE, 3, learning_rate=5.0, epochs=4)
    text = " ".join(replaced.observations)
    assert "converged" not in text and "**The model did not learn**" in text
    assert replaced.observations[0] == read.observations[0]  # the best epoch: true either way
    assert replaced.next_steps[0].startswith("Check the learning rate (learning_rate, 5 here)")
    assert [step.split(" (")[0].split(":")[0] for step in replaced.next_steps] == [
        "Check the learning rate", "Check the labels", "Check the input",
        "Check the number of epochs"]
    learned = curve_diagnosis.diagnose(LEARNED, context())
    assert chance.unless_learned(learned, LEARNED, 3) is learned
