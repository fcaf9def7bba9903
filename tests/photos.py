"""Generated colour photos in class folders, with the junk real folders hold.

Three classes of shapes (circle, square, triangle) in random colours, sizes and places on
noisy backgrounds, saved as JPEG and PNG of mixed sizes; beside them what macOS, Windows and
people leave in such folders. Used by the tests of helpers.data.image_folders and to show
a folder run end to end (docs/datasets.md).
"""

from __future__ import annotations

import colorsys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

CLASSES = ("circle", "square", "triangle")
# What a folder copied from a Mac or a Windows PC holds beside the images: never images.
JUNK_IN_CLASS_FOLDER = (".DS_Store", "Thumbs.db", "desktop.ini", "notes.txt")
ORIENTATION = 0x0112  # the EXIF tag
HUES = {"circle": 20, "square": 140, "triangle": 240}  # degrees on the colour wheel


def photo(shape: str, generator: np.random.Generator) -> PILImage:
    """One colour image of `shape`, 48 to 160 pixels wide, in landscape or portrait."""
    from PIL import Image, ImageDraw, ImageFilter

    width = int(generator.integers(48, 161))
    height = int(width * generator.uniform(0.75, 1.34))  # portrait or landscape, as photos are
    background = generator.integers(0, 256, 3)
    noise = generator.normal(0, 15, (height, width, 3))
    pixels = np.clip(background + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    side = min(width, height)
    radius = side * generator.uniform(0.25, 0.45)
    centre_x = generator.uniform(radius, width - radius)
    centre_y = generator.uniform(radius, height - radius)
    # Like the things in real photos, each class has colours it tends to (a hue of its own,
    # give or take 80 degrees, so they overlap): the shape still decides.
    colour = np.zeros(3)
    while np.abs(colour - background).mean() < 80:  # a shape you can see, as in a photo of one
        hue = (HUES[shape] + generator.uniform(-80, 80)) % 360 / 360
        colour = np.array(colorsys.hsv_to_rgb(hue, generator.uniform(0.5, 1),
                                              generator.uniform(0.4, 1))) * 255
    colour = tuple(int(value) for value in colour)
    if shape == "circle":
        draw.ellipse([centre_x - radius, centre_y - radius, centre_x + radius,
                      centre_y + radius], fill=colour)
    elif shape == "square":
        draw.regular_polygon((centre_x, centre_y, radius), 4,
                             rotation=float(generator.uniform(0, 90)), fill=colour)
    else:
        draw.regular_polygon((centre_x, centre_y, radius), 3,
                             rotation=float(generator.uniform(0, 120)), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(float(generator.uniform(0, 1.2))))


def write_photo_folders(root: Path, per_class: int, seed: int = 0,
                        junk: bool = True) -> Path:
    """root/<class>/img_NNNN.(jpg|png), every other one a JPEG; with `junk`, the files macOS
    and Windows leave: ._ AppleDouble copies of every image, .DS_Store, Thumbs.db,
    desktop.ini, a notes.txt, a hidden .thumbnails folder, and a __MACOSX folder beside the
    class folders (as unzipping a macOS archive leaves)."""
    generator = np.random.default_rng(seed)
    for shape in CLASSES:
        folder = root / shape
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            suffix = ".jpg" if index % 2 == 0 else ".png"
            name = f"img_{index:04d}{suffix}"
            photo(shape, generator).save(folder / name, quality=90)
            if junk:
                # AppleDouble: macOS's resource fork, a small binary file named ._<image>.
                (folder / f"._{name}").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X"
                                                   + bytes(64))
                (root / "__MACOSX" / shape).mkdir(parents=True, exist_ok=True)
                (root / "__MACOSX" / shape / f"._{name}").write_bytes(b"\x00\x05\x16\x07")
        if junk:
            for name in JUNK_IN_CLASS_FOLDER:
                (folder / name).write_bytes(b"not an image")
            (folder / ".thumbnails").mkdir(exist_ok=True)
            photo(shape, generator).save(folder / ".thumbnails" / "img_0000.png")
    if junk:
        (root / ".DS_Store").write_bytes(bytes(16))
        (root / "README.txt").write_text("three classes of shapes\n")
    return root


def zip_folder(folder: Path, archive: Path, top_folder: bool) -> Path:
    """The folder zipped as people zip it: its class folders at the top of the archive, or
    inside one top folder named like it; __MACOSX and hidden files go in as they are."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                member = path.relative_to(folder)
                zipped.write(path, str(Path(folder.name) / member) if top_folder
                           else str(member))
    return archive


def sideways_photo(path: Path) -> np.ndarray:
    """A JPEG stored sideways with EXIF orientation 6, as a phone held upright saves it;
    returns the upright image's pixels (height x width x 3) that a viewer shows."""
    from PIL import Image

    upright = np.zeros((60, 40, 3), np.uint8)  # taller than wide
    upright[:20] = (255, 0, 0)  # red at the top, so a turn shows
    upright[20:, :, 2] = np.linspace(0, 120, 40, dtype=np.uint8)  # blue, darker to the left
    # Orientation 6 means "turn 90° clockwise to view": so store it turned counter-clockwise.
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    stored.save(path, quality=95, exif=exif)
    return upright
