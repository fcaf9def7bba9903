"""The user's own images: a folder with one sub-folder per class, like Keras's
`image_dataset_from_directory` expects, or the same folders in a .zip archive. Any image size;
every image is turned upright (its EXIF orientation), converted to the `color_mode` and
resized to `image_size` by `decode_image`, the one conversion that training and serving share.

Which files are read is folder_listing's job (junk skipped and counted); a file with an
image extension that cannot be decoded is a named error.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

from helpers import locations
from helpers.data.core import Dataset, DatasetFormatError, Problems, stratified_indices
from helpers.data.folder_listing import (
    IMAGE_SUFFIXES,
    Entry,
    SkipLog,
    list_class_folders,
    open_root,
)

COLOR_MODES = {"grayscale": "L", "rgb": "RGB"}  # color_mode -> Pillow mode
AUTO = "auto"
# image_size "auto" keeps small images' own size and shrinks larger ones (photos) to this:
# CIFAR-10's size, at which a small CNN trained from scratch tells objects apart, and a
# quarter of 64x64's pixels, which matters on a CPU.
AUTO_IMAGE_SIZE_LIMIT = 32
# Pillow modes that hold no colour; any other mode (RGB, RGBA, CMYK, YCbCr, a palette of
# colours) makes color_mode "auto" choose rgb.
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def image_size_pair(image_size: int | Sequence[int]) -> tuple[int, int]:
    """(height, width) from the image_size parameter: one number or [height, width]."""
    sizes = [image_size] if isinstance(image_size, int) else list(image_size)
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or not all(isinstance(size, int) and size >= 1 for size in sizes):
        raise ValueError(f"parameter image_size must be a whole number or [height, width] of "
                         f"whole numbers >= 1, or {AUTO!r}, got {image_size!r}")
    return sizes[0], sizes[1]


def upright(image: PILImage) -> PILImage:
    """The image as it is meant to be seen: a phone photo stored sideways with an EXIF
    orientation tag is turned the way the phone's own viewer shows it."""
    from PIL import ImageOps

    return ImageOps.exif_transpose(image)


def convert_image(image: PILImage, image_size: int | Sequence[int] = 28,
                  color_mode: str = "grayscale") -> np.ndarray:
    """An opened image as uint8 height x width x channels: the one conversion training and
    serving share. The image is turned upright (EXIF orientation); an alpha channel is
    dropped (Pillow's convert); another size is resized with bilinear interpolation, without
    cropping, as Keras does."""
    from PIL import Image

    if color_mode not in COLOR_MODES:
        raise ValueError(f"parameter color_mode must be one of {', '.join(COLOR_MODES)}, "
                         f"got {color_mode!r}")
    height, width = image_size_pair(image_size)
    converted = upright(image).convert(COLOR_MODES[color_mode])
    if converted.size != (width, height):
        converted = converted.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels[..., np.newaxis] if pixels.ndim == 2 else pixels


@contextlib.contextmanager
def _opened(source: str | Path | bytes | zipfile.Path) -> Iterator[PILImage]:
    """The image in `source` opened with Pillow; a bad file is a DatasetFormatError naming it."""
    from PIL import Image, UnidentifiedImageError

    name = "the upload" if isinstance(source, bytes) else str(source)
    try:
        if isinstance(source, bytes):
            opened: str | Path | io.BytesIO = io.BytesIO(source)
        elif isinstance(source, zipfile.Path):
            opened = io.BytesIO(source.read_bytes())
        else:
            opened = source
        with Image.open(opened) as image:
            yield image
    except (UnidentifiedImageError, OSError, SyntaxError, zipfile.BadZipFile,
            zlib.error) as error:
        raise DatasetFormatError(f"{name}: cannot be decoded as an image ({error})") from error


def decode_image(source: str | Path | bytes | zipfile.Path,
                 image_size: int | Sequence[int] = 28,
                 color_mode: str = "grayscale") -> np.ndarray:
    """One image file, its bytes, or a member of a .zip, as training sees it (see
    convert_image); an animated GIF gives its first frame."""
    image_size_pair(image_size)  # a bad parameter is not a bad image
    with _opened(source) as image:
        return convert_image(image, image_size, color_mode)


