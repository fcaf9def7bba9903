"""Run the numbered notebooks in order with papermill: `python -m helpers.pipeline run -f FILE`."""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from helpers import artifacts

NOTEBOOKS = ("01_load_data", "02_preprocess", "03_build_model", "04_train", "05_evaluate",
             "06_misclassifications")
NOTEBOOKS_DIR = artifacts.PROJECT_ROOT / "notebooks"
RUNS_DIR = artifacts.PROJECT_ROOT / "reports" / "runs"
RUNNER_PARAMETERS = ("run_dir",)  # set by the runner itself, never by a params file

# The type of a notebook's default value -> the types a value given for it may have.
_ACCEPTED_TYPES: dict[type, tuple[type, ...]] = {
    int: (int,), float: (int, float), bool: (bool,), str: (str,), list: (list,), dict: (dict,),
}


def _print_flushed(text: str, end: str = "\n") -> None:
    print(text, end=end, flush=True)


class ParameterError(ValueError):
    """A parameter name or value that no notebook accepts."""


class StepFailedError(RuntimeError):
    """A notebook raised; the message names the notebook, the cell and the exception."""


def read_parameters_file(path: str | Path) -> dict[str, Any]:
    """The mapping of parameter names to values in a params/*.yaml file."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameters file {path} does not exist")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParameterError(f"{path}: not valid YAML: {error}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values, "
                             f"got {type(loaded).__name__}")
    return loaded


def parse_override(text: str) -> Any:
    """A `-p NAME VALUE` value read as YAML, so 3 is an int, 1e-3 a float, true a bool."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # YAML 1.1 reads 1e-3 as a string; people mean a number.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def declared_parameters(notebooks_dir: Path = NOTEBOOKS_DIR,
                        notebooks: Sequence[str] = NOTEBOOKS) -> dict[str, dict[str, Any]]:
    """For each notebook, the parameters its `parameters` cell declares (papermill's inspect)."""
    import papermill

    declared = {}
    for name in notebooks:
        path = notebooks_dir / f"{name}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"notebook {path} is missing")
        declared[name] = papermill.inspect_notebook(str(path))
    return declared


