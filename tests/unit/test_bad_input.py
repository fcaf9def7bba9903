"""Every kind of bad input fails while loading, naming the file, line and column or image."""

from pathlib import Path

import numpy as np
import pytest
from conftest import real_digits, write_image_folders, write_pixel_csv

from helpers.data import datasets

HEADER = "label," + ",".join(f"pixel{n}" for n in range(1, 785))


def digits_csv(path: Path, per_class: int = 3) -> Path:
    images, labels = real_digits(per_class)
    return write_pixel_csv(path, images, labels)


def replace_line(path: Path, number: int, change) -> None:
    """Apply `change` to the fields of line `number` (1-based, the header is line 1)."""
    lines = path.read_text().splitlines()
    fields = lines[number - 1].split(",")
    lines[number - 1] = ",".join(change(fields))
    path.write_text("\n".join(lines) + "\n")


def load_csv_error(train: Path, test: Path | None = None, **options) -> str:
    with pytest.raises((datasets.DatasetFormatError, FileNotFoundError, ValueError)) as error:
        datasets.load_dataset("csv", train_path=train, test_path=test, **options)
    return str(error.value)


def set_field(position: int, value: str):
    def change(fields: list[str]) -> list[str]:
        fields[position] = value
        return fields
    return change


def test_missing_csv_file_names_the_path_and_parameter(tmp_path: Path) -> None:
    message = load_csv_error(tmp_path / "nowhere.csv")
    assert str(tmp_path / "nowhere.csv") in message and "train_path" in message


def test_missing_test_file_names_test_path(tmp_path: Path) -> None:
    message = load_csv_error(digits_csv(tmp_path / "train.csv"), tmp_path / "missing.csv")
    assert str(tmp_path / "missing.csv") in message and "test_path" in message


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    assert "empty.csv: the file is empty" in load_csv_error(tmp_path / "empty.csv")


def test_header_only(tmp_path: Path) -> None:
    (tmp_path / "header.csv").write_text(HEADER + "\n")
    assert "header.csv: has a header row but no data rows" in load_csv_error(
        tmp_path / "header.csv")


def test_row_with_the_wrong_number_of_columns(tmp_path: Path) -> None:
    path = digits_csv(tmp_path / "train.csv")
    replace_line(path, 5, lambda fields: fields[:-1])
    replace_line(path, 9, lambda fields: [*fields, "0"])
    message = load_csv_error(path)
    assert "2 problems" in message
    assert "train.csv: line 5 has 784 columns, expected 785" in message
    assert "train.csv: line 9 has 786 columns, expected 785" in message


def test_non_numeric_cell(tmp_path: Path) -> None:
    path = digits_csv(tmp_path / "train.csv")
    replace_line(path, 4, set_field(100, "abc"))
    assert "train.csv: line 4, column 'pixel100' holds 'abc', not a number" in load_csv_error(
        path)


def test_bad_cell_in_the_first_row_of_a_headerless_file_is_not_taken_for_a_header(
        tmp_path: Path) -> None:
    images, labels = real_digits(3)
    path = write_pixel_csv(tmp_path / "train.csv", images, labels, header=False)
    replace_line(path, 1, set_field(50, "n/a"))
    assert "train.csv: line 1, column 'column 51' holds 'n/a', not a number" in load_csv_error(
        path)


def test_missing_value(tmp_path: Path) -> None:
    path = digits_csv(tmp_path / "train.csv")
    replace_line(path, 7, set_field(3, ""))
    assert "train.csv: line 7, column 'pixel3' is empty (a missing value)" in load_csv_error(
        path)


@pytest.mark.parametrize("value", ["256", "-1", "12.5"])
def test_pixel_outside_0_255(tmp_path: Path, value: str) -> None:
    path = digits_csv(tmp_path / "train.csv")
    replace_line(path, 3, set_field(10, value))
    assert (f"train.csv: line 3, column 'pixel10': pixel {value} is not a whole number 0-255"
            in load_csv_error(path))


def test_label_that_is_not_an_integer(tmp_path: Path) -> None:
    path = digits_csv(tmp_path / "train.csv")
    replace_line(path, 6, set_field(0, "2.5"))
    assert "line 6, column 'label': label 2.5 is not a class number" in load_csv_error(path)


def test_label_outside_the_named_classes(tmp_path: Path) -> None:
    path = digits_csv(tmp_path / "train.csv")
    replace_line(path, 8, set_field(0, "12"))
    message = load_csv_error(path, class_names=[f"c{n}" for n in range(10)])
    assert "train.csv: line 8: label 12 is outside the classes" in message
    assert "class_names lists 10 classes, so labels run 0-9" in message


