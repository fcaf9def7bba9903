"""A network written layer by layer in the params file, as an assignment brief describes it.

    layers:
      - conv 32 3x3 relu l2=0.001     # filters, window, activation; padding=valid|same, stride=N
      - maxpool 2                     # or avgpool N
      - conv 64 3x3 relu l2=0.001
      - maxpool 2
      - flatten                       # or globalavgpool
      - dense 128 relu l2=0.001       # units, activation
      - dropout 0.3
      - batchnorm

The input scaling (raw pixels to [0, 1]) comes first and the output layer (one unit per
class, softmax) last, always: they are not written. Defaults follow Keras's layers (a 3x3
window, padding valid, stride 1) with ReLU, the activation every brief here names. This
module parses and checks only; helpers.model.networks builds the Keras layers.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "swish", "linear")
PADDINGS = ("valid", "same")
KINDS = {
    "conv": "conv FILTERS [KxK] [ACTIVATION] [padding=valid|same] [stride=N] [l2=X]",
    "maxpool": "maxpool [N]", "avgpool": "avgpool [N]", "batchnorm": "batchnorm",
    "dropout": "dropout RATE (0 <= RATE < 1)", "flatten": "flatten",
    "globalavgpool": "globalavgpool", "dense": "dense UNITS [ACTIVATION] [l2=X]",
}
SPATIAL = ("conv", "maxpool", "avgpool")  # need an image, so come before flatten
FLATTENING = ("flatten", "globalavgpool")


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


def _parse_entry(index: int, entry: object) -> LayerSpec:
    """One `KIND ARG... key=value...` string as a LayerSpec."""
    where = f"layers[{index}] {entry!r}"
    if not isinstance(entry, str) or not entry.split():
        raise LayerSpecError(f"{where}: each entry is a string such as 'conv 32 3x3 relu'")
    kind, *words = entry.lower().split()
    if kind not in KINDS:
        raise LayerSpecError(f"{where}: unknown layer {kind!r}; allowed: {', '.join(KINDS)}")
    options = dict(word.split("=", 1) for word in words if "=" in word)
    positional = [word for word in words if "=" not in word]
    try:
        return _build_spec(kind, positional, options)
    except ValueError as error:
        raise LayerSpecError(f"{where}: {error}; write it as '{KINDS[kind]}'") from None


def _build_spec(kind: str, positional: list[str], options: dict[str, str]) -> LayerSpec:
    """The settings of one kind of layer, each checked."""
    allowed = {"conv": {"padding", "stride", "l2"}, "dense": {"l2"}}.get(kind, set())
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown setting {', '.join(sorted(unknown))}")
    l2 = _number(options.get("l2", "0"), "l2", minimum=0.0)
    if kind in ("conv", "dense"):
        size = _whole(positional[0] if positional else "",
                      "the number of filters" if kind == "conv" else "units")
        rest = positional[1:]
        kernel = _kernel(rest.pop(0)) if kind == "conv" and rest and "x" in rest[0] else (3, 3)
        if kind == "conv" and rest and rest[0].isdigit():
            kernel = (int(rest[0]),) * 2
            rest = rest[1:]
        activation = rest.pop(0) if rest else "relu"
        if activation not in ACTIVATIONS or rest:
            raise ValueError(f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
        padding = options.get("padding", "valid")
        if padding not in PADDINGS:
            raise ValueError(f"padding {padding!r} is not one of {', '.join(PADDINGS)}")
        return LayerSpec(kind, size, kernel, activation, padding,
                         _whole(options.get("stride", "1"), "stride"), l2)
    if kind in ("maxpool", "avgpool"):
        return LayerSpec(kind, _whole(positional[0], "the pool size") if positional else 2)
    if kind == "dropout":
        rate = _number(positional[0] if positional else "", "the rate", minimum=0.0)
        if rate >= 1:
            raise ValueError(f"the rate must be below 1, got {rate:g}")
        return LayerSpec(kind, rate=rate)
    if positional:
        raise ValueError(f"{kind} takes no value")
    return LayerSpec(kind)


def _whole(text: str, what: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {text!r}")
    return int(text)


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
    return _whole(height, "the window height"), _whole(width, "the window width")
