"""The one parameter schema: every parameter's type, range, allowed values and meaning.

The notebooks' `parameters` cells are the source of the names and defaults (papermill
injects values there); tests/unit/test_parameters.py keeps this schema and those cells in
step, and docs/runner.md's parameter table is generated from it
(`python -m helpers.runner.parameter_table`). helpers.parameters re-exports what callers use;
the allowed values are helpers.parameters.values, the checks across parameters
helpers.parameters.checks.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import helpers.parameters.checks as checks
import helpers.parameters.optimization as optimization
from helpers import catalog
from helpers.parameters.values import (  # noqa: F401 (re-exported: the stages read them)
    LABEL_ENCODINGS,
    PRECISIONS,
    RUNNER_ONLY_PARAMETERS,
    RUNNER_PARAMETERS,
    STRATEGIES,
    XLA_SETTINGS,
    Architecture,
    Auto,
    ColorMode,
    Comparison,
    Count,
    Dataset,
    Fraction,
    ImageSize,
    LabelEncoding,
    PositiveInt,
    Precision,
    Question,
    ReportedMetric,
    Strategy,
    TestSplit,
    XlaSetting,
    meaning,
)


class RunParameters(BaseModel):
    """Every notebook parameter of one run. Defaults are the notebooks' own."""

    # strict: a YAML `true` is not an epoch count and `3.5` is not a batch size; no coercion.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # 01_load_data
    dataset: Dataset = meaning("fashion_mnist", "`fashion_mnist`, `mnist`, `cifar10`, `mnist_5k`, "
                               "`csv` or `folder` (see [datasets.md](datasets.md))")
    data_dir: str | None = meaning(None, "folder with a built-in dataset's files; `null` searches "
                                   "data/raw/, the system, then downloads")
    train_path: str | None = meaning(None, "`csv`: the training CSV file; `folder`: the folder "
                                     "of class sub-folders")
    test_path: str | None = meaning(None, "the test CSV file or folder; `null` splits "
                                    "`test_fraction` off `train_path`")
    test_fraction: Fraction = meaning(0.2, "share held out for testing when there is no "
                                      "`test_path` (also `mnist_5k`), or of all images with "
                                      "`split: pooled`")
    split: TestSplit = meaning("published", "`published` keeps the dataset's own test set; "
                               "`pooled` pools training and test images and holds out a "
                               "stratified, seeded `test_fraction` (80/10/10: `test_fraction: "
                               "0.1`, `val_fraction: 0.1111`)")
    label_column: int | str = meaning(0, "`csv`: the label column, by header name or position "
                                      "(-1 is the last)")
    csv_header: bool | None = meaning(None, "`csv`: `true`, `false`, or `null` to detect a "
                                      "header row")
    image_shape: list[PositiveInt] | None = meaning(None, "`csv`: `[height, width]` or `[height, "
                                                    "width, channels]`; `null` derives it from "
                                                    "the column count")
    class_names: list[str] | None = meaning(None, "`csv`: names of classes 0, 1, …; `null` "
                                            "numbers them")
    image_size: ImageSize = meaning("auto", "`folder`: images are resized to this square size, "
                                    "or `[height, width]`; `auto`: their median size, at most 32 "
                                    "(see [datasets.md](datasets.md))")
    color_mode: ColorMode | Auto = meaning("auto", "`folder`: `grayscale` or `rgb`; `auto`: "
                                           "`rgb` if any image is in colour")
    max_train_images: Count = meaning(0, "keep at most this many training images, classes in "
                                      "proportion (0 = all)")
    max_test_images: Count = meaning(0, "the same for the test images")
    seed: Count = meaning(42, "the one seed behind the subset, the split, the initial weights, "
                          "batch order, dropout and the images 05 and 07 pick")
    split_seed: Count | None = meaning(None, "the seed of the subset and the splits alone; "
                                       "`null`: `seed`. A comparison's extra seeds keep the "
                                       "run's split this way")
    # 02_preprocess
    val_fraction: Fraction = meaning(0.1, "share of the training images held out for validation "
                                     "(stratified)")
    label_encoding: LabelEncoding = meaning("sparse", "`sparse` integer labels or `one_hot` rows "
                                            "(the loss follows)")
    # 03_build_model
    architecture: Architecture = meaning("cnn", "`cnn` (the parameters below), `vgg` (the cnn "
                                         "with two convolutions per block: the best profile's "
                                         "network), `mlp` (dense layers only), `layers` "
                                         "(written out, see below) or `file` (your own Keras "
                                         "model, see `model_file`)")
    hidden_units: Annotated[list[PositiveInt], Field(min_length=1)] = meaning(
        [512, 256], "`mlp`: units of each hidden dense layer (ReLU; `batch_norm`, "
        "`dropout_rate` and `l2_weight` apply)")
    layers: list[str] | None = meaning(None, "`layers`: the network layer by layer, see "
                                       "[Networks written layer by layer]"
                                       "(#networks-written-layer-by-layer)")
    conv_filters: Annotated[list[PositiveInt], Field(min_length=1)] = meaning(
        [32, 64], "filters per convolution block (3×3, ReLU, 2×2 max pooling)")
    kernel_size: PositiveInt = meaning(3, "convolution window")
    convs_per_block: PositiveInt = meaning(1, "convolutions before each pooling (2: VGG-style "
                                           "blocks, as in the best profile)")
    dense_units: PositiveInt = meaning(128, "units of the hidden dense layer")
    dropout_rate: Annotated[float, Field(ge=0, lt=1)] = meaning(
        0.3, "dropout before and after the dense layer")
    batch_norm: bool = meaning(True, "batch normalization after each block and the dense layer")
    l2_weight: Annotated[float, Field(ge=0)] = meaning(
        0.0, "L2 penalty on the convolution and dense weights")
    model_file: str | None = meaning(None, "`file`: a Python file whose `model_function` "
                                     "returns your own Keras model; a relative path is read "
                                     "from the project root, see [Your own model]"
                                     "(#your-own-model)")
    model_function: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = meaning(
        "build_model", "`file`: the function in `model_file` called as "
        "`function(input_shape, num_classes)`")
    mixed_precision: Precision = meaning("auto", "`auto` (float16 on a GPU, bfloat16 on a CPU "
                                         "with AMX or AVX-512 BF16, else float32), `off`, "
                                         "`float16` or `bfloat16`")
    # 04_train
    optimizer: optimization.OptimizerName = meaning(
        "adam", "`adam`, `sgd`, `adamw` or `rmsprop`, see [Optimizers and learning-rate "
        "schedules](#optimizers-and-learning-rate-schedules)")
    learning_rate: Annotated[float, Field(gt=0)] = meaning(0.001, "the optimizer's initial "
                                                           "learning rate")
    momentum: Annotated[float, Field(ge=0, lt=1)] = meaning(0.0, "`sgd`, `rmsprop`: momentum "
                                                            "(0 = none, e.g. 0.9)")
    nesterov: bool = meaning(False, "`sgd`: Nesterov momentum (needs `momentum` > 0)")
    weight_decay: Annotated[float, Field(ge=0)] = meaning(
        0.0, "`sgd`, `rmsprop`, `adamw` (needed, e.g. 0.004): decoupled weight decay")
    lr_schedule: optimization.LearningRateSchedule = meaning(
        "cosine", "`cosine` decay to zero over the run, `constant`, `step`, `exponential` or "
        "`plateau`")
    lr_decay_factor: Fraction = meaning(0.5, "`step`, `exponential`, `plateau`: each cut "
                                        "multiplies the rate by this")
    lr_decay_epochs: PositiveInt = meaning(5, "`step`: epochs between cuts")
    lr_plateau_patience: PositiveInt = meaning(2, "`plateau`: epochs without a lower validation "
                                               "loss before a cut")
    lr_min: Annotated[float, Field(ge=0)] = meaning(0.0, "`plateau`: the lowest rate a cut "
                                                    "may reach")
    lr_warmup_epochs: Count = meaning(0, "epochs of linear warm-up to `learning_rate` before "
                                      "the schedule (0 = none)")
    batch_size: PositiveInt = meaning(128, "images per step on each replica (the global batch "
                                      "is this × replicas)")
    epochs: PositiveInt | Auto = meaning("auto", "at most this many epochs; `auto`: 10, or as "
                                         "many as give 1,000 optimizer steps on a small dataset "
                                         "(at most 200, early-stopping patience then 10% of "
                                         "them)")
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = meaning(
        0.0, "train towards 1 − this for the right class (0 = off)")
    ema_momentum: Annotated[float, Field(ge=0, lt=1)] = meaning(
        0.0, "keep an exponential moving average of the weights for validation and the saved "
        "model (0 = off; e.g. 0.999)")
    early_stopping_patience: Count = meaning(4, "epochs without a better monitored value "
                                             "before stopping")
    early_stopping_monitor: optimization.EarlyStoppingMonitor = meaning(
        "val_loss", "what early stopping and the best checkpoint watch: `val_loss` or "
        "`val_accuracy`")
    restore_best_weights: bool = meaning(True, "keep the best checkpoint's weights; `false` "
                                         "keeps the last epoch's")
    deterministic_ops: bool = meaning(True, "deterministic TensorFlow kernels: the same seed "
                                      "gives the same figures")
    augment_flip: bool = meaning(False, "mirror training images left-right at random (clothes: "
                                 "yes; digits: no)")
    augment_shift: Annotated[float, Field(ge=0, lt=0.5)] = meaning(
        0.0, "shift training images by up to this fraction of their size, zero-filled")
    augment_erase: Annotated[float, Field(ge=0, le=1)] = meaning(
        0.0, "with this probability, black out one random rectangle of a training image")
    augment_rotation: Annotated[float, Field(ge=0, le=180)] = meaning(
        0.0, "turn training images by up to this many degrees either way, zero-filled")
    augment_zoom: Annotated[float, Field(ge=0, lt=0.5)] = meaning(
        0.0, "zoom training images in or out by up to this fraction, zero-filled")
    xla: XlaSetting = meaning("auto", "`auto`: Keras compiles the training step with XLA on a "
                              "GPU (never on a CPU); `off`")
    strategy: Strategy = meaning("auto", "`auto`, `default`, `mirrored`, `multi_worker` or "
                                 "`tpu` (see [devices.md](devices.md))")
    test_time_mirror: bool = meaning(False, "save the model predicting the mean of each image "
                                     "and its mirror image: 05, every export and the REST API "
                                     "then do so (for clothes, not digits; twice the cost per "
                                     "prediction)")
    # 05_evaluate
    predictions_shown: PositiveInt = meaning(15, "test images in the gallery of predictions, "
                                             "right and wrong")
    # 06_misclassifications
    gallery_size: PositiveInt = meaning(24, "misclassified images shown")
    top_pairs: PositiveInt = meaning(10, "most-confused class pairs listed")
    # 08_conclusion
    reported_metrics: dict[ReportedMetric, Annotated[float, Field(ge=0)]] | None = meaning(
        None, "the figures an assignment brief reports, e.g. `{test_accuracy: 0.90}`, which 08 "
        "sets beside the run's (`test_accuracy`, `test_loss`, `precision_macro`, "
        "`recall_macro`, `f1_macro`)")
    related_sweep: str | None = meaning(None, "a finished sweep folder whose measured effects 08 "
                                        "quotes, e.g. `reports/reference/sweep-bn-dropout`")
    questions: list[Annotated[str, Field(min_length=1)] | Question] | None = meaning(
        None, "the brief's questions: the report opens with them and its conclusion answers "
        "each from the measurements; `{ask: TEXT, answered_by: [VARIANT, ...]}` names the "
        "comparisons that answer it")
    departures: list[Annotated[str, Field(min_length=1)]] | None = meaning(
        None, "where this run departs from the brief, in words: the report lists them, and "
        "the run is called \"as the brief describes\" only without any")
    discussion_file: str | None = meaning(None, "a Markdown file of the student's own "
                                          "discussion, which 08 includes under its own heading")
    deployment_scenario: str | None = meaning(
        None, "where the brief deploys the model, in words: only then does the report carry "
        "the export and deployment section, written for it from 07's measurements")
    # The runner: variants run beside this one (helpers.runner.sweep_comparisons) and ranked
    # on validation accuracy before 08_conclusion reports them (helpers.writing.brief_comparisons).
    comparisons: list[Comparison] | None = meaning(None, "named variants of the run that 08 "
                                                   "compares it with, see [A brief's "
                                                   "comparisons](#a-briefs-comparisons)")
    comparison_seeds: Annotated[int, Field(ge=1, le=20)] = meaning(
        3, "seeds each network of a comparison is trained with (the run itself among them); "
        "the split stays the run's own")

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
            # its LayerSpecError names the entry and what is allowed
            catalog.layer_grammar.parse_layers(value)
        return value

    @model_validator(mode="after")
    def _architecture_and_its_parameters(self) -> RunParameters:
        if self.architecture == "layers" and not self.layers:
            raise ValueError("architecture 'layers' needs the layers parameter: a list such "
                             "as [conv 32 3x3 relu, maxpool 2, flatten, dense 128 relu]")
        if self.layers and self.architecture != "layers":
            raise ValueError(f"layers are given but architecture is {self.architecture!r}: "
                             "set architecture: layers to build them")
        own_model_problem = checks.own_model_problem(self)
        if own_model_problem:
            raise ValueError(own_model_problem)
        kind = catalog.network(self.architecture)
        for name, value in kind.fixed.items():
            if name in self.model_fields_set and getattr(self, name) != value:
                raise ValueError(kind.fixed_message)
        for problem in (optimization.problems(self) + checks.comparison_problems(self)
                        + checks.question_problems(self)):
            raise ValueError(problem)
        return self


PARAMETER_NAMES: tuple[str, ...] = tuple(RunParameters.model_fields)
