"""The parameter schema: in step with the notebooks' cells, and every bad value refused by name."""

import ast
import json
import re
from pathlib import Path

import pytest

from helpers import artifacts, catalog, parameters, wording
from helpers.data import datasets
from helpers.parameters import ParameterError
from helpers.runner import execute, parameter_table

PARAMS_DIR = artifacts.PROJECT_ROOT / "params"


@pytest.fixture(scope="module")
def declared() -> dict[str, dict[str, dict]]:
    """Each notebook's `parameters` cell, as papermill reads it."""
    return execute.declared_parameters()


def cell_problems(declared: dict, schema: dict[str, object]) -> list[str]:
    """Where the notebooks' cells and the schema's defaults disagree (runner-only names aside)."""
    problems, cells = [], {}
    for notebook, names in declared.items():
        for name, declaration in names.items():
            if name in parameters.RUNNER_PARAMETERS:
                continue
            default = ast.literal_eval(declaration["default"])
            if name not in schema:
                problems.append(f"{name}: {notebook}'s parameters cell declares it, the schema "
                                "(helpers/parameters/schema.py) lacks it")
            elif default != schema[name]:
                problems.append(f"{name}: {notebook} defaults to {default!r}, the schema to "
                                f"{schema[name]!r}")
            cells[name] = default
    problems += [f"{name}: in the schema, but no notebook's parameters cell declares it (add "
                 "it there, or to RUNNER_ONLY_PARAMETERS if the runner reads it)"
                 for name in schema
                 if name not in cells and name not in parameters.RUNNER_ONLY_PARAMETERS]
    return problems


def test_schema_and_notebook_parameters_cells_declare_the_same_names_and_defaults(
        declared: dict) -> None:
    assert cell_problems(declared, parameters.RunParameters().model_dump()) == []


def code_outside_parameters_cells(notebook: str) -> str:
    cells = json.loads((execute.NOTEBOOKS_DIR / f"{notebook}.ipynb").read_text())["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"
                     and "parameters" not in cell.get("metadata", {}).get("tags", []))


def attributes_read_in_helpers() -> set[str]:
    """Every `x.name` and `x["name"]` in helpers/ outside the schema: parameters a helper reads
    off `params`, or off the architecture parameters the catalog's builders are given."""
    package = artifacts.PROJECT_ROOT / "helpers"
    schema_modules = {package / "parameters" / "schema.py", package / "parameters" / "__init__.py",
                      package / "runner" / "parameter_table.py"}
    return {name for path in package.rglob("*.py") if path not in schema_modules
            for node in ast.walk(ast.parse(path.read_text()))
            if (name := _read_name(node))}