def test_test_class_never_seen_in_training(tmp_path: Path) -> None:
    images, labels = real_digits(3)
    train = write_pixel_csv(tmp_path / "train.csv", images[labels != 4], labels[labels != 4])
    test = write_pixel_csv(tmp_path / "test.csv", images, labels)
    message = load_csv_error(train, test, class_names=[str(n) for n in range(10)])
    assert "no training row has label 4" in message


def test_test_label_beyond_the_training_labels(tmp_path: Path) -> None:
    images, labels = real_digits(3)
    train = write_pixel_csv(tmp_path / "train.csv", images[labels < 9], labels[labels < 9])
    test = write_pixel_csv(tmp_path / "test.csv", images, labels)
    message = load_csv_error(train, test)
    assert "test.csv: line 29: label 9 is outside the classes (the training labels run 0-8)" \
        in message


def test_column_count_that_fits_no_image_shape(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("label," + ",".join(f"p{n}" for n in range(783)) + "\n"
                    + "\n".join("1," + ",".join(["0"] * 783) for _ in range(4)) + "\n")
    message = load_csv_error(path)
    assert "odd.csv: 783 pixel columns fit no square image" in message
    assert "image_shape" in message


def test_image_shape_that_does_not_fit(tmp_path: Path) -> None:
    message = load_csv_error(digits_csv(tmp_path / "train.csv"), image_shape=[32, 32, 3])
    assert "image_shape=[32, 32, 3] does not fit its 784 pixel columns" in message


def test_label_column_name_not_in_the_header(tmp_path: Path) -> None:
    message = load_csv_error(digits_csv(tmp_path / "train.csv"), label_column="target")
    assert "no column named 'target'" in message


def test_many_problems_are_reported_together_up_to_a_limit(tmp_path: Path) -> None:
    path = digits_csv(tmp_path / "train.csv", per_class=5)
    for line in range(2, 42):
        replace_line(path, line, set_field(500, "x"))
    message = load_csv_error(path)
    assert message.startswith("40 problems in the input data")
    assert message.count("holds 'x', not a number") == datasets.MAX_REPORTED_PROBLEMS
    assert f"and {40 - datasets.MAX_REPORTED_PROBLEMS} more" in message


def load_folder_error(train: Path, test: Path | None = None) -> str:
    with pytest.raises((datasets.DatasetFormatError, FileNotFoundError)) as error:
        datasets.load_dataset("folder", train_path=train, test_path=test)
    return str(error.value)


def digit_folders(root: Path) -> Path:
    images, labels = real_digits(3)
    return write_image_folders(root, images, labels, tuple("0123456789"))


def test_missing_folder(tmp_path: Path) -> None:
    message = load_folder_error(tmp_path / "photos")
    assert f"{tmp_path / 'photos'} (the train_path parameter) does not exist" in message


def test_image_that_cannot_be_decoded(tmp_path: Path) -> None:
    root = digit_folders(tmp_path / "train")
    (root / "3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "5" / "empty.jpg").write_bytes(b"")
    message = load_folder_error(root)
    assert f"{root / '3' / 'broken.png'}: cannot be decoded as an image" in message
    assert f"{root / '5' / 'empty.jpg'}: cannot be decoded as an image" in message


def test_empty_class_folder(tmp_path: Path) -> None:
    root = digit_folders(tmp_path / "train")
    (root / "unused").mkdir()
    assert f"{root / 'unused'}: empty class folder" in load_folder_error(root)


def test_folder_without_class_subfolders(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    root.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "a.png")
    assert f"{root}: has no class sub-folders" in load_folder_error(root)


def test_test_folder_class_missing_from_training(tmp_path: Path) -> None:
    train = digit_folders(tmp_path / "train")
    test = digit_folders(tmp_path / "test")
    (test / "7").rename(test / "seven")
    message = load_folder_error(train, test)
    assert f"{test / 'seven'}: class 'seven' is in the test folder but has no folder" in message


def test_unknown_dataset_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as error:
        datasets.load_dataset("imagenet")
    for name in ("mnist", "fashion_mnist", "cifar10", "mnist_5k", "csv", "folder"):
        assert name in str(error.value)


def test_csv_dataset_without_train_path_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="dataset='csv' needs the train_path parameter"):
        datasets.load_dataset("csv")
