"""The report's vocabulary, written once: lists, counts, rates, shares, accuracy points and
their 95% intervals, and the phrases for augmentation.

Pure text from numbers, with no knowledge of a stage, so the catalog (which names the networks
and datasets) and every writing module say a thing the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

NUMBER_WORDS = {2: "two", 3: "three", 4: "four"}
# The augment_* parameters (training.json's `augmentation`, without the prefix) in the order
# the report names them.
AUGMENTATIONS = ("flip", "shift", "rotation", "zoom", "erase")


def and_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def or_list(items: Sequence[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def plural(count: int, word: str) -> str:
    """'1 layer', '3 layers'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def number(value: float) -> str:
    """A rate as a reader writes it: 0.001 -> '0.001', 3e-4 -> '0.0003'."""
    return f"{value:.10f}".rstrip("0").rstrip(".")


def percent(fraction: float) -> str:
    """A setting's fraction as a percentage: 0.1 -> '10%', 0.1111 -> '11.1%'."""
    return f"{round(fraction * 100, 1):g}%"


def share(fraction: float) -> str:
    """A relative change or share as a percentage: '4.5%', '32%'."""
    size = round(abs(fraction) * 100, 6)  # 0.352 / 0.32 - 1 is 0.0999...: 10%
    return f"{size:.0f}%" if size >= 10 else f"{size:.1f}%"


def points(difference: float, fine: bool = False) -> str:
    """An accuracy difference in percentage points: 0.0123 -> '1.2 points'; `fine` keeps two
    decimals under one point (0.0046 -> '0.46 points'), for differences within noise."""
    size = round(abs(difference) * 100, 6)  # 0.9295 - 0.924 is 0.549999...: 0.6
    shown = f"{size:.2f}" if fine and size < 1 else f"{size:.1f}"
    return f"{shown} point{'' if shown == '1.0' else 's'}"


def signed_points(difference: float) -> str:
    """A difference in percentage points with its sign, for a table: '+1.2', '-0.4'."""
    return f"{difference * 100:+.1f}"


def accuracy_interval(accuracy: float, images: int) -> float:
    """Half-width of the 95% normal-approximation interval of an accuracy on `images` images."""
    return 1.96 * math.sqrt(accuracy * (1 - accuracy) / images)


def augmentation_phrases(augmentation: Mapping[str, Any]) -> list[str]:
    """The random changes made to training images, one phrase each: 'left-right flips',
    'shifts up to 10%', ...; from training.json's augmentation (augment_* without the prefix)."""
    values = {name: augmentation.get(name) or 0 for name in AUGMENTATIONS}
    phrases = {"flip": "left-right flips",
               "shift": f"shifts up to {percent(float(values['shift']))}",
               "rotation": f"rotations up to ±{float(values['rotation']):g}°",
               "zoom": f"zoom up to ±{percent(float(values['zoom']))}",
               "erase": f"erasing a rectangle with probability {float(values['erase']):g}"}
    return [phrases[name] for name in AUGMENTATIONS if values[name]]
