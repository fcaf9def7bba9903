"""The one parameter schema: every parameter's type, range and allowed values, declared once.

The notebooks' `parameters` cells are the source of the names and defaults (papermill
injects values there); tests/unit/test_parameters.py keeps this schema and those cells in
step. The runner checks a whole params file against it before any work, and each notebook
checks its own values with `parameters.check(globals())`, so a notebook run by hand in
JupyterLab fails as clearly as the runner does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from helpers.parameter_errors import problems_text

# Allowed values, which the stage modules also read (they import TensorFlow; this does not).
Dataset = Literal["mnist", "fashion_mnist", "cifar10", "mnist_5k", "csv", "folder"]
TestSplit = Literal["published", "pooled"]
# cnn: today's network from conv_filters & co.; vgg: the same with two convolutions per block
# (the best profile's network); mlp: dense layers only; layers: written out in `layers`.
Architecture = Literal["cnn", "vgg", "mlp", "layers"]
ColorMode = Literal["grayscale", "rgb"]
# Chosen from the data: image_size and color_mode from a folder's images (01), epochs from
# the number of training images (04, helpers.training.training_length).
Auto = Literal["auto"]
LabelEncoding = Literal["sparse", "one_hot"]
LearningRateSchedule = Literal["constant", "cosine"]
Precision = Literal["auto", "off", "float16", "bfloat16"]
XlaSetting = Literal["auto", "off"]
Strategy = Literal["auto", "default", "mirrored", "multi_worker", "tpu"]
# The figures an assignment brief may report, which 08_conclusion compares with the run's.
ReportedMetric = Literal["test_accuracy", "test_loss", "precision_macro", "recall_macro",
                         "f1_macro"]

LABEL_ENCODINGS: tuple[str, ...] = get_args(LabelEncoding)
LR_SCHEDULES: tuple[str, ...] = get_args(LearningRateSchedule)
PRECISIONS: tuple[str, ...] = get_args(Precision)
XLA_SETTINGS: tuple[str, ...] = get_args(XlaSetting)
STRATEGIES: tuple[str, ...] = get_args(Strategy)

PositiveInt = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]
# Set by the runner (--run-dir), never by a params file.
RUNNER_PARAMETERS = ("run_dir",)
# Read by the runner itself, not by a notebook: no `parameters` cell declares them, so
# execute.run passes them to none (it passes each notebook only the names it declares).
RUNNER_ONLY_PARAMETERS = ("comparisons",)


class ParameterError(ValueError):
    """A parameter name or value that no notebook accepts; the message names it."""


class Comparison(BaseModel):
    """One variant the brief asks to compare with its run: a name and parameter overrides."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Annotated[str, Field(min_length=1, pattern=r"[A-Za-z0-9]")]
    set: Annotated[dict[str, Any], Field(min_length=1)]


