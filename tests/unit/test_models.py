import inspect

import numpy as np
import pytest

from helpers import parameters
from helpers.model import networks


def test_default_cnn_shapes_and_parameter_count() -> None:
    model = networks.build_cnn((28, 28, 1), 10, batch_norm=False)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    # conv1 3*3*1*32+32, conv2 3*3*32*64+64, dense 7*7*64*128+128, output 128*10+10
    expected = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (7 * 7 * 64 * 128 + 128) + (128 * 10 + 10)
    assert networks.parameter_counts(model) == {"trainable": expected, "non_trainable": 0,
                                              "total": expected}


def test_batch_norm_adds_scales_shifts_and_moving_statistics() -> None:
    plain = networks.parameter_counts(networks.build_cnn((28, 28, 1), 10, batch_norm=False))
    counts = networks.parameter_counts(networks.build_cnn((28, 28, 1), 10, batch_norm=True))
    # after each block (32, 64 channels) and the dense layer (128 units, which drops its bias)
    normalized = 32 + 64 + 128
    assert counts["non_trainable"] == 2 * normalized  # moving mean and variance
    assert counts["trainable"] == plain["trainable"] + 2 * normalized - 128


def test_model_scales_raw_pixels_itself() -> None:
    model = networks.build_cnn((8, 8, 3), 4, conv_filters=(4,), dense_units=8)
    assert model.layers[1].name == "scale_to_unit"
    probabilities = model.predict(np.full((2, 8, 8, 3), 255, np.uint8), verbose=0)
    assert probabilities.shape == (2, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_l2_adds_a_regularization_loss() -> None:
    model = networks.build_cnn((28, 28, 1), 10, l2_weight=1e-3)
    assert len(model.losses) == 3  # both convolutions and the hidden dense layer


def test_build_cnn_defaults_are_the_parameter_schemas() -> None:
    schema = parameters.RunParameters()
    defaults = {name: parameter.default for name, parameter in
                inspect.signature(networks.build_cnn).parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    assert set(defaults) == {"conv_filters", "kernel_size", "convs_per_block", "dense_units",
                             "dropout_rate", "batch_norm", "l2_weight"}
    for name, default in defaults.items():
        expected = getattr(schema, name)
        assert (list(default) if isinstance(default, tuple) else default) == expected, name


# Ranges and types (dropout_rate, l2_weight, dense_units, ...) are the schema's to refuse
# (tests/unit/test_parameters.py); build_cnn checks only what depends on the data.
@pytest.mark.parametrize("arguments, message", [
    ({"input_shape": (28, 28)}, "input_shape"),
    ({"num_classes": 1}, "num_classes"),
    ({"conv_filters": [8, 8, 8, 8, 8, 8]}, "too many for a 28x28 input"),
])
def test_architecture_that_does_not_fit_the_data_is_named(arguments: dict,
                                                          message: str) -> None:
    settings = {"input_shape": (28, 28, 1), "num_classes": 10} | arguments
    with pytest.raises(ValueError, match=message):
        networks.build_cnn(**settings)


@pytest.mark.slow
def test_the_saved_model_holds_the_weights_but_not_the_optimizers_state(tmp_path) -> None:
    import io
    import zipfile

    import h5py

    from helpers.training import fitting

    model = networks.build_cnn((12, 12, 1), 3, conv_filters=(4,), dense_units=8)
    fitting.compile_model(model, 1e-3, "constant", 1, 1, "sparse")
    model.fit(np.zeros((4, 12, 12, 1)), np.zeros(4), verbose=0)  # Adam now has moments
    compiled, kept = tmp_path / "compiled.keras", tmp_path / "kept.keras"
    model.save(compiled)
    networks.as_float32(model).save(kept)
    for path, holds_optimizer in ((compiled, True), (kept, False)):
        with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as weights:
            with h5py.File(io.BytesIO(weights.read())) as contents:
                assert ("optimizer" in contents) == holds_optimizer, path.name
    np.testing.assert_array_equal(networks.load_model(kept).get_weights()[0],
                                  model.get_weights()[0])


def test_mirror_averaging_predicts_the_mean_of_an_image_and_its_mirror(tmp_path) -> None:
    model = networks.as_float32(networks.build_cnn((12, 10, 3), 4, conv_filters=(4,),
                                                   dense_units=8))
    averaging = networks.with_mirror_averaging(model)
    images = np.random.default_rng(0).uniform(0, 255, (5, 12, 10, 3)).astype("float32")
    expected = (model.predict(images, verbose=0) + model.predict(images[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(averaging.predict(images, verbose=0), expected, atol=1e-6)
    # It loads in safe mode, still averaging, and says so; the plain model does not.
    averaging.save(tmp_path / "model.keras")
    loaded = networks.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), expected, atol=1e-6)
    assert networks.averages_with_mirror(loaded) and not networks.averages_with_mirror(model)
    assert "mirror" in networks.prediction_method(loaded)
    assert "mirror" not in networks.prediction_method(model)
    # The network inside, for scoring it alone (bench/test_time_flip.py).
    np.testing.assert_allclose(networks.without_mirror_averaging(loaded).predict(images, verbose=0),
                               model.predict(images, verbose=0), atol=1e-6)
    assert networks.without_mirror_averaging(model) is model