def _read_name(node: ast.AST) -> str | None:
    """The name an attribute or a string subscript reads, else None."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)):
        return node.slice.value
    return None


def unused_problems(declared: dict, names: list[str], code: dict[str, str],
                    read_in_helpers: set[str]) -> list[str]:
    """Parameters no code reads: a notebook reads its own by name, or passes `params` to a
    helper that reads `params.name`; the runner-only ones are read in helpers/."""
    problems = []
    for name in names:
        if name in parameters.RUNNER_ONLY_PARAMETERS:
            if name not in read_in_helpers:
                problems.append(f"{name}: a runner-only parameter nothing in helpers/ reads")
            continue
        for notebook in [notebook for notebook, cell in declared.items() if name in cell]:
            passes_params = re.search(r"[(,]\s*params\s*[,)]", code[notebook])
            if not re.search(rf"\b{name}\b", code[notebook]) and not (
                    passes_params and name in read_in_helpers):
                problems.append(f"{name}: {notebook} declares it but nothing reads it (neither "
                                "its code cells nor a helper given `params`)")
    return problems


def test_every_parameter_is_read_by_the_notebook_that_declares_it_or_the_runner(
        declared: dict) -> None:
    code = {notebook: code_outside_parameters_cells(notebook) for notebook in declared}
    assert unused_problems(declared, list(parameters.PARAMETER_NAMES), code,
                           attributes_read_in_helpers()) == []


@pytest.mark.parametrize("cell, schema, code, problem", [
    ({"scratch": {"default": "1"}}, {}, "print(scratch)", "the schema (helpers/parameters/sc"),
    ({"scratch": {"default": "1"}}, {"scratch": 2}, "print(scratch)", "defaults to 1, the sch"),
    ({}, {"scratch": 1}, "", "no notebook's parameters cell declares it"),
    ({"scratch": {"default": "1"}}, {"scratch": 1}, "print(other)", "nothing reads it"),
    ({"scratch": {"default": "1"}}, {"scratch": 1}, "params.scratch_rate", "nothing reads it"),
    ({"scratch": {"default": "1"}}, {"scratch": 1}, "print(params)", "nothing reads it"),
])
def test_a_parameter_missing_from_the_schema_a_cell_or_the_code_is_named(
        cell: dict, schema: dict, code: str, problem: str) -> None:
    declared = {"09_scratch": cell}
    found = cell_problems(declared, schema) + unused_problems(
        declared, list(schema), {"09_scratch": code}, set())
    assert any(problem in message and "scratch" in message for message in found), found


def test_a_runner_only_parameter_nothing_reads_is_named() -> None:
    assert unused_problems({}, ["comparisons"], {}, set()) == [
        "comparisons: a runner-only parameter nothing in helpers/ reads"]


def test_every_parameter_has_a_meaning() -> None:
    assert [name for name, field in parameters.RunParameters.model_fields.items()
            if not field.description] == []


def test_docs_parameter_table_is_generated_from_the_schema(declared: dict) -> None:
    committed = parameter_table.committed_table(parameter_table.DOCS.read_text())
    assert committed == parameter_table.markdown_table(declared), (
        f"docs/runner.md's parameter table differs from the schema: run "
        f"`{parameter_table.COMMAND}` and commit docs/runner.md")
    assert "| `predictions_shown` | `15` | 05 |" in committed


@pytest.mark.parametrize("numbers, column", [([4], "04"), ([1, 2, 3, 4, 5, 7], "01-05, 07"),
                                             ([8, 6], "06, 08"), ([], "")])
def test_notebook_column_joins_consecutive_numbers(numbers: list[int], column: str) -> None:
    assert parameter_table.notebook_column(numbers) == column


def test_table_rewrite_keeps_the_text_around_it() -> None:
    text = f"intro\n{parameter_table.BEGIN}\nold\n{parameter_table.END}\nrest\n"
    rewritten = parameter_table.with_table(text, "new\n")
    assert rewritten == f"intro\n{parameter_table.BEGIN}\nnew\n{parameter_table.END}\nrest\n"
    with pytest.raises(ValueError, match="markers are missing"):
        parameter_table.with_table("no markers", "new\n")


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
    ("dataset", "imagenet", wording.or_list([repr(name) for name in catalog.DATASET_NAMES])),
    ("test_fraction", "1.5", "parameter 'test_fraction': input should be less than 1"),
    ("image_shape", "[28, 28, 2]", "[height, width] or [height, width, 1 or 3]"),
    ("image_size", "big", "parameter 'image_size': input should be a valid integer or"),
    ("color_mode", "cmyk", "input should be 'grayscale' or 'rgb'"),
    ("label_column", "1.5", "parameter 'label_column'"),
    ("class_names", "[cat, cat]", "a list of two or more different names"),
    ("csv_header", "maybe", "parameter 'csv_header': input should be a valid boolean"),
    ("label_encoding", "onehot", "input should be 'sparse' or 'one_hot'"),
    ("lr_schedule", "linear", "input should be 'constant', 'cosine', 'step', 'exponential' or "
     "'plateau'"),
    ("optimizer", "adagrad", "input should be 'adam', 'sgd', 'adamw' or 'rmsprop'"),
    ("early_stopping_monitor", "loss", "input should be 'val_loss' or 'val_accuracy'"),
    ("momentum", "1", "parameter 'momentum': input should be less than 1"),
    ("lr_decay_factor", "1.5", "parameter 'lr_decay_factor': input should be less than 1"),
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


@pytest.mark.parametrize("values, message", [
    ({"nesterov": True}, "nesterov=true is set, but optimizer 'adam' does not use it "
     "(nesterov applies to optimizer sgd only)"),
    ({"optimizer": "adamw", "weight_decay": 0.01, "momentum": 0.9},
     "momentum=0.9 is set, but optimizer 'adamw' does not use it (AdamW's beta_1"),
    ({"weight_decay": 0.01}, "weight_decay=0.01 is set, but optimizer 'adam' does not use it "
     "(Adam with decoupled weight decay is AdamW: set optimizer: adamw)"),
    ({"optimizer": "rmsprop", "momentum": 0.9, "nesterov": True},
     "nesterov=true is set, but optimizer 'rmsprop' does not use it"),
    ({"optimizer": "sgd", "nesterov": True}, "nesterov=true needs momentum > 0"),
    ({"optimizer": "adamw"}, "optimizer 'adamw' needs weight_decay > 0 (AdamW without weight "
     "decay is Adam); Keras's default is weight_decay: 0.004"),
    ({"lr_min": 1e-5}, "lr_min=1e-05 is set, but lr_schedule 'cosine' does not use it (lr_min "
     "applies to lr_schedule plateau only)"),
    ({"lr_schedule": "exponential", "lr_decay_epochs": 3},
     "lr_decay_epochs=3 is set, but lr_schedule 'exponential' does not use it"),
    ({"lr_schedule": "constant", "lr_decay_factor": 0.1},
     "lr_decay_factor=0.1 is set, but lr_schedule 'constant' does not use it (lr_decay_factor "
     "applies to lr_schedule step and exponential and plateau only)"),
    ({"epochs": 3, "lr_warmup_epochs": 3}, "lr_warmup_epochs=3 leaves no epoch after the "
     "warm-up of the 3 planned"),
])
def test_a_setting_for_an_optimizer_or_schedule_that_ignores_it_is_refused(
        values: dict, message: str) -> None:
    with pytest.raises(ParameterError) as error:
        parameters.validate(values)
    assert message in str(error.value)


@pytest.mark.parametrize("values", [
    {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4},
    {"optimizer": "adamw", "weight_decay": 0.004},
    {"optimizer": "rmsprop", "momentum": 0.5},
    {"lr_schedule": "step", "lr_decay_factor": 0.1, "lr_decay_epochs": 3, "lr_warmup_epochs": 2},
    {"lr_schedule": "plateau", "lr_plateau_patience": 1, "lr_min": 1e-5},
    {"lr_schedule": "exponential", "lr_decay_factor": 0.9},
    # a value equal to the default is not "set" for a schedule that ignores it
    {"optimizer": "adam", "momentum": 0.0, "lr_schedule": "cosine", "lr_decay_factor": 0.5},
    {"early_stopping_monitor": "val_accuracy", "restore_best_weights": False},
])
def test_each_optimizer_and_schedule_takes_its_own_settings(values: dict) -> None:
    checked = parameters.validate(values)
    assert all(getattr(checked, name) == value for name, value in values.items())


def test_the_settings_objects_default_to_the_schema() -> None:
    from helpers.parameters import optimization

    defaults = parameters.RunParameters()
    assert optimization.DEFAULTS == {name: getattr(defaults, name)
                                     for name in optimization.DEFAULTS}
    assert optimization.OptimizerSettings.of(defaults) == optimization.DEFAULT_OPTIMIZER
