"""Your own model (architecture `file`): a Python file's function builds the network, every
mistake in it is refused naming the file and what is expected, and the run directory's copy
of the file is what loads the model later."""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import artifacts, catalog, parameters, records, step_outputs
from helpers.backend import keras
from helpers.model import inspection, network_code, networks, own_model
from helpers.parameters import ParameterError
from helpers.writing import narrative

RESIDUAL = artifacts.PROJECT_ROOT / "tests" / "own_models" / "residual.py"
EXAMPLE = artifacts.PROJECT_ROOT / "params" / "models" / "residual.py"
SHAPE, CLASSES = (28, 28, 1), 10

GOOD_HEAD = "import keras\nfrom keras import layers\n\n"


def build(model_file: Path | str, function: str = "build_model",
          shape: tuple[int, ...] = SHAPE) -> keras.Model:
    checked = parameters.validate({"architecture": "file", "model_file": str(model_file),
                                   "model_function": function})
    return networks.build_model(shape, CLASSES, checked)


def write(folder: Path, body: str, name: str = "model.py") -> Path:
    path = folder / name
    path.write_text(GOOD_HEAD + body)
    return path


def test_the_residual_network_builds_with_its_skip_connection_and_custom_layer() -> None:
    model = build(RESIDUAL)
    assert model.input_shape == (None, *SHAPE) and model.output_shape == (None, CLASSES)
    listing = inspection.layer_listing(model)
    assert listing[0] == "scale the pixels to [0, 1]"
    assert "add stem + block_scale (a skip connection: stem's output added back)" in listing
    assert any(line.startswith("ChannelScale (a custom layer") for line in listing)
    assert listing[-1].startswith("dense 10, softmax (the output")


def test_a_relative_model_file_is_read_from_the_project_root() -> None:
    relative = RESIDUAL.relative_to(artifacts.PROJECT_ROOT)
    assert own_model.resolve_model_file(str(relative)) == RESIDUAL
    assert build(relative).count_params() == build(RESIDUAL).count_params()


def test_the_example_in_params_builds_and_its_params_file_is_valid() -> None:
    given = parameters.read_parameters_file(artifacts.PROJECT_ROOT / "params" / "own_model.yaml")
    model = networks.build_model(SHAPE, CLASSES, parameters.validate(given))
    assert given["model_file"] == str(EXAMPLE.relative_to(artifacts.PROJECT_ROOT))
    assert sum(record.get("skip_connection", False)
               for record in inspection.layer_records(model)) == 2


def test_keyword_functions_and_sequential_models_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, """
def make(*, num_classes, input_shape):
    return keras.Sequential([keras.Input(shape=input_shape), layers.Rescaling(1 / 255),
                             layers.Flatten(), layers.Dense(num_classes, activation="softmax")])
""")
    model = build(path, "make")
    assert isinstance(model, keras.Sequential)
    assert isinstance(networks.as_float32(model), keras.Sequential)  # 04 saves it this way


