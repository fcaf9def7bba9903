"""What every loader returns and how it reports bad input: the Dataset and its errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Enough to see a pattern (one bad column, a shifted file) without flooding the screen.
MAX_REPORTED_PROBLEMS = 20


class DatasetNotFoundError(FileNotFoundError):
    """No location holds the dataset's files and the download failed."""


class DatasetFormatError(ValueError):
    """The dataset's files exist but hold something else than expected.

    `problems` lists each place (file, line and column, or image path) and what was expected;
    the message shows the first MAX_REPORTED_PROBLEMS of them and the total.
    """

    def __init__(self, problems: str | Sequence[str], total: int | None = None) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        self.total = max(total or 0, len(self.problems))
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        if self.total == 1:
            message = shown[0]
        else:
            more = self.total - len(shown)
            message = (f"{self.total} problems in the input data:\n"
                       + "\n".join(f"  - {problem}" for problem in shown)
                       + (f"\n  ... and {more} more" if more else ""))
        super().__init__(message)


class Problems:
    """Collects problems found while loading, so one error can report them all."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.total = 0

    def add(self, problem: str) -> None:
        """Record one problem (only the first few are kept, all are counted)."""
        self.total += 1
        if len(self.found) < MAX_REPORTED_PROBLEMS:
            self.found.append(problem)

    def add_each(self, places: Sequence, describe: Callable[..., str]) -> None:
        """Record `describe(place)` for every place; only the kept ones are formatted."""
        room = max(MAX_REPORTED_PROBLEMS - len(self.found), 0)
        self.found += [describe(place) for place in places[:room]]
        self.total += len(places)

    def raise_if_any(self) -> None:
        """Raise one DatasetFormatError naming everything found so far."""
        if self.total:
            raise DatasetFormatError(self.found, self.total)


@dataclass(frozen=True)
class Dataset:
    """Raw images (uint8, N x H x W x C), integer labels and where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    files: tuple[Path, ...] = field(default_factory=tuple)
    # Image folders only: what the listing left out (image_folders.Skipped), and the
    # parameters set to "auto" with the value chosen and why.
    skipped: tuple = ()
    automatic: dict[str, str] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image, channels last."""
        return tuple(self.x_train.shape[1:])


def check_labels(labels: np.ndarray, class_count: int, where: str, problems: Problems,
                 item: str = "item") -> None:
    """Record every label outside 0..class_count-1, naming `where` and the item's index."""
    problems.add_each(np.flatnonzero((labels < 0) | (labels >= class_count)), lambda index: (
        f"{where}: label {labels[index]} at {item} {index} is outside the classes "
        f"0-{class_count - 1}"))


def check_test_classes(y_train: np.ndarray, y_test: np.ndarray, where: str,
                       class_names: Sequence[str], problems: Problems) -> None:
    """Record test classes that have no training image: the model could never learn them."""
    unseen = sorted(set(np.unique(y_test).tolist()) - set(np.unique(y_train).tolist()))
    for label in unseen:
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        problems.add(f"{where}: class {label} ({name!r}) is in the test set but has no "
                     "training image")


def stratified_indices(labels: np.ndarray, test_fraction: float, seed: int,
                       where: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices: a seeded split that keeps every class's share."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"parameter test_fraction must be strictly between 0 and 1, "
                         f"got {test_fraction}")
    counts = np.bincount(labels)
    too_small = [label for label, count in enumerate(counts) if 0 < count < 2]
    if too_small:
        raise DatasetFormatError([f"{where}: class {label} has only one image; splitting off a "
                                  "test set needs at least two per class" for label in too_small])
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    try:
        train, test = train_test_split(indices, test_size=test_fraction, stratify=labels,
                                       random_state=seed)
    except ValueError as error:
        raise DatasetFormatError(f"{where}: cannot split off a test_fraction of "
                                 f"{test_fraction} keeping every class ({error})") from error
    return np.sort(train), np.sort(test)
