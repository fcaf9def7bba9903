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


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Which helpers modules each one imports, imports inside functions included: an import
    moved into a function still makes a cycle, only a later one."""
    modules = {module_name(path): path for path in python_files()}

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    return {name: {target for imported in imported_modules(path)
                   if (target := known(imported)) and target not in (name, "helpers")}
            for name, path in modules.items()}


def test_helpers_modules_import_each_other_without_a_cycle() -> None:
    graph, finished, path = import_graph(), set(), []

    def visit(module: str) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(
                [*path[path.index(module):], module]))
        if module in finished:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        finished.add(module)

    for module in sorted(graph):
        visit(module)


def test_importing_helpers_sets_only_the_documented_onednn_default() -> None:
    import json
    import os
    import subprocess
    import sys

    script = ("import json, os; before = dict(os.environ); import helpers; "
              "print(json.dumps({k: v for k, v in os.environ.items() if before.get(k) != v}))")
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL")
                   and not name.startswith("IMGCLF_")}
    changed = json.loads(subprocess.run([sys.executable, "-c", script], env=environment,
                                        capture_output=True, text=True, check=True).stdout)
    from helpers import onednn

    assert set(changed) <= {onednn.VARIABLE, onednn.MARK}
