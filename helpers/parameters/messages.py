"""pydantic's validation errors as the one-line messages the parameter schema raises: each
names the parameter, what is allowed and the value given (helpers.parameters)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def _describe(error: Mapping[str, Any], runner_parameters: Collection[str]) -> str:
    """One pydantic error as 'parameter NAME: what is allowed, got VALUE'."""
    name = str(error["loc"][0]) if error["loc"] else "?"
    if _is_key_error(error):  # a key missing or unknown inside a value (a comparison)
        place = name + "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                               for part in error["loc"][1:-1])
        if error["type"] == "missing":
            return f"{place} needs {error['loc'][-1]!r}"
        return f"unknown key {error['loc'][-1]!r} in {place}"
    if error["type"] == "extra_forbidden":
        if name in runner_parameters:
            return f"{name!r} is set by the runner: use --run-dir instead"
        return f"unknown parameter {name!r}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{message[0].lower()}{message[1:]}"


def _is_key_error(error: Mapping[str, Any]) -> bool:
    """A key missing or unknown inside a parameter's value, where 'got' would show a part."""
    return len(error["loc"]) > 1 and error["type"] in ("missing", "extra_forbidden")


def problems_text(errors: list[Any], parameter_names: Collection[str],
                  runner_parameters: Collection[str]) -> str:
    """One line per parameter; a union type's branches (int or list) joined with 'or'."""
    by_parameter: dict[str, dict[str, None]] = {}
    values: dict[str, Any] = {}
    for error in errors:
        name = str(error["loc"][0]) if error["loc"] else "?"
        by_parameter.setdefault(name, {})[_describe(error, runner_parameters)] = None
        if not _is_key_error(error):
            values[name] = error["input"]
    lines = []
    for name, messages in by_parameter.items():
        text = " or ".join(messages)
        got = f", got {values[name]!r}" if name in values else ""
        lines.append(f"parameter {name!r}: {text}{got}" if name in parameter_names else text)
    return "; ".join(lines)
