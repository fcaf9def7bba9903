"""The package's shape: modules of a few hundred lines, functions that fit on a screen."""

import ast
from pathlib import Path

from helpers import artifacts

PACKAGE = artifacts.PROJECT_ROOT / "helpers"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_300_lines() -> None:
    long = {str(path.relative_to(PACKAGE)): lines for path in python_files()
            if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long


def test_no_function_is_over_60_lines() -> None:
    """Measured from `def` to the function's last line, docstring and comments included."""
    long = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"] = length
    assert not long


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, `from helpers import x` counted as helpers.x."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_stage_modules_never_import_the_runner_or_serving() -> None:
    for path in python_files():
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("runner", "serving") or relative.name == "pipeline.py":
            continue
        assert not {name for name in imported_modules(path)
                    if name.startswith(("helpers.runner", "helpers.serving"))}, relative


def test_serving_runs_models_through_inference_not_the_export_stage() -> None:
    for path in (PACKAGE / "serving").rglob("*.py"):
        assert not {name for name in imported_modules(path)
                    if name.startswith(("helpers.export", "helpers.training"))}, path.name