def _decode_folders(files_by_class: dict[str, tuple[Entry, list[Entry]]],
                    class_names: Sequence[str], image_size: int | Sequence[int],
                    color_mode: str, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for class_name, (_, files) in files_by_class.items():
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


def _class_problems(train_files: dict[str, tuple[Entry, list[Entry]]],
                    test_files: dict[str, tuple[Entry, list[Entry]]],
                    train_root: Entry) -> Problems:
    """Empty class folders, and test classes that have no training folder."""
    problems = Problems()
    for files_by_class in (train_files, test_files):
        for folder, files in files_by_class.values():
            if not files:
                problems.add(f"{folder}: empty class folder (no "
                             f"{', '.join(IMAGE_SUFFIXES)} files)")
    for class_name in sorted(set(test_files) - set(train_files)):
        problems.add(f"{test_files[class_name][0]}: class {class_name!r} is in the test folder "
                     f"but has no folder in {train_root} (classes: {', '.join(train_files)})")
    return problems


def _is_colour(image: PILImage) -> bool:
    if image.mode == "P":  # a palette: colour if any of its entries is not a gray
        palette = image.getpalette() or []
        return any(len(set(palette[index:index + 3])) > 1 for index in range(0, len(palette), 3))
    return image.mode not in GRAY_MODES


def automatic_settings(files: Sequence[Entry], image_size: int | Sequence[int] | str,
                       color_mode: str) -> tuple[int | Sequence[int], str, dict[str, str]]:
    """image_size and color_mode with "auto" resolved from the images' headers, and why.

    Only the headers of files on disk are read (Pillow opens lazily), so this pass costs
    little beside decoding; a .zip member is decompressed for it, and again to decode it.
    """
    if image_size != AUTO and color_mode != AUTO:
        return image_size, color_mode, {}  # type: ignore[return-value]
    heights, widths, colour = [], [], 0
    for path in files:
        with _opened(path) as image:
            width, height = image.size[::-1] if _rotated(image) else image.size
            heights.append(height)
            widths.append(width)
            colour += _is_colour(image)
    why = {}
    if image_size == AUTO:
        median_height, median_width = statistics.median(heights), statistics.median(widths)
        side = int(min(median_height, median_width, AUTO_IMAGE_SIZE_LIMIT))
        image_size = side
        why["image_size"] = (
            f"{side}×{side}: the images' median size is {median_width:g}×{median_height:g} "
            f"pixels (width × height)"
            + (f", shrunk to at most {AUTO_IMAGE_SIZE_LIMIT} pixels a side, CIFAR-10's size, "
               "which a CNN trained from scratch on a CPU handles well"
               if side == AUTO_IMAGE_SIZE_LIMIT < min(median_height, median_width) else ""))
    if color_mode == AUTO:
        color_mode = "rgb" if colour else "grayscale"
        why["color_mode"] = (f"{color_mode}: {colour:,} of the {len(files):,} images "
                             f"{'are' if colour != 1 else 'is'} in colour")
    return image_size, color_mode, why


def _rotated(image: PILImage) -> bool:
    """Whether the EXIF orientation swaps width and height (a quarter turn)."""
    return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)


def load_folder_dataset(train_path: str | Path, test_path: str | Path | None = None,
                        test_fraction: float = 0.2,
                        image_size: int | Sequence[int] | str = 28,
                        color_mode: str = "grayscale", seed: int = 42) -> Dataset:
    """Images from class folders (or a .zip of them): a training and a test set, or one split
    here. image_size and color_mode may be "auto" (chosen from the images, see
    automatic_settings)."""
    if image_size != AUTO:
        image_size_pair(image_size)  # a bad parameter fails before any file is opened
    if color_mode not in (*COLOR_MODES, AUTO):
        raise ValueError(f"parameter color_mode must be one of {', '.join(COLOR_MODES)} or "
                         f"{AUTO!r}, got {color_mode!r}")
    train_root_path = Path(train_path)
    test_root_path = Path(test_path) if test_path is not None else None
    skipped = SkipLog()  # train and test together, as 01 reports them
    with contextlib.ExitStack() as stack:
        train_root = stack.enter_context(open_root(train_root_path, "train_path", skipped))
        train_files = list_class_folders(train_root, skipped)
        test_files: dict[str, tuple[Entry, list[Entry]]] = {}
        if test_root_path is not None:
            test_root = stack.enter_context(open_root(test_root_path, "test_path", skipped))
            test_files = list_class_folders(test_root, skipped)
        class_names = tuple(train_files)
        problems = _class_problems(train_files, test_files, train_root)
        problems.raise_if_any()
        every_file = [path for files_by_class in (train_files, test_files)
                      for _, files in files_by_class.values() for path in files]
        image_size, color_mode, automatic = automatic_settings(every_file, image_size,
                                                               color_mode)
        x_all, y_all = _decode_folders(train_files, class_names, image_size, color_mode,
                                       problems)
        if test_root_path is not None:
            x_test, y_test = _decode_folders(test_files, class_names, image_size, color_mode,
                                             problems)
        problems.raise_if_any()
    if test_root_path is None:
        train_rows, test_rows = stratified_indices(y_all, test_fraction, seed,
                                                   str(train_root_path))
        x_train, y_train, x_test, y_test = (x_all[train_rows], y_all[train_rows],
                                            x_all[test_rows], y_all[test_rows])
        source = (f"{locations.describe(train_root_path)} (test set: a stratified "
                  f"{test_fraction:g} of it, seed {seed})")
    else:
        x_train, y_train = x_all, y_all
        source = (f"{locations.describe(train_root_path)} and "
                  f"{locations.describe(test_root_path)}")
    # Checksumming thousands of images would cost more than loading them; a .zip is one file.
    archives = tuple(path for path in (train_root_path, test_root_path)
                     if path is not None and path.is_file())
    return Dataset(name="folder", x_train=x_train, y_train=y_train, x_test=x_test,
                   y_test=y_test, class_names=class_names, source=source, files=archives,
                   skipped=skipped.summary(), automatic=automatic)