def check_parameters(parameters: Mapping[str, Any],
                     declared: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse, before any work, names no notebook declares and values of the wrong type."""
    known: dict[str, dict[str, Any]] = {}
    for notebook_parameters in declared.values():
        known.update(notebook_parameters)
    valid_names = sorted(set(known) - set(RUNNER_PARAMETERS))
    problems = []
    for name, value in parameters.items():
        if name in RUNNER_PARAMETERS:
            problems.append(f"{name!r} is set by the runner: use --run-dir instead")
        elif name not in known:
            problems.append(f"unknown parameter {name!r}")
        else:
            expected = _default_type(known[name])
            accepted = _ACCEPTED_TYPES.get(expected)
            if (accepted and value is not None and
                    (not isinstance(value, accepted) or
                     (isinstance(value, bool) and bool not in accepted))):
                problems.append(f"parameter {name!r} must be {expected.__name__} "
                                f"({known[name].get('help', '')}), got {value!r}")
    if problems:
        raise ParameterError("; ".join(problems) + f". Valid parameters: {', '.join(valid_names)}")


def _default_type(declaration: Mapping[str, Any]) -> type | None:
    """The type of a parameter's default in its notebook (None when the default is None)."""
    try:
        default = ast.literal_eval(declaration["default"])
    except (ValueError, SyntaxError):
        return None
    return None if default is None else type(default)


def new_run_dir(profile: str, runs_dir: Path = RUNS_DIR) -> Path:
    """A fresh folder reports/runs/<UTC time>-<profile>, never an existing one."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    candidate = runs_dir / f"{stamp}-{profile}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = runs_dir / f"{stamp}-{profile}-{suffix}"
    return candidate


def execute_steps(parameters: Mapping[str, Any], run_dir: Path,
                  declared: Mapping[str, Mapping[str, Any]], notebooks_dir: Path = NOTEBOOKS_DIR,
                  cell_timeout: float | None = None,
                  log: Callable[..., None] = _print_flushed) -> dict[str, float]:
    """Execute each notebook with the parameters it declares; seconds per step."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    timings: dict[str, float] = {}
    for position, (name, notebook_parameters) in enumerate(declared.items(), start=1):
        passed = {key: value for key, value in parameters.items() if key in notebook_parameters}
        passed["run_dir"] = str(run_dir)
        output = run_dir / f"{name}.ipynb"
        kernel_log = run_dir / "logs" / f"{name}.log"
        started = time.perf_counter()
        log(f"[{position}/{len(declared)}] {name:<22}", end="")
        try:
            with _stderr_to(kernel_log):
                papermill.execute_notebook(
                    str(notebooks_dir / f"{name}.ipynb"), str(output), parameters=passed,
                    kernel_name="python3", progress_bar=False, cwd=str(notebooks_dir),
                    execution_timeout=cell_timeout)
        except PapermillExecutionError as error:
            log("FAILED")
            raise StepFailedError(
                f"{name} failed in cell {error.cell_index} (In [{error.exec_count}]): "
                f"{error.ename}: {error.evalue}\nThe executed notebook, with the error, is "
                f"{output}; the kernel's log is {kernel_log}") from error
        except Exception as error:  # a dead kernel or a timeout is not a cell exception
            log("FAILED")
            raise StepFailedError(f"{name} failed: {type(error).__name__}: {error}\n"
                                  f"The executed notebook so far is {output}; the kernel's "
                                  f"log is {kernel_log}") from error
        timings[name] = round(time.perf_counter() - started, 2)
        log(f"done in {timings[name]:6.1f} s")
    return timings


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's and its kernels' native stderr to a log file for the duration.

    Kernels inherit file descriptor 2; their start-up warnings belong in the run's logs,
    not between the runner's progress lines.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as handle:
        os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def write_manifest(run_dir: Path, parameters: Mapping[str, Any], timings: Mapping[str, float],
                   started_at: str) -> Path:
    """manifest.json: what ran, on what, from which code and data, and how long each step took."""
    dataset_info_path = artifacts.artifact_path(run_dir, artifacts.DATASET_INFO)
    dataset_info = artifacts.read_json(dataset_info_path) if dataset_info_path.exists() else {}
    manifest = {
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": dict(parameters),
        "seed": parameters.get("seed"),
        "git": artifacts.git_state(),
        "versions": artifacts.package_versions(),
        "machine": artifacts.machine_info(),
        "dataset": {key: dataset_info.get(key) for key in ("name", "source", "files")},
        "step_seconds": dict(timings),
        "total_seconds": round(sum(timings.values()), 2),
    }
    return artifacts.write_json(artifacts.artifact_path(run_dir, artifacts.MANIFEST), manifest)


def run(parameters_file: Path, overrides: Sequence[tuple[str, str]], run_dir: Path | None,
        notebooks_dir: Path = NOTEBOOKS_DIR, cell_timeout: float | None = None,
        overwrite: bool = False, log: Callable[..., None] = _print_flushed) -> Path:
    """Check every parameter, then run the six notebooks into one run directory."""
    parameters = read_parameters_file(parameters_file)
    parameters.update({name: parse_override(value) for name, value in overrides})
    declared = declared_parameters(notebooks_dir)
    check_parameters(parameters, declared)
    # Relative paths are meant from where the command was typed, not from notebooks/.
    if parameters.get("data_dir"):
        parameters["data_dir"] = str(Path(parameters["data_dir"]).resolve())
    run_dir = (run_dir or new_run_dir(Path(parameters_file).stem)).resolve()
    if run_dir.exists() and any(run_dir.iterdir()) and not overwrite:
        raise ParameterError(f"run directory {run_dir} already holds a run: choose another "
                             "--run-dir, or pass --overwrite to replace it")
    run_dir.mkdir(parents=True, exist_ok=True)
    log(f"run directory: {run_dir}")
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    timings = execute_steps(parameters, run_dir, declared, notebooks_dir, cell_timeout, log)
    write_manifest(run_dir, parameters, timings, started_at)
    from helpers.report import build_report

    report = build_report(run_dir)
    metrics = artifacts.read_json(artifacts.artifact_path(run_dir, artifacts.METRICS))
    log(f"test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['f1_macro']:.4f}, "
        f"training {metrics['train_seconds']:.0f} s over {metrics['epochs_run']} epochs; "
        f"all steps {sum(timings.values()):.0f} s")
    log(f"report: {report}")
    return run_dir


REFERENCE_DIR = artifacts.PROJECT_ROOT / "reports" / "reference"
# What a committed reference keeps: the report material, none of the large arrays or models.
REFERENCE_PATTERNS = ("[0-9][0-9]_*.ipynb", "*.json", "*.csv", "*.txt", "figures/*.png")


def publish_reference(run_dir: Path, name: str, references_dir: Path = REFERENCE_DIR) -> Path:
    """Copy a finished run's small files to reports/reference/<name>/, replacing the old ones."""
    import shutil

    if not artifacts.artifact_path(run_dir, artifacts.MANIFEST).is_file():
        raise FileNotFoundError(f"{run_dir} has no {artifacts.MANIFEST}: only a finished run "
                                "can become a reference")
    destination = references_dir / name
    staging = references_dir / f".{name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    for pattern in REFERENCE_PATTERNS:
        for source in sorted(Path(run_dir).glob(pattern)):
            target = staging / source.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # Swap whole folders so a failure never leaves half an old and half a new reference.
    retired = references_dir / f".{name}.retired"
    shutil.rmtree(retired, ignore_errors=True)
    if destination.exists():
        destination.rename(retired)
    staging.rename(destination)
    shutil.rmtree(retired, ignore_errors=True)
    return destination


def execute_in_place(notebooks_dir: Path = NOTEBOOKS_DIR, cell_timeout: float = 1800) -> None:
    """Re-run notebooks/ top to bottom with their own defaults and save their outputs.

    This is how the committed outputs that nbval compares against are produced; tags and
    metadata are kept.
    """
    import nbformat
    from nbclient import NotebookClient

    for name in NOTEBOOKS:
        path = notebooks_dir / f"{name}.ipynb"
        _print_flushed(f"{name:<22}", end="")
        started = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(notebooks_dir)}}).execute()
        artifacts.write_text(path, nbformat.writes(notebook) + "\n")
        _print_flushed(f"done in {time.perf_counter() - started:6.1f} s")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the six notebooks into a run directory")
    run_parser.add_argument("-f", "--file", type=Path, required=True,
                            help="parameters YAML, e.g. params/default.yaml")
    run_parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                            metavar=("NAME", "VALUE"), help="override one parameter")
    run_parser.add_argument("--run-dir", type=Path, help="default: reports/runs/<time>-<profile>")
    run_parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    run_parser.add_argument("--cell-timeout", type=float, default=None,
                            help="seconds any one cell may run (default: no limit)")
    run_parser.add_argument("--overwrite", action="store_true",
                            help="allow reusing a run directory that already holds a run")
    report_parser = commands.add_parser("report", help="(re)build a run's report.html")
    report_parser.add_argument("run_dir", type=Path)
    publish_parser = commands.add_parser(
        "publish", help="copy a run's notebooks, metrics and figures to reports/reference/NAME")
    publish_parser.add_argument("run_dir", type=Path)
    publish_parser.add_argument("name")
    commands.add_parser("refresh-notebooks",
                        help="execute notebooks/ in place with their defaults (committed outputs)")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "run":
            run(arguments.file, arguments.parameter, arguments.run_dir,
                arguments.notebooks_dir.resolve(), arguments.cell_timeout, arguments.overwrite)
        elif arguments.command == "refresh-notebooks":
            execute_in_place()
        elif arguments.command == "publish":
            print(f"reference: {publish_reference(arguments.run_dir, arguments.name)}")
        else:
            from helpers.report import build_report

            print(f"report: {build_report(arguments.run_dir)}")
    except (ParameterError, StepFailedError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
