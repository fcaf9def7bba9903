"""The user's own images: a folder with one sub-folder per class, like Keras's
`image_dataset_from_directory` expects. Any image size; every image is converted to the
`color_mode` and resized to `image_size` by `decode_image`, the one conversion that training
and serving share.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

from helpers.datasets.core import (
    Dataset,
    DatasetFormatError,
    DatasetNotFoundError,
    Problems,
    stratified_indices,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
COLOR_MODES = {"grayscale": "L", "rgb": "RGB"}  # color_mode -> Pillow mode


def image_size_pair(image_size: int | Sequence[int]) -> tuple[int, int]:
    """(height, width) from the image_size parameter: one number or [height, width]."""
    sizes = [image_size] if isinstance(image_size, int) else list(image_size)
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or not all(isinstance(size, int) and size >= 1 for size in sizes):
        raise ValueError(f"parameter image_size must be a whole number or [height, width] of "
                         f"whole numbers >= 1, got {image_size!r}")
    return sizes[0], sizes[1]


def convert_image(image: PILImage, image_size: int | Sequence[int] = 28,
                  color_mode: str = "grayscale") -> np.ndarray:
    """An opened image as uint8 height x width x channels: the one conversion training and
    serving share. An alpha channel is dropped (Pillow's convert); another size is resized
    with bilinear interpolation, without cropping, as Keras does."""
    from PIL import Image

    if color_mode not in COLOR_MODES:
        raise ValueError(f"parameter color_mode must be one of {', '.join(COLOR_MODES)}, "
                         f"got {color_mode!r}")
    height, width = image_size_pair(image_size)
    converted = image.convert(COLOR_MODES[color_mode])
    if converted.size != (width, height):
        converted = converted.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels[..., np.newaxis] if pixels.ndim == 2 else pixels


def decode_image(source: str | Path | bytes, image_size: int | Sequence[int] = 28,
                 color_mode: str = "grayscale") -> np.ndarray:
    """One image file (or its bytes) as training sees it (see convert_image); an animated
    GIF gives its first frame."""
    from PIL import Image, UnidentifiedImageError

    image_size_pair(image_size)  # a bad parameter is not a bad image
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with Image.open(opened) as image:
            return convert_image(image, image_size, color_mode)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise DatasetFormatError(f"{source if not isinstance(source, bytes) else 'the upload'}: "
                                 f"cannot be decoded as an image ({error})") from error


def list_class_folders(root: Path, parameter: str) -> dict[str, list[Path]]:
    """Each class folder's image files (sorted, so splits are reproducible), by class name."""
    if not root.exists():
        raise DatasetNotFoundError(f"{root} (the {parameter} parameter) does not exist")
    if not root.is_dir():
        raise DatasetFormatError(f"{root} (the {parameter} parameter) is not a folder: expected "
                                 "a folder with one sub-folder of images per class")
    folders = sorted(path for path in root.iterdir()
                     if path.is_dir() and not path.name.startswith("."))
    if not folders:
        raise DatasetFormatError(f"{root}: has no class sub-folders; expected one folder per "
                                 f"class holding its images, e.g. {root / 'cat' / '001.png'}")
    return {folder.name: sorted(path for path in folder.iterdir()
                                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file())
            for folder in folders}


def _decode_folders(files_by_class: dict[str, list[Path]], class_names: Sequence[str],
                    image_size: int | Sequence[int], color_mode: str,
                    problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for class_name, files in files_by_class.items():
        for path in files:
            try:
                images.append(decode_image(path, image_size, color_mode))
            except DatasetFormatError as error:
                problems.add(str(error))
                continue
            labels.append(class_names.index(class_name))
    height, width = image_size_pair(image_size)
    channels = 1 if color_mode == "grayscale" else 3
    stacked = np.stack(images) if images else np.zeros((0, height, width, channels), np.uint8)
    return stacked, np.array(labels, dtype=np.int64)


def load_folder_dataset(train_path: str | Path, test_path: str | Path | None = None,
                        test_fraction: float = 0.2, image_size: int | Sequence[int] = 28,
                        color_mode: str = "grayscale", seed: int = 42) -> Dataset:
    """Images from class folders: a training and a test folder, or one folder split here."""
    image_size_pair(image_size)  # a bad parameter fails before any file is opened
    train_root = Path(train_path)
    train_files = list_class_folders(train_root, "train_path")
    test_root = Path(test_path) if test_path is not None else None
    test_files = list_class_folders(test_root, "test_path") if test_root else {}
    class_names = tuple(train_files)
    problems = Problems()
    for root, files_by_class in ((train_root, train_files), (test_root, test_files)):
        for class_name, files in files_by_class.items():
            if not files:
                problems.add(f"{root / class_name}: empty class folder (no "
                             f"{', '.join(IMAGE_SUFFIXES)} files)")
    for class_name in sorted(set(test_files) - set(train_files)):
        problems.add(f"{test_root / class_name}: class {class_name!r} is in the test folder but "
                     f"has no folder in {train_root} (classes: {', '.join(class_names)})")
    problems.raise_if_any()
    x_all, y_all = _decode_folders(train_files, class_names, image_size, color_mode, problems)
    if test_root is not None:
        x_test, y_test = _decode_folders(test_files, class_names, image_size, color_mode,
                                         problems)
    problems.raise_if_any()
    if test_root is None:
        train_rows, test_rows = stratified_indices(y_all, test_fraction, seed, str(train_root))
        x_train, y_train, x_test, y_test = (x_all[train_rows], y_all[train_rows],
                                            x_all[test_rows], y_all[test_rows])
        source = f"{train_root} (test set: a stratified {test_fraction:g} of it, seed {seed})"
    else:
        x_train, y_train = x_all, y_all
        source = f"{train_root} and {test_root}"
    # Checksumming thousands of images would cost more than loading them; record the roots.
    return Dataset(name="folder", x_train=x_train, y_train=y_train, x_test=x_test,
                   y_test=y_test, class_names=class_names, source=source, files=())
