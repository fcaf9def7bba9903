"""A network written layer by layer in the params file, as an assignment brief describes it.

    layers:
      - conv 6 5x5 tanh same          # filters, window, activation, padding (any order after
      - avgpool 2x2                   #   the filters); maxpool N or NxN, avgpool N or NxN
      - conv 32 3x3 relu l2=0.001     # padding=same, stride=N, l2=X as settings
      - maxpool 2
      - flatten                       # or globalavgpool
      - dense 128 relu l2=0.001       # units, activation
      - dropout 0.3
      - batchnorm

The brief's own spellings are read too: a window as `5x5`, `5`, `(5,5)` or `5×5`; padding bare
(`same`) or as `padding=same`; commas between the words (`conv 32 3x3, relu, padding same`,
as 03 lists the layers it built); Keras's names for the kinds (`Conv2D`, `MaxPooling2D`,
`AveragePooling2D`, `BatchNormalization`, `GlobalAveragePooling2D`). The input scaling (raw
pixels to [0, 1]) comes first and the output layer (one unit per class, softmax) last,
always: they are not written, and an entry that writes them is refused saying so. Defaults
follow Keras's layers (a 3x3 window, padding valid, stride 1, a pool striding by its size)
with ReLU. This module parses and checks only; helpers.model.networks builds the Keras layers.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "swish", "linear")
PADDINGS = ("valid", "same")
KINDS = {
    "conv": "conv FILTERS [KxK] [ACTIVATION] [same|valid] [stride=N] [l2=X]",
    "maxpool": "maxpool [N or NxN]", "avgpool": "avgpool [N or NxN]", "batchnorm": "batchnorm",
    "dropout": "dropout RATE (0 <= RATE < 1)", "flatten": "flatten",
    "globalavgpool": "globalavgpool", "dense": "dense UNITS [ACTIVATION] [l2=X]",
}
EXAMPLES = {"conv": "conv 6 5x5 tanh same", "maxpool": "maxpool 2x2", "avgpool": "avgpool 2x2",
            "dropout": "dropout 0.3", "dense": "dense 128 relu"}
# Keras's class names (lower-cased) and the shorter forms briefs use, for the kinds above.
ALIASES = {"conv2d": "conv", "convolution": "conv", "maxpool2d": "maxpool",
           "maxpooling2d": "maxpool", "avgpool2d": "avgpool", "averagepooling2d": "avgpool",
           "batchnormalization": "batchnorm", "globalaveragepooling2d": "globalavgpool"}
SPATIAL = ("conv", "maxpool", "avgpool")  # need an image, so come before flatten
FLATTENING = ("flatten", "globalavgpool")
OUTPUT = ("the output layer (one unit per class, softmax) is added after the last entry, "
          "always: leave it out of layers")
INPUT = "the input and its scaling to [0, 1] come before the first entry, always: leave it out"
# An entry that is not a layer of the grammar but says something a brief writes.
NOT_A_LAYER = {**{name: f"{name} is an activation: write it in the conv or dense entry it "
                        f"follows, e.g. 'conv 32 3x3 {name}' or 'dense 128 {name}'"
                  for name in ACTIVATIONS},
               "softmax": OUTPUT, "output": OUTPUT, "input": INPUT, "inputlayer": INPUT,
               "rescaling": INPUT, "normalization": INPUT}
# The settings a word-and-value pair or key=value can give, by kind.
SETTINGS = {"conv": ("activation", "padding", "stride", "strides", "l2"),
            "dense": ("activation", "l2"), "maxpool": ("stride", "strides"),
            "avgpool": ("stride", "strides")}
WINDOW = re.compile(r"^(\d+)x(\d+)$")


@dataclass(frozen=True)
class LayerSpec:
    """One parsed entry: its kind and the settings that kind takes."""

    kind: str
    size: int = 0  # filters, units or pool size
    kernel: tuple[int, int] = (3, 3)
    activation: str = "relu"
    padding: str = "valid"
    stride: int = 1
    l2: float = 0.0
    rate: float = 0.0


class LayerSpecError(ValueError):
    """A layers entry that cannot be read; the message names it and what is allowed."""


def parse_layers(entries: list[str]) -> list[LayerSpec]:
    """Every entry parsed and the order checked; an error names the first bad entry."""
    specs = [_parse_entry(index, entry) for index, entry in enumerate(entries)]
    flattened = False
    for index, spec in enumerate(specs):
        if spec.kind in SPATIAL and flattened:
            raise LayerSpecError(f"layers[{index}] {entries[index]!r}: a {spec.kind} layer "
                                 "needs an image, but an earlier flatten made it a vector")
        if spec.kind == "dense" and not flattened:
            raise LayerSpecError(f"layers[{index}] {entries[index]!r}: put flatten (or "
                                 "globalavgpool) before the first dense layer")
        flattened = flattened or spec.kind in FLATTENING
    if specs and not flattened:
        raise LayerSpecError("layers: the list never flattens the image: add flatten (or "
                             "globalavgpool) before the output layer")
    return specs


def spelling(spec: LayerSpec) -> str:
    """The entry in the grammar's own words, every setting that matters shown:
    'conv 6 5x5 tanh same', 'avgpool 2', 'dense 128 relu l2=0.001'."""
    l2 = f" l2={spec.l2:g}" if spec.l2 else ""
    if spec.kind == "conv":
        stride = f" stride={spec.stride}" if spec.stride != 1 else ""
        return (f"conv {spec.size} {spec.kernel[0]}x{spec.kernel[1]} {spec.activation} "
                f"{spec.padding}{stride}{l2}")
    if spec.kind == "dense":
        return f"dense {spec.size} {spec.activation}{l2}"
    if spec.kind in ("maxpool", "avgpool"):
        return f"{spec.kind} {spec.size}"
    return f"dropout {spec.rate:g}" if spec.kind == "dropout" else spec.kind


def _words(entry: str) -> list[str]:
    """An entry's words, lower-cased, with a window or stride in any spelling as 'KxK':
    '(5, 5)', '5 x 5', '5×5' -> '5x5'; commas, quotes and 'key = value' spaces dropped."""
    text = re.sub(r"['\"]", "", entry.lower().replace("×", "x"))
    text = re.sub(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)", r"\1x\2", text)
    text = re.sub(r"\b(\d+)\s*x\s*(\d+)\b", r"\1x\2", text)
    text = re.sub(r"\s*=\s*", "=", text)
    return [word for word in re.split(r"[\s,]+", text) if word]


def _parse_entry(index: int, entry: object) -> LayerSpec:
    """One `KIND ARG... key=value...` string as a LayerSpec."""
    where = f"layers[{index}] {entry!r}"
    if not isinstance(entry, str) or not entry.split():
        raise LayerSpecError(f"{where}: each entry is a string such as 'conv 32 3x3 relu'")
    name, *words = _words(entry)
    kind = ALIASES.get(name, name)
    if kind not in KINDS:
        raise LayerSpecError(f"{where}: {_unknown_kind(name)}")
    try:
        positional, options = _split_settings(kind, words)
        return _build_spec(kind, positional, options)
    except ValueError as error:
        if str(error) == OUTPUT:  # the spelling would invite writing the layer it refuses
            raise LayerSpecError(f"{where}: {error}") from None
        example = f", e.g. '{EXAMPLES[kind]}'" if kind in EXAMPLES else ""
        raise LayerSpecError(f"{where}: {error}; write it as '{KINDS[kind]}'{example}") from None


def _unknown_kind(name: str) -> str:
    """Why a first word is no layer, with the spelling that is meant where one is clear."""
    if name in NOT_A_LAYER:
        return NOT_A_LAYER[name]
    close = difflib.get_close_matches(name, [*KINDS, *ALIASES], n=1)
    meant = f" (did you mean {ALIASES.get(close[0], close[0])!r}?)" if close else ""
    return f"unknown layer {name!r}{meant}; allowed: {', '.join(KINDS)}"


def _split_settings(kind: str, words: list[str]) -> tuple[list[str], dict[str, str]]:
    """Bare words, and the settings given as key=value or as a key word and its value
    ('padding same', 'stride 2', 'l2 0.001'); a setting the kind does not take is refused."""
    allowed = SETTINGS.get(kind, ())
    positional: list[str] = []
    options: dict[str, str] = {}
    rest = list(words)
    while rest:
        word = rest.pop(0)
        key, equals, value = word.partition("=")
        if not equals and key in allowed and rest:
            value, equals = rest.pop(0), "="
        if not equals:
            positional.append(word)
            continue
        if key not in allowed:
            takes = f"; {kind} takes {', '.join(allowed)}" if allowed else ""
            raise ValueError(f"unknown setting {key}{takes}")
        options["stride" if key == "strides" else key] = value
    return positional, options


def _build_spec(kind: str, positional: list[str], options: dict[str, str]) -> LayerSpec:
    """The settings of one kind of layer, each checked."""
    l2 = _number(options.get("l2", "0"), "l2", minimum=0.0)
    if kind in ("conv", "dense"):
        size = _whole(positional[0] if positional else "",
                      "the number of filters" if kind == "conv" else "units")
        kernel, activation, padding = _conv_words(kind, positional[1:], options)
        stride = _square(options.get("stride", "1"), "stride")
        return LayerSpec(kind, size, kernel, activation, padding, stride, l2)
    if kind in ("maxpool", "avgpool"):
        if len(positional) > 1:
            extra = positional[1]
            raise ValueError(f"a pool takes its window only, not {extra!r}" + (
                " (pools here have no padding)" if extra in PADDINGS else ""))
        size = _square(positional[0], "the pool size") if positional else 2
        stride = _square(options.get("stride", str(size)), "stride")
        if stride != size:
            raise ValueError(f"a pool here strides by its own size (stride={size} for "
                             f"{kind} {size}), not {stride}")
        return LayerSpec(kind, size)
    if kind == "dropout":
        rate = _number(positional[0] if positional else "", "the rate", minimum=0.0)
        if rate >= 1:
            raise ValueError(f"the rate must be below 1, got {rate:g}")
        return LayerSpec(kind, rate=rate)
    if positional:
        raise ValueError(f"{kind} takes no value")
    return LayerSpec(kind)


def _conv_words(kind: str, words: list[str],
                options: dict[str, str]) -> tuple[tuple[int, int], str, str]:
    """A conv or dense entry's window, activation and padding, in any order after its size;
    a word that is none of them is named with what it could have been."""
    found: dict[str, str] = {key: options[key] for key in ("activation", "padding")
                             if key in options}
    for word in words:
        if word == "softmax":
            raise ValueError(OUTPUT)
        role = ("window" if kind == "conv" and (word.isdigit() or WINDOW.match(word)) else
                "activation" if word in ACTIVATIONS else
                "padding" if kind == "conv" and word in PADDINGS else None)
        if role is None or role in found:
            raise ValueError(_unexpected(kind, word, role))
        found[role] = word
    activation, padding = found.get("activation", "relu"), found.get("padding", "valid")
    if activation == "softmax":
        raise ValueError(OUTPUT)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    if padding not in PADDINGS:
        raise ValueError(f"padding {padding!r} is not one of {', '.join(PADDINGS)}")
    return _kernel(found["window"]) if "window" in found else (3, 3), activation, padding


def _unexpected(kind: str, word: str, role: str | None) -> str:
    """What a word after a conv's filters or a dense layer's units could have been."""
    if role:
        return f"{word!r} is a second {role}: give one"
    if kind == "dense" and (word.isdigit() or WINDOW.match(word)):
        return f"{word!r}: a dense layer takes its units only, no window"
    could = [f"an activation ({', '.join(ACTIVATIONS)})"]
    if kind == "conv":
        could = ["a window (3x3)", could[0], f"a padding ({', '.join(PADDINGS)})"]
    close = difflib.get_close_matches(word, ACTIVATIONS + (PADDINGS if kind == "conv" else ()),
                                      n=1)
    meant = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(could[:-1]) + " or " + could[-1] if len(could) > 1 else could[0]
    return f"{word!r} is not {listed}{meant}"


def _whole(text: str, what: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {text!r}")
    return int(text)


def _square(text: str, what: str) -> int:
    """N, or NxN with both sides equal (a pool's window, a stride)."""
    match = WINDOW.match(text)
    if match and match.group(1) != match.group(2):
        raise ValueError(f"{what} {text!r}: only square ones are supported here, e.g. "
                         f"{match.group(1)}x{match.group(1)}")
    return _whole(match.group(1) if match else text, what)


def _number(text: str, what: str, minimum: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum:g}, got {value:g}")
    return value


def _kernel(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    return _whole(height, "the window height"), _whole(width or height, "the window width")
