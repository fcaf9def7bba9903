"""The parameter schema: in step with the notebooks' cells, and every bad value refused by name."""

import ast
from pathlib import Path

import pytest

from helpers import artifacts, datasets, parameters
from helpers.parameters import ParameterError
from helpers.runner import execute

PARAMS_DIR = artifacts.PROJECT_ROOT / "params"


def test_schema_and_notebook_parameters_cells_declare_the_same_names_and_defaults() -> None:
    declared = execute.declared_parameters()
    cells: dict[str, object] = {}
    for notebook, names in declared.items():
        for name, declaration in names.items():
            if name in parameters.RUNNER_PARAMETERS:
                continue
            default = ast.literal_eval(declaration["default"])
            assert cells.setdefault(name, default) == default, f"{name} differs in {notebook}"
    schema_defaults = {name: default for name, default
                       in parameters.RunParameters().model_dump().items()
                       if name not in parameters.RUNNER_ONLY_PARAMETERS or name in cells}
    assert set(cells) == set(schema_defaults)
    assert cells == schema_defaults


@pytest.mark.parametrize("path", sorted(PARAMS_DIR.rglob("*.yaml")), ids=lambda path: path.name)
def test_every_params_file_is_valid(path: Path) -> None:
    parameters.validate(parameters.read_parameters_file(path))


def test_the_choices_are_the_ones_the_helpers_accept() -> None:
    assert set(parameters.RunParameters.model_fields["dataset"].annotation.__args__) == set(
        datasets.SUPPORTED_DATASETS)


@pytest.mark.parametrize("text, value", [("3", 3), ("1e-3", 0.001), ("0.5", 0.5),
                                         ("true", True), ("[16, 32]", [16, 32]),
                                         ("cosine", "cosine"), ("null", None)])
def test_override_values_are_typed(text: str, value: object) -> None:
    assert parameters.parse_override(text) == value


@pytest.mark.parametrize("name, value, message", [
    ("epochs", "null", "parameter 'epochs': input should be a valid integer or input should "
     "be 'auto', got None"),
    ("epochs", "ten", "parameter 'epochs': input should be a valid integer"),
    ("epochs", "0", "parameter 'epochs': input should be greater than or equal to 1"),
    ("batch_size", "true", "parameter 'batch_size': input should be a valid integer"),
    ("batch_norm", "3", "parameter 'batch_norm': input should be a valid boolean"),
    ("dropout_rate", "2", "parameter 'dropout_rate': input should be less than 1, got 2"),
    ("learning_rate", "null", "parameter 'learning_rate': input should be a valid number"),
    ("learning_rate", "0", "parameter 'learning_rate': input should be greater than 0"),
    ("conv_filters", "[32, 0]", "parameter 'conv_filters': input should be greater than or equal"),
    ("conv_filters", "[]", "parameter 'conv_filters': list should have at least 1 item"),
    ("dataset", "imagenet", "'mnist', 'fashion_mnist', 'cifar10', 'mnist_5k', 'csv' or 'folder'"),
    ("test_fraction", "1.5", "parameter 'test_fraction': input should be less than 1"),
    ("image_shape", "[28, 28, 2]", "[height, width] or [height, width, 1 or 3]"),
    ("image_size", "big", "parameter 'image_size': input should be a valid integer or"),
    ("color_mode", "cmyk", "input should be 'grayscale' or 'rgb'"),
    ("label_column", "1.5", "parameter 'label_column'"),
    ("class_names", "[cat, cat]", "a list of two or more different names"),
    ("csv_header", "maybe", "parameter 'csv_header': input should be a valid boolean"),
    ("label_encoding", "onehot", "input should be 'sparse' or 'one_hot'"),
    ("lr_schedule", "linear", "input should be 'constant' or 'cosine'"),
    ("mixed_precision", "gpu", "'auto', 'off', 'float16' or 'bfloat16'"),
    ("max_train_images", "-1", "parameter 'max_train_images': input should be greater than"),
    ("run_dir", "/tmp/x", "use --run-dir"),
    ("no_such_param", "3", "unknown parameter 'no_such_param'"),
])
def test_bad_values_are_refused_naming_the_parameter_and_what_is_allowed(
        name: str, value: str, message: str) -> None:
    with pytest.raises(ParameterError) as error:
        parameters.validate({name: parameters.parse_override(value)})
    assert message in str(error.value)
    # The list of names helps only when a name is wrong.
    assert ("Valid parameters:" in str(error.value)) == (name in ("run_dir", "no_such_param"))


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ParameterError) as error:
        parameters.validate({"epochs": None, "dropout_rate": 2, "nope": 1})
    assert all(name in str(error.value) for name in ("'epochs'", "'dropout_rate'", "'nope'"))


@pytest.mark.parametrize("overrides, message", [
    ({"max_train_images": 50, "val_fraction": 0.1}, "fewer than 10 images"),
    ({"max_train_images": 1000, "val_fraction": 0.995}, "fewer than 10 images"),
    ({"max_test_images": 5}, "max_test_images=5 is fewer than the 10 classes"),
])
def test_split_that_leaves_a_class_empty_is_refused_before_loading(overrides: dict,
                                                                  message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parameters.validate(overrides)


def test_a_notebook_checks_its_own_values_and_ignores_other_names() -> None:
    namespace = {"epochs": 3, "In": [], "run_dir": "somewhere", "Path": Path}
    assert parameters.check(namespace).epochs == 3
    with pytest.raises(ParameterError, match="'epochs'"):
        parameters.check({**namespace, "epochs": 2.5})
