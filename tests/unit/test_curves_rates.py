"""The curve reading with the learning rate of every epoch (history.csv's learning_rate): a
plateau schedule's cuts read as cuts, a decaying schedule named as itself (never "cosine"
for another), next steps that never advise the schedule the run has, and the epoch whose
weights are kept when early stopping watches accuracy or keeps the last epoch."""

import numpy as np
import pandas as pd
import pytest

from helpers.writing import curve_diagnosis

LR = 0.001


def history(val_loss: list[float], rates: list[float], loss: list[float] | None = None,
            val_accuracy: list[float] | None = None) -> pd.DataFrame:
    epochs = len(val_loss)
    return pd.DataFrame({
        "epoch": range(1, epochs + 1),
        "loss": loss or list(np.linspace(0.6, 0.3, epochs)), "val_loss": val_loss,
        "accuracy": np.linspace(0.85, 0.95, epochs),
        "val_accuracy": val_accuracy or list(np.linspace(0.88, 0.92, epochs)),
        "learning_rate": rates})


def context(epochs: int, schedule: str, **settings) -> curve_diagnosis.CurveContext:
    return curve_diagnosis.CurveContext(epochs, 4, LR, schedule, 10_000, **settings)


# Validation loss falls for three epochs, stays flat for two (the patience), the plateau
# schedule halves the rate, and the next epochs reach a new low.
CUT_HELPED = history([0.50, 0.40, 0.35, 0.352, 0.351, 0.33, 0.32, 0.315],
                     [LR] * 5 + [LR / 2] * 3)
# Cut twice without validation loss ever going below its earlier lowest.
CUTS_IN_VAIN = history([0.50, 0.40, 0.35, 0.351, 0.352, 0.3515, 0.352, 0.3512, 0.3511],
                       [LR] * 5 + [LR / 2] * 2 + [LR / 4] * 2,
                       loss=[0.60, 0.45, 0.40, 0.38, 0.36, 0.35, 0.34, 0.335, 0.33])


def test_a_cut_after_a_flat_stretch_is_read_as_the_plateau_schedule_s() -> None:
    diagnosis = curve_diagnosis.diagnose(CUT_HELPED, context(8, "plateau"))
    assert "rate_cut" in diagnosis.categories
    text = " ".join(diagnosis.observations)
    assert ("**The plateau schedule cut the rate** once, each time validation loss had gone 2 "
            "epochs without a new low: to 0.0005 from epoch 6.") in text
    assert ("After the first cut validation loss fell below its earlier lowest (0.3500 at "
            "epoch 3) to 0.3150 at epoch 8") in text
    assert "levelled" not in text and "cosine" not in text


def test_cuts_that_did_not_help_point_away_from_the_rate() -> None:
    diagnosis = curve_diagnosis.diagnose(CUTS_IN_VAIN, context(9, "plateau"))
    assert diagnosis.categories[:2] == ("rate_cut", "levelled_off")
    text = " ".join(diagnosis.observations)
    assert "cut the rate** 2 times" in text and "to 0.0005 from epoch 6 and 0.00025 from " \
        "epoch 8" in text
    assert "never went below its lowest before the first cut (0.3500 at epoch 3)" in text
    assert "even at the rates the plateau schedule cut to, validation had levelled off" in text
    steps = " ".join(diagnosis.next_steps)
    assert "Change the network or the data rather than the learning rate" in steps
    assert "lr_schedule" not in steps and "Lower" not in steps and "lower it" not in steps


def test_a_plateau_that_never_cut_suggests_a_shorter_patience_not_a_schedule() -> None:
    flat = history([0.50, 0.40, 0.35, 0.3502, 0.3501, 0.3503], [LR] * 6,
                   loss=[0.60, 0.45, 0.40, 0.37, 0.35, 0.33])
    diagnosis = curve_diagnosis.diagnose(flat, context(6, "plateau", lr_plateau_patience=4))
    assert "levelled_off" in diagnosis.categories and "rate_cut" not in diagnosis.categories
    steps = " ".join(diagnosis.next_steps)
    assert "shorter plateau patience (lr_plateau_patience, now 4)" in steps
    assert "lr_schedule" not in steps


