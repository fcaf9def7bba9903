"""One's own network from a Python file (architecture `file`).

`model_file` names the file: an absolute path as it is, a relative one from the project root
(the folder holding params/ and helpers/), wherever the notebook or the runner runs.
`model_function` (default build_model) is called as function(input_shape, num_classes), or with
those two as keyword arguments when its signature names them. What it returns is checked for
what every later step needs; anything else is refused with a ValueError naming the file and
what is expected (EXPECTED).

03 copies the file into the run directory as model_source.py (07 into export/ too), and
loading a model (helpers.model.networks.load_model) imports the copy beside it first: its
custom layers register themselves, so model.keras loads in safe mode in 04-07 and in the
server without anything from outside the run directory.
"""

from __future__ import annotations

import hashlib
import inspect
import shutil
import sys
import traceback
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import artifacts
from helpers.backend import keras
from helpers.model.own_model_checks import check_model
from helpers.parameters import RunParameters

MODEL_SOURCE = "model_source.py"  # the file's copy in the run directory and in export/
MODULE_PREFIX = "model_source_"  # + the source's SHA-256: one module per distinct text
EXPECTED = ("a function {function}(input_shape, num_classes) that returns a keras.Model "
            "(functional or Sequential) taking raw 0-255 pixels of input_shape and ending in a "
            "softmax over num_classes")
_EXECUTED: dict[Path, str] = {}  # each file's text as it was last run


def resolve_model_file(model_file: str | Path) -> Path:
    """The file model_file names: relative paths are read from the project root."""
    path = Path(model_file).expanduser()
    return path if path.is_absolute() else artifacts.PROJECT_ROOT / path


def _read_source(path: Path) -> str:
    if not path.is_file():
        raise ValueError(f"model_file {path} does not exist (a relative model_file is read from "
                         f"the project root, {artifacts.PROJECT_ROOT})")
    if path.suffix != ".py":
        raise ValueError(f"model_file {path} is not a Python file: it must end in .py")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"model_file {path} is not UTF-8 text ({error})") from None


def _line(error: BaseException, path: Path) -> str:
    """', line N' of the deepest traceback frame in the user's file, or ''."""
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename) == path]
    return f", line {lines[-1]}" if lines else ""


def import_file(path: Path) -> types.ModuleType:
    """The file run as a module (once per distinct text): its custom layers register."""
    source = _read_source(path)
    name = MODULE_PREFIX + hashlib.sha256(source.encode()).hexdigest()[:16]
    _EXECUTED[path] = source
    if name in sys.modules:
        return sys.modules[name]
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as error:
        text = (error.text or "").strip()
        raise ValueError(f"model_file {path}, line {error.lineno}: {error.msg} (a syntax "
                         f"error{f' in {text!r}' if text else ''})") from None
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # before running it: dataclasses and pickling look it up
    try:
        exec(code, module.__dict__)  # noqa: S102 - the user's own model file, by design
    except Exception as error:
        del sys.modules[name]
        raise ValueError(f"model_file {path}{_line(error, path)}: running the file raised "
                         f"{type(error).__name__}: {error}") from error
    return module


def _function(module: types.ModuleType, path: Path, name: str) -> Callable[..., Any]:
    function = getattr(module, name, None)
    if callable(function):
        return function
    defined = sorted(key for key, value in vars(module).items()
                     if inspect.isfunction(value) and value.__module__ == module.__name__)
    found = (f"it defines {', '.join(defined)}" if defined else "it defines no function")
    what = "no function" if function is None else f"{type(function).__name__}, not a function,"
    raise ValueError(f"model_file {path} has {what} named {name!r} (model_function); {found}. "
                     f"Expected {EXPECTED.format(function=name)}")


def _call(function: Callable[..., Any], path: Path, name: str, input_shape: tuple[int, ...],
          num_classes: int) -> Any:
    """function(input_shape, num_classes), by keyword when it names them."""
    try:
        signature: inspect.Signature | None = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None
    by_keyword = signature is not None and {"input_shape", "num_classes"} <= set(
        signature.parameters)
    arguments: tuple[Any, ...] = () if by_keyword else (input_shape, num_classes)
    keywords = {"input_shape": input_shape, "num_classes": num_classes} if by_keyword else {}
    if signature is not None:
        try:
            signature.bind(*arguments, **keywords)
        except TypeError:
            raise ValueError(f"model_file {path}: {name}{signature} cannot be called as "
                             f"{name}(input_shape, num_classes): it must take those two "
                             "arguments, by position or as keywords of those names") from None
    try:
        return function(*arguments, **keywords)
    except Exception as error:
        raise ValueError(f"model_file {path}{_line(error, path)}: {name}(input_shape="
                         f"{input_shape}, num_classes={num_classes}) raised "
                         f"{type(error).__name__}: {error}") from error


def build_model_from_file(model_file: str | Path, function: str, input_shape: Sequence[int],
                          num_classes: int) -> keras.Model:
    """The model the file's function returns for this data, checked."""
    path = resolve_model_file(model_file)
    shape = tuple(int(size) for size in input_shape)
    built = _call(_function(import_file(path), path, function), path, function, shape,
                  int(num_classes))
    return check_model(built, path, function, shape, int(num_classes))


def build_file_kind(input_shape: Sequence[int], num_classes: int,
                    architecture: Mapping[str, Any]) -> keras.Model:
    """file: the catalog's builder, from the model_file and model_function parameters."""
    return build_model_from_file(architecture["model_file"], architecture["model_function"],
                                 input_shape, num_classes)


def source_text(model_file: str | Path) -> str:
    """The file's text as it was run (as it is now, if it has not been run here)."""
    path = resolve_model_file(model_file)
    return _EXECUTED.get(path) or _read_source(path)


def keep_source(run_dir: str | Path, parameters: RunParameters) -> list[str]:
    """03: the file's text, as it ran, copied into the run directory; the names written."""
    target = Path(run_dir) / MODEL_SOURCE
    if parameters.architecture != "file":
        target.unlink(missing_ok=True)  # a run directory reused for another network
        return []
    text = source_text(parameters.model_file)
    with artifacts.atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return [MODEL_SOURCE]


def copy_source(source_folder: Path, target_folder: Path) -> Path | None:
    """model_source.py copied from one folder to another, when there is one (07: export/)."""
    source = source_folder / MODEL_SOURCE
    if not source.is_file():
        return None
    return artifacts.save_with(target_folder / MODEL_SOURCE,
                               lambda temporary: shutil.copyfile(source, temporary))


def import_saved_source(model_path: Path) -> None:
    """Import the model_source.py beside a saved model, when there is one (for a model in
    export/ or checkpoints/ without its own copy, the run directory's)."""
    folders = [model_path.parent]
    if model_path.parent.name in (artifacts.EXPORT_DIR, "checkpoints"):
        folders.append(model_path.parent.parent)
    for folder in folders:
        if (folder / MODEL_SOURCE).is_file():
            import_file((folder / MODEL_SOURCE).resolve())
            return


def source_markdown(parameters: RunParameters) -> str:
    """03's listing for architecture `file`: the file as it ran, and where its copy is."""
    path = resolve_model_file(str(parameters.model_file))
    shown = artifacts.inside_project(path) or path
    return (f"`{parameters.model_function}` in `{shown}` returns the network; the file as it "
            f"ran (copied into the run directory as `{MODEL_SOURCE}`, which 04-07 and the "
            f"server import before loading the model):\n\n```python\n"
            f"{source_text(str(parameters.model_file)).rstrip()}\n```")
