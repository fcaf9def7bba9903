"""A sweep's points: `--grid NAME=V1,V2 ...` and params files turned into named, checked runs.

Each point is one ordinary run: a params file and `-p NAME VALUE` overrides (the sweep's
own `-p`, then the point's grid values). Its name is readable and stable across re-runs
(`batch_norm-true_dropout_rate-0.3`), since it names the point's run directory and is how a
continued sweep finds what already ran.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import parameters
from helpers.parameters import ParameterError

MAX_NAME_LENGTH = 96
FILE_DIMENSION = "params_file"  # the Optuna parameter that tells points of several files apart


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its name, params file, overrides, and the values that vary."""

    name: str
    parameters_file: Path
    overrides: tuple[tuple[str, str], ...]  # as `-p NAME VALUE` pairs, for execute.run
    swept: tuple[tuple[str, Any], ...]  # the grid's values (and file) that make this point

    def definition(self) -> dict[str, Any]:
        """What the point runs, as JSON, stored with the study to recognise a re-run."""
        return {"file": str(self.parameters_file), "overrides": [list(pair)
                                                                 for pair in self.overrides]}


def split_values(text: str) -> list[str]:
    """Comma-separated values, commas inside [...] kept: '[32,64],[64,128]' is two values."""
    values, depth, current = [], 0, ""
    for character in text:
        depth += {"[": 1, "]": -1}.get(character, 0)
        if character == "," and depth == 0:
            values.append(current.strip())
            current = ""
        else:
            current += character
    values.append(current.strip())
    return values


def parse_grid_option(option: str) -> tuple[str, list[Any]]:
    """'dropout_rate=0.0,0.3' as ('dropout_rate', [0.0, 0.3]), each value read as YAML."""
    name, separator, text = option.partition("=")
    name = name.strip()
    if not separator or not name or not text.strip():
        raise ParameterError(f"--grid {option!r}: expected NAME=VALUE,VALUE,... such as "
                             "dropout_rate=0.0,0.3")
    if name not in parameters.PARAMETER_NAMES:
        raise ParameterError(f"--grid {option!r}: unknown parameter {name!r}. Valid "
                             f"parameters: {', '.join(parameters.PARAMETER_NAMES)}")
    texts = split_values(text)
    if "" in texts:
        raise ParameterError(f"--grid {option!r}: an empty value (two commas in a row?)")
    values = [parameters.parse_override(value) for value in texts]
    labels = [value_text(value) for value in values]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ParameterError(f"--grid {option!r}: {', '.join(repeated)} listed twice")
    return name, values


def parse_grid(options: Sequence[str]) -> dict[str, list[Any]]:
    """Every --grid option, in the order given; a name given twice is refused."""
    grid: dict[str, list[Any]] = {}
    for option in options:
        name, values = parse_grid_option(option)
        if name in grid:
            raise ParameterError(f"--grid names {name!r} twice: give all its values in one "
                                 f"option, {name}=A,B,C")
        grid[name] = values
    return grid


def value_text(value: Any) -> str:
    """A value as `-p` text that parse_override reads back as the same value."""
    return value if isinstance(value, str) else json.dumps(value)


def value_label(value: Any) -> str:
    """A value as it appears in a point's name: true, 0.3, 32-64."""
    if isinstance(value, list):
        return "-".join(value_label(item) for item in value)
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", value_text(value)).strip("-") or "empty"


def optuna_value(value: Any) -> bool | int | float | str:
    """A value Optuna can hold as a categorical choice (lists become their JSON text)."""
    return value if isinstance(value, bool | int | float | str) else json.dumps(value)


def point_name(file_label: str | None, swept: Mapping[str, Any]) -> str:
    """'batch_norm-true_dropout_rate-0.3', prefixed by the file's label when files vary."""
    parts = ([file_label] if file_label else []) + [f"{name}-{value_label(value)}"
                                                    for name, value in swept.items()]
    name = "_".join(parts) or "base"
    if len(name) > MAX_NAME_LENGTH:  # long `layers` lists: keep a readable start, stay unique
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME_LENGTH - 9]}-{digest}"
    return name


def file_labels(files: Sequence[Path]) -> list[str]:
    """Each file's stem, or parent-stem where two files share a stem."""
    stems = [Path(file).stem for file in files]
    return [f"{Path(file).parent.name}-{stem}" if stems.count(stem) > 1 else stem
            for file, stem in zip(files, stems, strict=True)]


def build_points(files: Sequence[Path], grid: Mapping[str, list[Any]],
                 overrides: Sequence[tuple[str, str]]) -> list[SweepPoint]:
    """Every file crossed with every grid combination, in the order given."""
    if not files:
        raise ParameterError("a sweep needs a params file: -f FILE with --grid, or FILE...")
    fixed = {name for name, _ in overrides} & set(grid)
    if fixed:
        raise ParameterError(f"{', '.join(sorted(fixed))} is both fixed with -p and swept "
                             "with --grid: drop one of them")
    if len(set(map(str, files))) != len(files):
        raise ParameterError("a params file is listed twice")
    labels = file_labels(files) if len(files) > 1 else [None]
    points = []
    for file, label in zip(files, labels, strict=True):
        for combination in itertools.product(*grid.values()):
            swept = dict(zip(grid, combination, strict=True))
            grid_overrides = [(name, value_text(value)) for name, value in swept.items()]
            dimensions = ({FILE_DIMENSION: str(file)} if label else {}) | swept
            points.append(SweepPoint(point_name(label, swept), Path(file),
                                     (*map(tuple, overrides), *grid_overrides),
                                     tuple(dimensions.items())))
    names = [point.name for point in points]
    if len(set(names)) != len(names):
        raise ParameterError("two sweep points got the same name: "
                             f"{sorted({name for name in names if names.count(name) > 1})}")
    return points


def check_points(points: Sequence[SweepPoint],
                 grid: Mapping[str, list[Any]]) -> list[parameters.RunParameters]:
    """Every point's parameters checked before anything runs; an error names the point."""
    checked = []
    for point in points:
        given = parameters.read_parameters_file(point.parameters_file)
        given.update({name: parameters.parse_override(text) for name, text in point.overrides})
        try:
            checked.append(parameters.validate(given))
        except ParameterError as error:
            values = ", ".join(f"{name}={value_text(value)}" for name, value in point.swept
                               if name in grid and name in str(error))
            culprit = f"--grid {values}" if values else f"point {point.name}"
            raise ParameterError(f"{culprit} is refused ({point.parameters_file}, point "
                                 f"{point.name}): {error}") from None
    return checked


def default_name(files: Sequence[Path], grid: Mapping[str, list[Any]]) -> str:
    """The same name for the same command, so running it again continues the sweep."""
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", "-".join([*file_labels(files), *grid])) or "sweep"
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME_LENGTH - 9]}-{digest}"
    return name
