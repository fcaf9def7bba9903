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
    return imported_modules_of(ast.parse(path.read_text()))


def imported_modules_of(tree: ast.AST) -> set[str]:
    """imported_modules of a parsed file."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


# The pipeline's stages in order (helpers/__init__.py); the runner and serving stand above them,
# and every module outside these packages is the ground they stand on.
STAGES = ("data", "model", "training", "evaluation", "writing")
ABOVE_THE_STAGES = ("runner", "serving")


def layer(module: str) -> int:
    """0 for the ground, 1-5 for the stages in order, 6 for the runner and serving."""
    package = module.split(".")[1] if module.count(".") else ""
    if package in STAGES:
        return STAGES.index(package) + 1
    return len(STAGES) + 1 if package in ABOVE_THE_STAGES else 0


def runtime_imports(path: Path) -> set[str]:
    """The helpers modules a file imports when it runs: an `if TYPE_CHECKING:` block only
    names types for annotations (records annotates with the stages' types, importing none)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    return {name for name in imported_modules_of(tree) if name.startswith("helpers.")}


def later_stage_imports(path: Path) -> set[str]:
    """What a module imports from a later stage than its own (or the runner and serving from
    each other): each is an arrow running back up the pipeline."""
    module = module_name(path)
    found = set()
    for imported in runtime_imports(path):
        target = ".".join(imported.split(".")[:2])
        if layer(target) > layer(module) or (
                layer(module) == layer(target) == len(STAGES) + 1 and
                target != ".".join(module.split(".")[:2])):
            found.add(imported)
    return found


def test_no_module_imports_a_later_stage() -> None:
    """Ground < data < model < training < evaluation < writing < runner, serving."""
    backwards = {module_name(path): sorted(imports) for path in python_files()
                 if (imports := later_stage_imports(path))}
    assert not backwards


def test_a_later_stage_import_is_caught(tmp_path: Path) -> None:
    """The check above fails on an arrow back up: training importing the writing stage."""
    module = PACKAGE / "training" / "fitting.py"
    assert not later_stage_imports(module)
    copy = tmp_path / "fitting.py"
    copy.write_text("from helpers.writing import curve_diagnosis\n" + module.read_text())
    assert later_stage_imports_as(copy, "helpers.training.fitting") == {
        "helpers.writing", "helpers.writing.curve_diagnosis"}


def later_stage_imports_as(path: Path, module: str) -> set[str]:
    """later_stage_imports for a file outside the package, read as the module named."""
    return {name for name in runtime_imports(path)
            if layer(".".join(name.split(".")[:2])) > layer(module)}


def test_serving_runs_models_through_inference_not_the_export_stage() -> None:
    for path in (PACKAGE / "serving").rglob("*.py"):
        assert not {name for name in imported_modules(path)
                    if name.startswith(("helpers.evaluation.export",
                                        "helpers.training"))}, path.name


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
