"""The notebooks' explanations that depend on the run: written from its data, its built
network and its settings, so no sentence describes another run.

A notebook's static markdown says what a step does in general; whatever names a layer, a
shape, a learning rate, a dataset's classes or a file comes from here. Functions are pure
(a model, a record or plain values in, markdown out); tests/unit/test_narrative.py checks
them on the networks the assignment files build, and tests/pipeline/test_truthful_text.py
checks every rendered report against the run's records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import catalog, wording
from helpers.parameters.optimization import (
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_STOPPING,
    OptimizerSettings,
    ScheduleSettings,
    StoppingSettings,
)
from helpers.writing import observations, training_text

# The built network's explanations (03) live in network_text, read from the model itself.
from helpers.writing.network_text import (  # noqa: F401
    LAYER_WORDS,
    largest_layer,
    layer_explanations,
    network_kind,
)

if TYPE_CHECKING:  # TensorFlow only where a network is described: 01 and 08 never load it
    from helpers.data.folder_listing import Skipped

def source_names(files: Sequence[str | Path], source: str) -> str:
    """The files the data was read from, by name: 'train.csv and test.csv'."""
    if files:
        names = list(dict.fromkeys(Path(file).name for file in files))
    else:  # folders, or a download: the source text names them
        names = [Path(part.split(" (")[0]).name or part for part in source.split(" and ")]
    return " and ".join(names)


def data_description(name: str, class_names: Sequence[str], image_shape: Sequence[int],
                     train_images: int, test_images: int, skipped: Sequence[Skipped] = (),
                     automatic: Mapping[str, str] | None = None) -> list[str]:
    """What this run's data is, in sentences, with what a reduced dataset means; for image
    folders also what was left out by name and the settings chosen from the images."""
    height, width, channels = image_shape
    colour = "grayscale" if channels == 1 else "colour"
    lines = [f"This run's data: **{observations.dataset_title(name)}**, {train_images:,} "
             f"training and {test_images:,} test images of {height}×{width} pixels in "
             f"{colour}, {len(class_names)} classes ({', '.join(class_names)})."]
    if name == "mnist_5k":
        lines.append("Full MNIST has 70,000 digits (60,000 for training, 10,000 for test); "
                     "this run uses a subset of 5,000 real MNIST digits (500 per class), which "
                     "runs anywhere without a download. Its test set is small, so its "
                     "accuracy is known less precisely (see 05 and 08).")
    return lines + folder_reading(skipped, automatic or {})


def folder_reading(skipped: Sequence[Skipped], automatic: Mapping[str, str]) -> list[str]:
    """What an image-folder listing left out and what the "auto" parameters chose."""
    lines = []
    for parameter, why in automatic.items():
        lines.append(f"`{parameter}` was left to `auto`, so it was chosen from the images: {why}.")
    if skipped:
        parts = [f"{entry.count:,} {entry.description}"
                 + (f", e.g. {', '.join(f'`{name}`' for name in entry.examples)}"
                    if entry.reason != "macos_archive" else "") for entry in skipped]
        lines.append("Left out by name, never read as images: " + "; ".join(parts) + ".")
    return lines


def look_alike_classes(name: str, class_names: Sequence[str]) -> str:
    """Which of this dataset's classes are expected to be confused, before any training."""
    return catalog.recognised_dataset(name, class_names).look_alike


def training_settings(learning_rate: float, lr_schedule: str, label_encoding: str,
                      epochs: int, batch_size: int, label_smoothing: float = 0.0,
                      ema_momentum: float = 0.0, optimizer: OptimizerSettings = DEFAULT_OPTIMIZER,
                      schedule: ScheduleSettings = DEFAULT_SCHEDULE,
                      stopping: StoppingSettings = DEFAULT_STOPPING,
                      early_stopping_patience: int | None = None) -> list[str]:
    """The loss, optimizer, schedule and early stopping of this run, each with why it is used
    (early stopping only when its patience is given)."""
    loss = ("sparse categorical cross-entropy (integer labels)" if label_encoding == "sparse"
            else "categorical cross-entropy (one-hot labels)")
    lines = [f"**Loss**: {loss}, `-log p(true class)`: small when the model gives the right "
             "class a high probability, large when it is confidently wrong.",
             training_text.optimizer_sentence(optimizer, learning_rate),
             *training_text.schedule_sentences(learning_rate, lr_schedule, epochs, schedule),
             f"Batches of **{batch_size}** images per step, at most **{epochs}** epochs."]
    if early_stopping_patience is not None:
        lines.append(training_text.stopping_sentence(stopping, early_stopping_patience, epochs))
    if label_smoothing:
        lines.append(f"**Label smoothing** {label_smoothing:g}: the target for the right class "
                     f"is {1 - label_smoothing:g} rather than 1, a mild regularizer.")
    if ema_momentum:
        lines.append(f"An **exponential moving average of the weights** (momentum "
                     f"{ema_momentum:g}) is what validation and the saved model use.")
    return lines


def augmentation_sentence(augmentation: Mapping[str, float | bool]) -> str:
    """What augmentation this run used, in words."""
    used = wording.augmentation_phrases(augmentation)
    if not used:
        return ("This run uses **no augmentation**: every epoch shows the same training "
                "images.")
    return (f"This run uses random **{wording.and_list(used)}** on each training image; "
            "validation and test images are never changed.")
