"""Checking a run's parameters against the one schema, and reading them from files and flags.

The schema itself (every parameter's type, range, allowed values and meaning) is
helpers.parameters.schema; what callers use of it is re-exported here, so `from
helpers.parameters import RunParameters` is where they look. The runner checks a whole params
file against it before any work, and each notebook checks its own values with
`parameters.check(globals())`, so a notebook run by hand in JupyterLab fails as clearly as the
runner does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from helpers import catalog
from helpers.parameters.messages import problems_text
from helpers.parameters.optimization import LR_SCHEDULES
from helpers.parameters.schema import (
    LABEL_ENCODINGS,
    PARAMETER_NAMES,
    PRECISIONS,
    RUNNER_ONLY_PARAMETERS,
    RUNNER_PARAMETERS,
    STRATEGIES,
    XLA_SETTINGS,
    Comparison,
    LabelEncoding,
    RunParameters,
)

# What callers read through this module; the rest of the schema is imported from
# helpers.parameters.schema where it is needed.
__all__ = [
    "LABEL_ENCODINGS", "LR_SCHEDULES", "PARAMETER_NAMES", "PRECISIONS", "RUNNER_ONLY_PARAMETERS",
    "RUNNER_PARAMETERS", "STRATEGIES", "XLA_SETTINGS", "Comparison", "LabelEncoding",
    "ParameterError", "RunParameters", "check", "default", "parse_override", "read_parameters_file",
    "subset_problems", "validate",
]


class ParameterError(ValueError):
    """A parameter name or value that no notebook accepts; the message names it."""


def validate(values: Mapping[str, Any]) -> RunParameters:
    """The run's parameters checked all together; unset ones take the notebooks' defaults.

    Raises ParameterError listing every problem (one per parameter) and the valid names.
    """
    try:
        checked = RunParameters.model_validate(dict(values))
    except ValidationError as error:
        unknown = any(detail["type"] == "extra_forbidden" and len(detail["loc"]) == 1
                      for detail in error.errors())
        names = f". Valid parameters: {', '.join(PARAMETER_NAMES)}" if unknown else ""
        problems = problems_text(error.errors(), PARAMETER_NAMES, RUNNER_PARAMETERS)
        raise ParameterError(problems + names) from None
    split_problems = subset_problems(checked)
    if split_problems:
        raise ParameterError("; ".join(split_problems))
    return checked


def default(name: str) -> Any:
    """A parameter's default, as the schema (and the notebooks' parameters cells) declare it."""
    return RunParameters.model_fields[name].default


def check(namespace: Mapping[str, Any]) -> RunParameters:
    """Check the parameters a notebook holds (pass `globals()`); other names are ignored."""
    return validate({name: value for name, value in namespace.items()
                     if name in PARAMETER_NAMES})


def subset_problems(parameters: RunParameters, classes: int | None = None) -> list[str]:
    """Subsets and splits too small to hold every class, caught before loading anything."""
    known = catalog.dataset(parameters.dataset).class_names
    classes = classes or (len(known) if known else None)
    if not classes:
        return []
    problems = []
    train_images = parameters.max_train_images
    if train_images:
        validation_images = round(train_images * parameters.val_fraction)
        if min(validation_images, train_images - validation_images) < classes:
            problems.append(
                f"max_train_images={train_images} with val_fraction="
                f"{parameters.val_fraction} leaves a training or validation split of "
                f"fewer than {classes} images, so some class would be empty")
    if parameters.max_test_images and parameters.max_test_images < classes:
        problems.append(f"max_test_images={parameters.max_test_images} is fewer than the "
                        f"{classes} classes: some class would have no test image")
    return problems


def read_parameters_file(path: str | Path) -> dict[str, Any]:
    """The mapping of parameter names to values in a params/*.yaml file."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameters file {path} does not exist")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParameterError(f"{path}: not valid YAML: {error}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values, "
                             f"got {type(loaded).__name__}")
    return loaded


def parse_override(text: str) -> Any:
    """A `-p NAME VALUE` value read as YAML, so 3 is an int, 1e-3 a float, true a bool."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # YAML 1.1 reads 1e-3 as a string; people mean a number.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
