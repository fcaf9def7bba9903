"""Which files of a folder of class folders (or of a .zip of them) are images to read.

Folders as people have them hold more than images: what an operating system or an archiver
leaves behind is skipped by name and counted (SKIP_REASONS), so 01 can say what was left
out. A class folder's sub-folders are read too, as Keras's image_dataset_from_directory
reads them. A .zip is read in place through zipfile.Path, which has pathlib.Path's iterdir,
is_dir, name and suffix, so one listing reads both.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers.data.core import DatasetFormatError, DatasetNotFoundError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

# Why an entry of a class folder is not read, and how 01 names it; checked in this order.
SKIP_REASONS = {
    "hidden": "hidden files and folders (names starting with a dot, such as macOS's ._ copies "
              "and .DS_Store)",
    "macos_archive": "__MACOSX folders (what unzipping a macOS archive leaves)",
    "system": "Thumbs.db and desktop.ini files (Windows's folder settings)",
    "not_image": f"files without an image extension ({', '.join(IMAGE_SUFFIXES)})",
    "outside_classes": "files beside the class folders, in no class",
}
SYSTEM_FILES = ("thumbs.db", "desktop.ini")
MACOS_ARCHIVE_FOLDER = "__MACOSX"
SKIP_EXAMPLES = 3

# A file or folder on disk, or a member of a .zip archive (zipfile.Path has the same
# iterdir/is_dir/name/suffix as pathlib.Path, so one listing reads both).
Entry = Path | zipfile.Path


@dataclass(frozen=True)
class Skipped:
    """Entries left out for one reason: how many, and a few of their names."""

    reason: str
    count: int
    examples: tuple[str, ...]

    @property
    def description(self) -> str:
        """The reason in words, as 01 writes it."""
        return SKIP_REASONS[self.reason]


class SkipLog:
    """Counts what the listing leaves out, by reason."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {reason: [] for reason in SKIP_REASONS}

    def add(self, reason: str, entry: Entry) -> None:
        self.names[reason].append(entry.name)

    def summary(self) -> tuple[Skipped, ...]:
        return tuple(Skipped(reason, len(names), tuple(dict.fromkeys(names))[:SKIP_EXAMPLES])
                     for reason, names in self.names.items() if names)


def _skip_reason(entry: Entry) -> str | None:
    """Why a listing leaves this entry out by its name alone, or None to read it."""
    if entry.name.startswith("."):
        return "hidden"
    if entry.name == MACOS_ARCHIVE_FOLDER:
        return "macos_archive"
    if entry.name.lower() in SYSTEM_FILES:
        return "system"
    return None


def _entries(folder: Entry, skipped: SkipLog) -> list[Entry]:
    """The folder's entries worth reading, sorted by name (so splits are reproducible)."""
    kept = []
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        reason = _skip_reason(entry)
        if reason:
            skipped.add(reason, entry)
        else:
            kept.append(entry)
    return kept


def _image_files(folder: Entry, skipped: SkipLog) -> list[Entry]:
    """A class folder's image files, its sub-folders' included (as Keras reads them)."""
    files: list[Entry] = []
    for entry in _entries(folder, skipped):
        if entry.is_dir():
            files += _image_files(entry, skipped)
        elif entry.suffix.lower() in IMAGE_SUFFIXES:
            files.append(entry)
        else:
            skipped.add("not_image", entry)
    return files


def _archive_top(archive: zipfile.Path, skipped: SkipLog) -> zipfile.Path:
    """The folder of class folders inside a .zip: the archive itself, or the one top folder
    that zipping a folder of class folders adds (skipping __MACOSX beside it)."""
    top = archive
    while True:
        entries = _entries(top, SkipLog())
        if (len(entries) == 1 and entries[0].is_dir()
                and any(child.is_dir() and not _skip_reason(child)
                        for child in entries[0].iterdir())):
            _entries(top, skipped)  # count what was left out at this level too
            top = entries[0]
        else:
            return top


@contextlib.contextmanager
def open_root(root: Path, parameter: str, skipped: SkipLog) -> Iterator[Entry]:
    """The folder of class folders named by `parameter`: a folder, or a .zip read in place
    (what is left out above its class folders is counted in `skipped`)."""
    if not root.exists():
        raise DatasetNotFoundError(f"{root} (the {parameter} parameter) does not exist")
    if root.is_dir():
        yield root
        return
    if root.suffix.lower() != ".zip":
        raise DatasetFormatError(f"{root} (the {parameter} parameter) is not a folder or a .zip "
                                 "archive: expected a folder with one sub-folder of images per "
                                 "class, or those folders zipped")
    try:
        archive = zipfile.ZipFile(root)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasetFormatError(f"{root} (the {parameter} parameter): not a readable .zip "
                                 f"archive ({error})") from error
    with archive:
        yield _archive_top(zipfile.Path(archive), skipped)


def list_class_folders(root: Entry, skipped: SkipLog) -> dict[str, tuple[Entry, list[Entry]]]:
    """Each class: its folder and its image files, by class name (sorted)."""
    entries = _entries(root, skipped)
    folders = [entry for entry in entries if entry.is_dir()]
    if not folders:
        raise DatasetFormatError(f"{root}: has no class sub-folders; expected one folder per "
                                 f"class holding its images, e.g. {root / 'cat' / '001.png'}")
    for entry in entries:
        if not entry.is_dir():
            skipped.add("outside_classes", entry)
    return {folder.name: (folder, _image_files(folder, skipped)) for folder in folders}
