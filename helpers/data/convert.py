"""Write any dataset in the two formats users bring their own data in: CSV and image folders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from helpers import artifacts
from helpers.data.core import Dataset

# str(value) for every byte, looked up rather than formatted 47 million times.
_PIXEL_TEXT = np.array([str(value) for value in range(256)], dtype=object)


def csv_header(pixel_count: int) -> str:
    """Kaggle's header for MNIST-style CSV files: label, pixel1, …, pixelN."""
    return ",".join(["label", *(f"pixel{number}" for number in range(1, pixel_count + 1))])


def csv_text(images: np.ndarray, labels: np.ndarray) -> str:
    """Images and labels as CSV lines: the label first, then the pixels in numpy order."""
    rows = np.concatenate([labels.reshape(-1, 1).astype(np.uint8),
                           images.reshape(len(images), -1)], axis=1)
    return "\n".join([csv_header(rows.shape[1] - 1), *(",".join(_PIXEL_TEXT[row])
                                                       for row in rows)]) + "\n"


def export_csv(dataset: Dataset, out_dir: str | Path) -> tuple[Path, Path]:
    """Write train.csv and test.csv (with a header row) into out_dir; each file atomically."""
    out_dir = Path(out_dir)
    written = []
    for name, images, labels in (("train.csv", dataset.x_train, dataset.y_train),
                                 ("test.csv", dataset.x_test, dataset.y_test)):
        written.append(artifacts.write_text(out_dir / name, csv_text(images, labels)))
    return written[0], written[1]


def folder_name(class_name: str) -> str:
    """A class name usable as a folder name on every system ('T-shirt/top' -> 'T-shirt-top')."""
    return re.sub(r'[\\/:*?"<>|]+', "-", class_name).strip(" .") or "class"


def export_images(dataset: Dataset, out_dir: str | Path) -> Path:
    """Write out_dir/{train,test}/<class>/<index>.png; refuses an out_dir that exists.

    The images go to a temporary sibling folder first, renamed into place at the end, so an
    interrupted export leaves no half-written dataset behind.
    """
    from PIL import Image

    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists: choose a new folder for the images")
    folders = [folder_name(name) for name in dataset.class_names]
    if len(set(folders)) != len(folders):
        raise ValueError(f"class names {dataset.class_names} give clashing folder names")
    with artifacts.atomic_directory(out_dir) as staging:
        for part, images, labels in (("train", dataset.x_train, dataset.y_train),
                                     ("test", dataset.x_test, dataset.y_test)):
            for folder in folders:
                (staging / part / folder).mkdir(parents=True)
            for index, (image, label) in enumerate(zip(images, labels, strict=True)):
                pixels = image[..., 0] if image.shape[-1] == 1 else image
                Image.fromarray(pixels).save(staging / part / folders[label] / f"{index:05d}.png")
    return out_dir
