"""What surprised: a variant that takes out what the brief expects to help and is not beaten,
the classes that moved most, and a hypothesis the data supports."""

import numpy as np
import pandas as pd

from helpers.writing import surprises

LAYERS = ["conv 32 3x3 relu", "batchnorm", "dropout 0.25", "flatten", "dense 64 relu l2=0.001"]


def test_what_a_variant_takes_out_is_read_from_its_changes() -> None:
    base = {"architecture": "cnn", "augment_flip": True, "augment_rotation": 10.0,
            "dropout_rate": 0.3, "batch_norm": True, "l2_weight": 0.0}
    assert surprises.removed_features(base, {"augment_flip": False,
                                             "augment_rotation": 0.0}) == ["augmentation"]
    assert surprises.removed_features(base, {"dropout_rate": 0.0}) == ["dropout"]
    assert surprises.removed_features(base, {"learning_rate": 0.1}) == []
    layers = {"architecture": "layers", "layers": LAYERS}
    assert surprises.removed_features(layers, {"layers": [
        "conv 32 3x3 relu", "flatten", "dense 64 relu"]}) == ["L2", "dropout",
                                                              "batch normalization"]


def test_the_classes_that_moved_most_come_first() -> None:
    brief = pd.DataFrame({0: {"a": 0.9, "b": 0.5, "c": 0.7}, 1: {"a": 0.9, "b": 0.6, "c": 0.7}})
    variant = pd.DataFrame({0: {"a": 0.9, "b": 0.8, "c": 0.6}})
    changes = surprises.class_changes(brief, variant)
    assert list(changes.index) == ["b", "c", "a"]
    assert changes["b"] == -0.25 and round(changes["c"], 6) == 0.1


def test_mirroring_is_the_hypothesis_only_where_the_losers_are_asymmetric() -> None:
    rng = np.random.default_rng(0)
    symmetric = rng.integers(0, 256, (20, 8, 4)).astype(np.uint8)
    symmetric = np.concatenate([symmetric, symmetric[:, :, ::-1]], axis=2)  # 8x8, mirror-equal
    lopsided = symmetric.copy()
    lopsided[:, :, :4] = 255
    lopsided[:, :, 4:] = 0
    images = np.concatenate([symmetric, lopsided])
    labels = np.array([0] * 20 + [1] * 20)
    asymmetry = surprises.left_right_asymmetry(images, labels, ["round", "shoe"])
    assert asymmetry["round"] == 0 and asymmetry["shoe"] > 0.5
    assert surprises.mirror_hypothesis(asymmetry, ["shoe"]).startswith(
        "The classes that lost most are more left-right asymmetric")
    assert surprises.mirror_hypothesis(asymmetry, ["round"]).startswith(
        "Mirroring does not explain it")


def test_a_surprise_says_it_plainly_and_offers_a_hypothesis() -> None:
    changes = pd.Series({"Shirt": -0.086, "Coat": -0.057, "Bag": 0.001})
    lines = surprises.surprise_lines("augmentation", "no augmentation", "had a mean test "
                                     "accuracy 2.4 points higher", changes)
    assert lines[0].startswith("The brief expects augmentation to help, but this data cannot "
                               "show that it did")
    assert "Shirt (−0.086 F1 with augmentation)" in lines[1]
    assert lines[-1].startswith("A hypothesis, not a finding: the randomly changed images")


def test_a_surprise_says_hurt_only_for_a_difference_the_data_detects() -> None:
    changes = pd.Series({"Shirt": -0.086})
    hurt = surprises.surprise_lines("augmentation", "no augmentation", "had a mean test "
                                    "accuracy 2.4 points higher", changes, hurt=True)
    assert hurt[0].startswith("The brief expects augmentation to help, but here it hurt")


def test_a_network_that_overfit_is_not_said_to_be_not_overfitting() -> None:
    changes = pd.Series({"6": 0.021})
    calm = surprises.surprise_lines("dropout", "no dropout", "had a mean test accuracy 0.5 "
                                    "points lower", changes)
    overfit = surprises.surprise_lines("dropout", "no dropout", "had a mean test accuracy 0.5 "
                                       "points lower", changes, overfit=True)
    assert "not overfitting much" in calm[-1]
    assert "not overfitting" not in overfit[-1] and "overfit even with it" in overfit[-1]