# (the file's body, the function, what the error must say)
MISTAKES = {
    "syntax": ("def build_model(input_shape, num_classes)\n    return None\n", "build_model",
               ["line 4", "syntax error"]),
    "import": ("import no_such_package_here\n", "build_model",
               ["line 4", "ModuleNotFoundError", "no_such_package_here"]),
    "no function": ("def make_it(input_shape, num_classes):\n    pass\n", "build_model",
                    ["no function named 'build_model'", "it defines make_it",
                     "build_model(input_shape, num_classes)"]),
    "signature": ("def build_model(input_shape):\n    pass\n", "build_model",
                  ["cannot be called as build_model(input_shape, num_classes)"]),
    "raises": ("def build_model(input_shape, num_classes):\n    raise RuntimeError('oops')\n",
               "build_model", ["line 5", "RuntimeError: oops"]),
    "not a model": ("def build_model(input_shape, num_classes):\n    return 3\n", "build_model",
                    ["returned int, not a keras.Model"]),
    "subclassed": ("""
class Mine(keras.Model):
    def __init__(self, classes):
        super().__init__()
        self.dense = layers.Dense(classes, activation="softmax")
    def call(self, images):
        return self.dense(layers.Flatten()(images))
def build_model(input_shape, num_classes):
    return Mine(num_classes)
""", "build_model", ["returned a Mine with no known input", "functional API"]),
    "output shape": ("""
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, layers.Dense(5, activation="softmax")(x))
""", "build_model", ["output has shape (None, 5)", "num_classes=10"]),
    "input shape": ("""
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Flatten()(layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
""", "build_model", ["inputs of shape (32, 32, 3)", "(28, 28, 1)"]),
    "raw pixels": ("""
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(4, 3, activation="relu", name="first_conv")(inputs)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
""", "build_model", ["'first_conv' (Conv2D), takes the pixels unscaled", "raw 0-255 pixels",
                     "keras.layers.Rescaling(1 / 255)"]),
    "logits": ("""
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, layers.Dense(num_classes)(x))
""", "build_model", ["not class probabilities", "softmax"]),
    "unregistered": ("""
class Doubler(layers.Layer):
    def call(self, inputs):
        return inputs * 2.0
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(Doubler(name="twice")(layers.Rescaling(1 / 255)(inputs)))
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
""", "build_model", ["'twice' is of the custom class Doubler, which is not registered",
                     "@keras.saving.register_keras_serializable()"]),
    "lambda": ("""
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Lambda(lambda images: images / 255.0, name="scale")(inputs)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
""", "build_model", ["'scale' is a keras.layers.Lambda", "safe mode"]),
    "config": ("""
@keras.saving.register_keras_serializable(package="tests_mistakes")
class Times(layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
    def call(self, inputs):
        return inputs * self.factor
    def get_config(self):
        return super().get_config()  # forgets factor: from_config cannot rebuild the layer
def build_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(Times(1 / 255)(inputs))
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
""", "build_model", ["loading it back in safe mode", "get_config()",
                     "Times.__init__() missing 1 required positional argument: 'factor'"]),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_is_refused_naming_the_file_and_what_is_expected(
        tmp_path: Path, mistake: str) -> None:
    body, function, expected = MISTAKES[mistake]
    path = write(tmp_path, body, f"{mistake.replace(' ', '_')}.py")
    with pytest.raises(ValueError) as error:
        build(path, function)
    message = str(error.value)
    assert f"model_file {path}" in message
    for part in expected:
        assert part in message, (part, message)


def test_a_missing_file_names_where_it_was_looked_for() -> None:
    with pytest.raises(ValueError, match=r"model_file .*params/models/nope\.py does not exist "
                                         r"\(a relative model_file is read from the project "
                                         r"root"):
        build("params/models/nope.py")


@pytest.mark.parametrize(("given", "expected"), [
    ({"architecture": "file"}, "architecture 'file' needs the model_file parameter"),
    ({"model_file": "x.py"}, "model_file is given but architecture is 'cnn'"),
    ({"architecture": "file", "model_file": "model.txt"}, "is not a Python file"),
    ({"architecture": "file", "model_file": "x.py", "model_function": "build-model"},
     "model_function"),
])
def test_the_schema_refuses_file_parameters_that_do_not_go_together(given: dict,
                                                                    expected: str) -> None:
    with pytest.raises(ParameterError, match=expected):
        parameters.validate(given)


def test_model_json_records_the_built_layers_and_the_report_reads_them(tmp_path: Path) -> None:
    checked = parameters.validate({"architecture": "file", "model_file": str(EXAMPLE)})
    model = networks.build_model(SHAPE, CLASSES, checked)
    step_outputs.save_untrained_model(tmp_path, model, inspection.parameter_counts(model), checked,
                                 "float32", built_layers=inspection.layer_records(model))
    architecture = records.read_record(tmp_path, records.ModelRecord).architecture
    assert architecture["model_file"] == str(EXAMPLE)
    assert [layer["class"] for layer in architecture["built_layers"]][:2] == ["Rescaling",
                                                                              "Conv2D"]
    kind = catalog.network_of(architecture)
    described = kind.describe(kind.effective(architecture))
    assert described.startswith("the network that build_model in residual.py returns (6 "
                                "convolutions, 4 batch normalization layers, 2 custom "
                                "ChannelScale layers, 2 skip connections")
    assert "ReLU" not in described and "flatten" not in described
    assert kind.regularization(architecture) == {
        "dropout": "dropout 0.2 (1 layer)", "batch normalization": "batch normalization (4 "
                                                                   "layers)"}
    assert kind.dropout_rates(architecture) == [0.2]
    outline = kind.outline(architecture, CLASSES)
    assert outline.startswith("build_model in residual.py: scale the pixels to [0, 1] → conv 32")


def test_other_networks_record_no_built_layers(tmp_path: Path) -> None:
    checked = parameters.validate({"architecture": "mlp", "hidden_units": [8]})
    model = networks.build_model(SHAPE, CLASSES, checked)
    step_outputs.save_untrained_model(tmp_path, model, {"total": 1}, checked, "float32",
                                 built_layers=inspection.layer_records(model))
    architecture = records.read_record(tmp_path, records.ModelRecord).architecture
    assert "built_layers" not in architecture and "model_file" not in architecture


def test_the_explanations_describe_the_built_layers_only() -> None:
    model = build(RESIDUAL)
    text = "\n".join(narrative.layer_explanations(model))
    assert "**Skip connection** (1 Add layer: stem's output added to block_scale's)" in text
    assert "**Global average pooling** averages each of the 8 feature maps (28×28)" in text
    assert "ChannelScale (custom, defined in the model file)" in text
    for absent in ("**Flatten**", "**Pooling**", "**Dropout**", "**Batch normalization**"):
        assert absent not in text
    assert narrative.network_kind(model) == ("a convolutional neural network (CNN) with 1 skip "
                                             "connection")


def test_03_shows_the_file_as_it_ran(tmp_path: Path) -> None:
    checked = parameters.validate({"architecture": "file", "model_file": str(RESIDUAL)})
    model = networks.build_model(SHAPE, CLASSES, checked)
    shown = network_code.listing_markdown(model, checked)
    assert "`build_model` in `tests/own_models/residual.py`" in shown
    assert f"```python\n{RESIDUAL.read_text().rstrip()}\n```" in shown
    assert own_model.keep_source(tmp_path, checked) == [own_model.MODEL_SOURCE]
    assert (tmp_path / own_model.MODEL_SOURCE).read_text() == RESIDUAL.read_text()
    assert own_model.keep_source(tmp_path, parameters.validate({})) == []
    assert not (tmp_path / own_model.MODEL_SOURCE).exists()


def test_the_run_directorys_copy_registers_the_custom_layer_before_loading(
        tmp_path: Path) -> None:
    checked = parameters.validate({"architecture": "file", "model_file": str(RESIDUAL)})
    model = networks.build_model(SHAPE, CLASSES, checked)
    own_model.keep_source(tmp_path, checked)
    artifacts.save_with(tmp_path / artifacts.MODEL, model.save)
    # As in a fresh process (04-07, the server): the layer class is known to no one.
    keras.saving.get_custom_objects().pop("tests_own_models>ChannelScale")
    for name in [name for name in sys.modules if name.startswith(own_model.MODULE_PREFIX)]:
        del sys.modules[name]
    with pytest.raises(TypeError):
        keras.models.load_model(tmp_path / artifacts.MODEL, safe_mode=True)
    loaded = networks.load_model(tmp_path / artifacts.MODEL)
    images = np.random.default_rng(0).integers(0, 256, (4, *SHAPE)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(images, verbose=0),
                               model.predict(images, verbose=0), atol=1e-6)
    # export/ holds its own copy; a model there without one reads the run directory's.
    (tmp_path / "export").mkdir()
    artifacts.save_with(tmp_path / artifacts.KERAS_EXPORT, model.save)
    assert networks.load_model(tmp_path / artifacts.KERAS_EXPORT).count_params() == \
        model.count_params()


def test_an_edited_model_file_is_run_again_not_resumed(tmp_path: Path) -> None:
    """The parameter names the file, not its text: the step's fingerprint holds the text too."""
    from helpers.runner import steps

    model_file = tmp_path / "mine.py"
    model_file.write_text(RESIDUAL.read_text())
    notebook = artifacts.PROJECT_ROOT / "notebooks" / "03_build_model.ipynb"
    given = {"architecture": "file", "model_file": str(model_file)}
    before = steps.fingerprint("03_build_model", given, notebook, tmp_path)
    assert steps.fingerprint("03_build_model", given, notebook, tmp_path) == before
    model_file.write_text(RESIDUAL.read_text() + "\n# one more block, say\n")
    after = steps.fingerprint("03_build_model", given, notebook, tmp_path)
    assert after != before
    # Interrupted in 04, then the file edited: 03 builds it again and 04 starts afresh, its
    # backup (weights of the old network) removed before it runs.
    names = ["03_build_model", "04_train"]
    state = {"03_build_model": {"status": steps.COMPLETED, "parameters": given,
                                "fingerprint": before, "seconds": 1.0},
             "04_train": {"status": steps.STARTED, "parameters": {}, "fingerprint": ""}}
    plans = steps.plan(names, state, {"03_build_model": given, "04_train": {}},
                       {"03_build_model": after})
    assert [(plan.runs, plan.reason) for plan in plans] == [(True, "running"), (True, "running")]
    assert steps.plan(names, state, {"03_build_model": given, "04_train": {}},
                      {"03_build_model": before})[1].reason == "resuming"  # file unchanged
    backup = artifacts.artifact_path(tmp_path, artifacts.TRAINING_BACKUP)
    backup.mkdir(parents=True)
    (backup / "state.json").write_text("{}")
    steps.forget_interrupted_training(tmp_path)
    assert not backup.exists()
    # A run without a model file hashes what it always did: old run directories still resume.
    cnn = {"architecture": "cnn", "model_file": None}
    assert steps.fingerprint("03_build_model", cnn, notebook, tmp_path) == hashlib.sha256(
        json.dumps({"parameters": cnn, "notebook": artifacts.file_sha256(notebook)},
                   sort_keys=True, default=str).encode()).hexdigest()
