"""The parameter schema's allowed values and small types: what each parameter may hold, and
the comparisons and questions a params file declares. helpers.parameters.schema builds the
one RunParameters from them; the stage modules read the allowed values here (they import
TensorFlow; this does not).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from helpers import catalog

# Allowed values, which the stage modules also read (they import TensorFlow; this does not).
# Datasets and network kinds are the catalog's (helpers/catalog/): each is declared there once.
Dataset = Literal[catalog.DATASET_NAMES]  # type: ignore[valid-type]
TestSplit = Literal["published", "pooled"]
Architecture = Literal[catalog.NETWORK_NAMES]  # type: ignore[valid-type]
ColorMode = Literal["grayscale", "rgb"]
# Chosen from the data: image_size and color_mode from a folder's images (01), epochs from
# the number of training images (04, helpers.training.fitting.training_length).
Auto = Literal["auto"]
LabelEncoding = Literal["sparse", "one_hot"]
Precision = Literal["auto", "off", "float16", "bfloat16"]
XlaSetting = Literal["auto", "off"]
Strategy = Literal["auto", "default", "mirrored", "multi_worker", "tpu"]
# The figures an assignment brief may report, which 08_conclusion compares with the run's.
ReportedMetric = Literal["test_accuracy", "test_loss", "precision_macro", "recall_macro",
                         "f1_macro"]

LABEL_ENCODINGS: tuple[str, ...] = get_args(LabelEncoding)
PRECISIONS: tuple[str, ...] = get_args(Precision)
XLA_SETTINGS: tuple[str, ...] = get_args(XlaSetting)
STRATEGIES: tuple[str, ...] = get_args(Strategy)

PositiveInt = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]
ImageSize = PositiveInt | Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] | Auto
# Set by the runner (--run-dir), never by a params file.
RUNNER_PARAMETERS = ("run_dir",)
# Read by the runner itself, not by a notebook: no `parameters` cell declares them, so
# execute.run passes them to none (it passes each notebook only the names it declares).
RUNNER_ONLY_PARAMETERS = ("comparisons", "comparison_seeds")


def meaning(default: Any, text: str) -> Any:
    """A field's default and its meaning, the text docs/runner.md's table shows (markdown)."""
    return Field(default, description=text)


class Comparison(BaseModel):
    """One variant the brief asks to compare with its run: a name and parameter overrides."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Annotated[str, Field(min_length=1, pattern=r"[A-Za-z0-9]")]
    set: Annotated[dict[str, Any], Field(min_length=1)]


class Question(BaseModel):
    """A question of the brief and the comparison variants whose measurements answer it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    ask: Annotated[str, Field(min_length=1)]
    answered_by: list[str] = []  # variant names; empty: the run's own figures answer it