def test_a_step_decays_flat_end_is_named_as_the_step_decay() -> None:
    rates = [LR] * 3 + [LR / 10] * 3 + [LR / 100] * 3
    flat_end = history([0.5, 0.4, 0.35, 0.31, 0.30, 0.297, 0.296, 0.2958, 0.2957], rates)
    diagnosis = curve_diagnosis.diagnose(flat_end, context(9, "step"))
    assert "schedule_plateau" in diagnosis.categories
    text = " ".join(diagnosis.observations + diagnosis.next_steps)
    assert ("In the last 3 epochs (7-9) the step decay had brought the learning rate below 10% "
            "of its initial 0.001 (1.0% in epoch 7, 1.0% in epoch 9)") in text
    assert "only a slower decay can tell" in text and "cosine" not in text
    assert ("Find out whether longer training helps with a slower decay: a factor closer to 1 "
            "(lr_decay_factor) or more epochs between cuts (lr_decay_epochs)") in text


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "plateau"])
def test_no_sentence_says_cosine_for_another_schedule(schedule: str) -> None:
    falling = [0.5, 0.4, 0.33, 0.3, 0.29, 0.285, 0.283, 0.282]
    rising = [0.5, 0.4, 0.33, 0.34, 0.36, 0.38, 0.40, 0.43]
    rates = {"constant": [LR] * 8, "plateau": [LR] * 4 + [LR / 2] * 4,
             "step": [LR] * 2 + [LR / 10] * 3 + [LR / 100] * 3,
             "exponential": [LR * 0.3 ** epoch for epoch in range(8)]}[schedule]
    for val_loss in (falling, rising):
        diagnosis = curve_diagnosis.diagnose(history(val_loss, rates), context(8, schedule))
        text = " ".join(diagnosis.observations + diagnosis.next_steps)
        assert "cosine" not in text.lower(), text


def test_the_kept_epoch_follows_what_early_stopping_watched() -> None:
    # Lowest validation loss at epoch 3, highest accuracy at epoch 5.
    runs = history([0.5, 0.4, 0.33, 0.34, 0.35], [LR] * 5,
                   val_accuracy=[0.80, 0.85, 0.88, 0.89, 0.90])
    on_accuracy = curve_diagnosis.diagnose(runs, context(5, "constant", monitor="val_accuracy"))
    assert ("the saved model has epoch 5's weights, the highest validation accuracy (0.9000), "
            "which early stopping watches.") in on_accuracy.observations[0]
    last = curve_diagnosis.diagnose(runs, context(5, "constant", restore_best_weights=False))
    assert ("the saved model has the last epoch's weights (epoch 5), as the run's settings "
            "ask.") in last.observations[0]
    # Lowest loss at epoch 2, highest accuracy at epoch 3, then two epochs without a better one.
    stopped = curve_diagnosis.diagnose(
        history([0.5, 0.33, 0.34, 0.36, 0.38], [LR] * 5,
                val_accuracy=[0.80, 0.85, 0.88, 0.87, 0.86]),
        curve_diagnosis.CurveContext(9, 2, LR, "constant", 10_000, monitor="val_accuracy"))
    assert ("**Early stopping fired** after epoch 5 of the 9 planned: validation accuracy had "
            "not improved on epoch 3's 0.8800 for 2 epochs (the patience is 2).") \
        in stopped.observations


def test_a_history_without_its_rate_reads_the_schedule_as_before() -> None:
    old = CUT_HELPED.drop(columns="learning_rate")
    assert "rate_cut" not in curve_diagnosis.diagnose(old, context(8, "plateau")).categories
