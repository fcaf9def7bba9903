"""Folders of photos as people have them: junk skipped and counted, a .zip read like the
folder, phone photos turned upright, and image_size/color_mode "auto" chosen from the images."""

from pathlib import Path

import numpy as np
import pytest
from photos import CLASSES, sideways_photo, write_photo_folders, zip_folder

from helpers.data import datasets
from helpers.data.image_folders import AUTO_IMAGE_SIZE_LIMIT
from helpers.writing import narrative

PER_CLASS = 6


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_photo_folders(tmp_path_factory.mktemp("photos") / "photos", PER_CLASS)


def load(path: Path, **options) -> datasets.Dataset:
    return datasets.load_dataset("folder", train_path=path, test_fraction=0.5,
                                 **{"image_size": 24, "color_mode": "rgb", **options})


def skipped_counts(data: datasets.Dataset) -> dict[str, int]:
    return {skipped.reason: skipped.count for skipped in data.skipped}


def test_what_macos_and_windows_leave_is_skipped_and_counted(photos: Path) -> None:
    data = load(photos)
    assert data.class_names == CLASSES
    assert len(data.y_train) + len(data.y_test) == 3 * PER_CLASS
    # Per class: a ._ copy of each image, .DS_Store and the .thumbnails folder; .DS_Store at
    # the top. One __MACOSX beside the class folders; Thumbs.db and desktop.ini per class.
    assert skipped_counts(data) == {"hidden": 3 * (PER_CLASS + 2) + 1, "macos_archive": 1,
                                    "system": 3 * 2, "not_image": 3, "outside_classes": 1}
    hidden = next(skipped for skipped in data.skipped if skipped.reason == "hidden")
    assert "._img_0000.jpg" in hidden.examples and len(hidden.examples) == 3


def test_01_says_what_was_skipped_with_counts(photos: Path) -> None:
    data = load(photos)
    text = " ".join(narrative.folder_reading(data.skipped, data.automatic))
    assert f"{3 * (PER_CLASS + 2) + 1} hidden files and folders" in text
    assert "1 __MACOSX folders" in text and "`README.txt`" in text
    assert "6 Thumbs.db and desktop.ini files" in text


def test_an_image_that_cannot_be_decoded_is_still_a_named_error(tmp_path: Path) -> None:
    root = write_photo_folders(tmp_path / "photos", 2, junk=False)
    (root / "circle" / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(datasets.DatasetFormatError, match="broken.jpg: cannot be decoded"):
        load(root)


@pytest.mark.parametrize("top_folder", [True, False], ids=["one top folder", "flat"])
def test_a_zip_of_the_class_folders_reads_like_the_folder(photos: Path, tmp_path: Path,
                                                           top_folder: bool) -> None:
    archive = zip_folder(photos, tmp_path / "photos.zip", top_folder)
    from_folder, from_zip = load(photos), load(archive)
    assert from_zip.class_names == from_folder.class_names
    assert skipped_counts(from_zip) == skipped_counts(from_folder)
    np.testing.assert_array_equal(from_zip.x_train, from_folder.x_train)
    np.testing.assert_array_equal(from_zip.y_test, from_folder.y_test)
    assert from_zip.files == (archive,)  # its checksum goes into dataset.json


def test_a_bad_member_of_a_zip_is_named(tmp_path: Path) -> None:
    root = write_photo_folders(tmp_path / "photos", 2, junk=False)
    (root / "square" / "broken.png").write_bytes(b"\x89PNG but cut short")
    archive = zip_folder(root, tmp_path / "photos.zip", top_folder=True)
    with pytest.raises(datasets.DatasetFormatError,
                       match=r"photos\.zip/photos/square/broken\.png: cannot be decoded"):
        load(archive)


def test_a_file_that_is_neither_folder_nor_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos.tar").write_bytes(b"tar")
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    with pytest.raises(datasets.DatasetFormatError, match="not a folder or a .zip archive"):
        load(tmp_path / "photos.tar")
    with pytest.raises(datasets.DatasetFormatError, match=r"fake\.zip .*not a readable \.zip"):
        load(tmp_path / "fake.zip")


def test_a_phone_photo_stored_sideways_is_decoded_upright(tmp_path: Path) -> None:
    upright = sideways_photo(tmp_path / "sideways.jpg")
    decoded = datasets.decode_image(tmp_path / "sideways.jpg", list(upright.shape[:2]), "rgb")
    assert decoded.shape == upright.shape
    assert np.abs(decoded.astype(int) - upright).mean() < 4  # JPEG's loss, not a turn
    assert decoded[:20, :, 0].mean() > 200 and decoded[40:, :, 0].mean() < 80  # red on top


def test_auto_keeps_small_images_own_size_and_shrinks_photos(photos: Path,
                                                               tmp_path: Path) -> None:
    data = load(photos, image_size="auto", color_mode="auto")
    assert data.image_shape == (AUTO_IMAGE_SIZE_LIMIT, AUTO_IMAGE_SIZE_LIMIT, 3)
    assert data.automatic["color_mode"].startswith(f"rgb: {3 * PER_CLASS} of the ")
    assert "median size" in data.automatic["image_size"]
    from conftest import real_digits, write_image_folders

    images, labels = real_digits(2)  # 28x28 grayscale PNGs
    digits = write_image_folders(tmp_path / "digits", images, labels, tuple("0123456789"))
    gray = load(digits, image_size="auto", color_mode="auto")
    assert gray.image_shape == (28, 28, 1)
    assert gray.automatic["color_mode"] == "grayscale: 0 of the 20 images are in colour"