class RunParameters(BaseModel):
    """Every notebook parameter of one run. Defaults are the notebooks' own."""

    # strict: a YAML `true` is not an epoch count and `3.5` is not a batch size; no coercion.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # 01_load_data
    dataset: Dataset = "fashion_mnist"
    data_dir: str | None = None
    train_path: str | None = None
    test_path: str | None = None
    test_fraction: Fraction = 0.2
    split: TestSplit = "published"
    label_column: int | str = 0
    csv_header: bool | None = None
    image_shape: list[PositiveInt] | None = None
    class_names: list[str] | None = None
    image_size: PositiveInt | Annotated[list[PositiveInt], Field(min_length=2,
                                                                 max_length=2)] | Auto = "auto"
    color_mode: ColorMode | Auto = "auto"
    max_train_images: Count = 0
    max_test_images: Count = 0
    seed: Count = 42
    # 02_preprocess
    val_fraction: Fraction = 0.1
    label_encoding: LabelEncoding = "sparse"
    # 03_build_model
    architecture: Architecture = "cnn"
    hidden_units: Annotated[list[PositiveInt], Field(min_length=1)] = [512, 256]
    layers: list[str] | None = None
    conv_filters: Annotated[list[PositiveInt], Field(min_length=1)] = [32, 64]
    kernel_size: PositiveInt = 3
    convs_per_block: PositiveInt = 1
    dense_units: PositiveInt = 128
    dropout_rate: Annotated[float, Field(ge=0, lt=1)] = 0.3
    batch_norm: bool = True
    l2_weight: Annotated[float, Field(ge=0)] = 0.0
    mixed_precision: Precision = "auto"
    # 04_train
    learning_rate: Annotated[float, Field(gt=0)] = 0.001
    lr_schedule: LearningRateSchedule = "cosine"
    batch_size: PositiveInt = 128
    epochs: PositiveInt | Auto = "auto"
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = 0.0
    ema_momentum: Annotated[float, Field(ge=0, lt=1)] = 0.0
    early_stopping_patience: Count = 4
    deterministic_ops: bool = True
    augment_flip: bool = False
    augment_shift: Annotated[float, Field(ge=0, lt=0.5)] = 0.0
    augment_erase: Annotated[float, Field(ge=0, le=1)] = 0.0
    augment_rotation: Annotated[float, Field(ge=0, le=180)] = 0.0
    augment_zoom: Annotated[float, Field(ge=0, lt=0.5)] = 0.0
    xla: XlaSetting = "auto"
    strategy: Strategy = "auto"
    test_time_mirror: bool = False
    # 05_evaluate
    predictions_shown: PositiveInt = 15
    # 06_misclassifications
    gallery_size: PositiveInt = 24
    top_pairs: PositiveInt = 10
    # 08_conclusion
    reported_metrics: dict[ReportedMetric, Annotated[float, Field(ge=0)]] | None = None
    related_sweep: str | None = None
    # The runner: variants run beside this one (helpers.runner.sweep_comparisons) and ranked
    # on validation accuracy before 08_conclusion reports them (helpers.brief_comparisons).
    comparisons: list[Comparison] | None = None

    @field_validator("image_shape")
    @classmethod
    def _height_width_channels(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (len(value) not in (2, 3) or
                                  (len(value) == 3 and value[2] not in (1, 3))):
            raise ValueError("must be [height, width] or [height, width, 1 or 3]")
        return value

    @field_validator("class_names")
    @classmethod
    def _distinct_names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (len(value) < 2 or len(set(value)) != len(value)):
            raise ValueError("must be a list of two or more different names")
        return value


    @field_validator("layers")
    @classmethod
    def _readable_layers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            from helpers.layer_spec import parse_layers

            parse_layers(value)  # its LayerSpecError names the entry and what is allowed
        return value

    @model_validator(mode="after")
    def _architecture_and_its_parameters(self) -> RunParameters:
        if self.architecture == "layers" and not self.layers:
            raise ValueError("architecture 'layers' needs the layers parameter: a list such "
                             "as [conv 32 3x3 relu, maxpool 2, flatten, dense 128 relu]")
        if self.layers and self.architecture != "layers":
            raise ValueError(f"layers are given but architecture is {self.architecture!r}: "
                             "set architecture: layers to build them")
        if (self.architecture == "vgg" and "convs_per_block" in self.model_fields_set
                and self.convs_per_block != 2):
            raise ValueError("architecture 'vgg' has two convolutions per block: leave "
                             "convs_per_block out, or use architecture 'cnn'")
        for problem in comparison_problems(self):
            raise ValueError(problem)
        return self


def comparison_problems(checked: RunParameters) -> list[str]:
    """Each comparison's overrides checked by this schema, merged with the run's own values."""
    comparisons = checked.comparisons or []
    names = [comparison.name for comparison in comparisons]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return [f"comparisons: the name {repeated[0]!r} is used twice; each variant needs its "
                "own name"]
    own = checked.model_dump(include=checked.model_fields_set, exclude={"comparisons"})
    for comparison in comparisons:
        label = f"comparison {comparison.name!r}"
        for name in comparison.set:
            if name in (*RUNNER_PARAMETERS, *RUNNER_ONLY_PARAMETERS):
                return [f"{label}: parameter {name!r} cannot be set by a comparison"]
            if name not in RunParameters.model_fields:
                return [f"{label}: unknown parameter {name!r}. Valid parameters: "
                        f"{', '.join(PARAMETER_NAMES)}"]
        try:
            RunParameters.model_validate({**own, **comparison.set})
        except ValidationError as error:
            problems = problems_text(error.errors(), PARAMETER_NAMES, RUNNER_PARAMETERS)
            return [f"{label}: {problems}"]
    return []


PARAMETER_NAMES: tuple[str, ...] = tuple(RunParameters.model_fields)








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


def check(namespace: Mapping[str, Any]) -> RunParameters:
    """Check the parameters a notebook holds (pass `globals()`); other names are ignored."""
    return validate({name: value for name, value in namespace.items()
                     if name in PARAMETER_NAMES})


def subset_problems(parameters: RunParameters, classes: int | None = None) -> list[str]:
    """Subsets and splits too small to hold every class, caught before loading anything."""
    from helpers.datasets import CLASS_COUNTS

    classes = classes or CLASS_COUNTS.get(parameters.dataset)
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
