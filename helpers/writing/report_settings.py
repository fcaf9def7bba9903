"""The report's settings table: what defines the experiment, about 15-20 rows, written from
the run's own records (dataset.json, preprocess.json, model.json, training.json) and the
parameters manifest.json says it was given, never parsed back out of the notebooks' code.

How the run ran (devices, precision, XLA, distribution, gallery sizes ...) stays out of it:
the report's appendix lists every parameter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import artifacts, catalog, wording
from helpers.parameters import RunParameters
from helpers.parameters.optimization import (
    MONITOR_WORDS,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
)
from helpers.records import (
    DatasetRecord,
    ModelRecord,
    PreprocessRecord,
    TrainingRecord,
    read_record_if_present,
)
from helpers.writing import training_text
from helpers.writing.observations import dataset_title
from helpers.writing.report_network import network_regularization


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str
    value: str  # plain text, one or two sentences


@dataclass(frozen=True)
class RunRecords:
    """The records of steps 01-04 and the parameters the run was given."""

    dataset: DatasetRecord
    preprocess: PreprocessRecord
    model: ModelRecord
    training: TrainingRecord
    given: dict[str, Any]  # manifest.json's "parameters"; {} for a run without a manifest

    def parameter(self, name: str) -> Any:
        """A parameter as the run was given it, else the notebooks' default."""
        return self.given.get(name, RunParameters.model_fields[name].default)


def given_parameters(run_dir: str | Path) -> dict[str, Any] | None:
    """manifest.json's parameters (the values the run was given), or None without a manifest."""
    path = artifacts.artifact_path(run_dir, artifacts.MANIFEST)
    return dict(artifacts.read_json(path).get("parameters") or {}) if path.is_file() else None


def read_run_records(run_dir: str | Path) -> RunRecords | None:
    """The records the settings table needs, or None when a step 01-04 has not run."""
    dataset, preprocess, model, training = (
        read_record_if_present(run_dir, kind)
        for kind in (DatasetRecord, PreprocessRecord, ModelRecord, TrainingRecord))
    if dataset is None or preprocess is None or model is None or training is None:
        return None
    return RunRecords(dataset, preprocess, model, training, given_parameters(run_dir) or {})


def _data_text(records: RunRecords) -> str:
    """The dataset by its title and its source files by name (a machine's paths say nothing)."""
    dataset = records.dataset
    names = [Path(file["path"]).name for file in dataset.files]
    if not names:  # image folders: their paths are in the source text
        names = ["/".join(Path(path).parts[-2:])
                 for path in re.findall(r"([^\s;()]*/[^\s;()]+)", dataset.source)]
    entry = catalog.DATASETS.get(dataset.name)
    title = entry.source_title if entry and entry.source_title else dataset_title(dataset.name)
    return f"{title}: {wording.and_list(names)}" if names else title


def _images_text(records: RunRecords) -> str:
    """Image size and channels, and the scaling the model applies to the pixels."""
    height, width, *channels = records.dataset.image_shape
    colour = "grayscale" if (channels or [1])[0] == 1 else "colour (RGB)"
    scale = records.preprocess.pixel_scale
    scaling = ("pixel values 0-255 scaled to 0-1 by the model's first layer"
               if abs(scale * 255 - 1) < 1e-9 else
               f"pixel values multiplied by {scale:g} by the model's first layer")
    return f"{height} × {width} pixels, {colour}; {scaling}"


def _subset(records: RunRecords) -> bool:
    """Whether the run kept only a stratified subset of the loaded images (a quick run)."""
    return bool(records.parameter("max_train_images") or records.parameter("max_test_images"))


def _split_counts_text(records: RunRecords) -> str:
    split = records.preprocess
    text = (f"{split.train_images:,} / {split.validation_images:,} / "
            f"{split.test_images:,}")
    return text + (" (a stratified subset of the dataset, for a quick run)"
                   if _subset(records) else "")


def _users_files(dataset: str) -> bool:
    """Whether the images are the user's own files (CSV or folders), not a named dataset."""
    return catalog.dataset(dataset).loader in ("csv", "folder")


def _test_set_text(records: RunRecords) -> str:
    """Where the test images came from: published, held out of one file, or pooled and re-split."""
    dataset, seed = records.dataset, records.preprocess.seed
    # dataset.json counts the images after any subset: then the loaded total is unknown.
    total = "" if _subset(records) else f"{dataset.train_images + dataset.test_images:,} "
    held_out = f"a stratified {wording.percent(records.parameter('test_fraction'))}"
    test_path = records.parameter("test_path")
    if records.parameter("split") == "pooled":
        where = (f"the {total}training and test images pooled, then {held_out} held out "
                 f"(seed {seed})")
    elif not catalog.dataset(dataset.name).published_test_set or (
            _users_files(dataset.name) and not test_path):
        where = f"{held_out} of the {total}images held out (seed {seed})"
    elif _users_files(dataset.name):
        kind = "file" if dataset.name == "csv" else "folder"
        where = f"the separate test {kind} {Path(str(test_path)).name}"
    else:
        where = "the published test set"
    return f"{where}; used only for the final evaluation, never for choices"


LABEL_ENCODINGS = {"sparse": "integer class indices (sparse)",
                   "one_hot": "one-hot vectors, one entry per class"}


def _network_text(architecture: Mapping[str, Any], classes: int) -> str:
    """The network as a student would describe it, from model.json's architecture parameters."""
    kind = catalog.network(architecture["architecture"])
    return kind.outline(kind.effective(architecture), classes)


def _regularization_text(architecture: Mapping[str, Any]) -> str:
    found = network_regularization(architecture)
    missing = [name for name in ("L2", "dropout", "batch normalization") if name not in found]
    present = "; ".join(found.values())
    absent = ", ".join(f"no {name}" for name in missing)
    return f"{present}; {absent}" if present and absent else present or f"none ({absent})"


def _loss_text(records: RunRecords) -> str:
    if records.training.label_smoothing > 0:
        return "categorical cross-entropy with label smoothing"
    return ("sparse categorical cross-entropy" if records.preprocess.label_encoding == "sparse"
            else "categorical cross-entropy")


def _optimizer_text(training: TrainingRecord) -> str:
    """'Adam', 'SGD with Nesterov momentum 0.9', 'AdamW with weight decay 0.004'."""
    return training_text.optimizer_name(OptimizerSettings.of(training))


def _learning_rate_text(training: TrainingRecord) -> str:
    return training_text.schedule_text(training.learning_rate, training.lr_schedule,
                                       training.epochs, ScheduleSettings.of(training))


def _batch_text(training: TrainingRecord) -> str:
    if training.global_batch_size == training.batch_size:
        return f"{training.batch_size} images"
    return (f"{training.batch_size} images per device, {training.global_batch_size} per step "
            f"across {training.replicas} devices")


def _epochs_text(records: RunRecords) -> str:
    """Epochs planned and run, early stopping, and the epoch whose weights are kept."""
    training = records.training
    patience = training.early_stopping_patience
    if patience is None:
        patience = records.parameter("early_stopping_patience")
    stopping = StoppingSettings.of(training)
    _, better, best = MONITOR_WORDS[stopping.early_stopping_monitor]
    waiting = f"early stopping after {patience} epochs without {better}"
    if patience >= training.epochs:
        waiting += " (as many as planned, so it cannot stop training early)"
    planned = (f"{training.epochs} planned (chosen for the data: epochs auto)"
               if training.epochs_auto else f"{training.epochs} planned")
    kept = (f"the weights of epoch {training.best_epoch}, the {best}, are kept"
            if stopping.restore_best_weights else
            f"the weights of the last epoch, {training.kept_epoch or training.epochs_run}, are "
            f"kept (restore_best_weights off; the {best} was epoch {training.best_epoch}'s)")
    return f"{training.epochs_run} of {planned}; {waiting}; {kept}"


def _augmentation_text(augmentation: Mapping[str, float | bool]) -> str:
    """The random changes made to training images, or 'none'."""
    changes = wording.augmentation_phrases(augmentation)
    return f"random {wording.and_list(changes)}, on training images only" if changes else "none"


def experiment_settings(records: RunRecords) -> list[Setting]:
    """The settings that define the experiment, about 15-20 rows, each from the run's records.

    Label smoothing, weight averaging and test-time mirroring get a row only when on; how the
    run ran (devices, precision, XLA, ...) is in the appendix.
    """
    dataset, split, model, training = (records.dataset, records.preprocess, records.model,
                                       records.training)
    classes = len(dataset.class_names)
    counts = model.parameters
    trainable = f"{counts['trainable']:,}"
    if counts.get("non_trainable"):
        trainable += f" (and {counts['non_trainable']:,} non-trainable"
        normalized = "batch normalization" in network_regularization(model.architecture)
        trainable += ": batch normalization's running statistics)" if normalized else ")"
    settings = [
        Setting("Data", _data_text(records)),
        Setting("Classes", f"{classes}: {', '.join(dataset.class_names)}"),
        Setting("Images", _images_text(records)),
        Setting("Training / validation / test images", _split_counts_text(records)),
        Setting("Validation set", f"a stratified {wording.percent(split.val_fraction)} of the "
                f"training images (seed {split.seed}), held out to choose the epoch whose weights "
                "are kept"),
        Setting("Test set", _test_set_text(records)),
        Setting("Label encoding", LABEL_ENCODINGS.get(split.label_encoding,
                                                      split.label_encoding)),
        Setting("Network", _network_text(model.architecture, classes)),
        Setting("Trainable parameters", trainable),
        Setting("Regularization", _regularization_text(model.architecture)),
        Setting("Optimizer and loss", f"{_optimizer_text(training)}; {_loss_text(records)}"),
        Setting("Learning rate", _learning_rate_text(training)),
        Setting("Batch size", _batch_text(training)),
        Setting("Epochs", _epochs_text(records)),
        Setting("Augmentation", _augmentation_text(training.augmentation)),
    ]
    if training.label_smoothing > 0:
        settings.append(Setting("Label smoothing", (
            f"{training.label_smoothing:g}: each training target moves that share of its "
            "weight from the true class evenly over all classes")))
    if training.ema_momentum > 0:
        settings.append(Setting("Weight averaging", (
            f"an exponential moving average of the weights (momentum "
            f"{training.ema_momentum:g}), which validation and the saved model use")))
    if training.test_time_mirror:
        settings.append(Setting("Test-time mirroring", (
            "each test image's prediction is averaged with that of its mirror image")))
    settings.append(Setting("Seed", f"{training.seed}: the split, the initial weights, the "
                            "order of the batches and the augmentation"))
    return settings


def settings_table(settings: Sequence[Setting]) -> str:
    """The settings as an HTML table, escaped."""
    rows = "\n".join(f"<tr><td>{html.escape(row.name, quote=False)}</td>"
                     f"<td>{html.escape(row.value, quote=False)}</td></tr>" for row in settings)
    return ('<table class="report-settings">\n<thead><tr><th>Setting</th><th>Value</th></tr>'
            f"</thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
