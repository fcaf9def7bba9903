"""Run the numbered notebooks in order with papermill: `python -m helpers.pipeline run -f FILE`."""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from helpers import artifacts, steps
from helpers.datasets import (
    CLASS_COUNTS,
    COLOR_MODES,
    LOAD_PARAMETERS,
    PATH_PARAMETERS,
    SUPPORTED_DATASETS,
)
from helpers.preprocess import LABEL_ENCODINGS
from helpers.streams import native_stderr_to

NOTEBOOKS = ("01_load_data", "02_preprocess", "03_build_model", "04_train", "05_evaluate",
             "06_misclassifications", "07_export")
NOTEBOOKS_DIR = artifacts.PROJECT_ROOT / "notebooks"
RUNS_DIR = artifacts.PROJECT_ROOT / "reports" / "runs"
RUNNER_PARAMETERS = ("run_dir",)  # set by the runner itself, never by a params file
LOAD_STEP = "01_load_data"
# Parameters that take one of two types (checked by VALUE_RULES rather than by their default's).
MIXED_TYPE_PARAMETERS = ("label_column", "image_size")

# The type of a notebook's default value -> the types a value given for it may have.
_ACCEPTED_TYPES: dict[type, tuple[type, ...]] = {
    int: (int,), float: (int, float), bool: (bool,), str: (str,), list: (list,), dict: (dict,),
}


def _print_flushed(text: str, end: str = "\n") -> None:
    print(text, end=end, flush=True)


def _is_whole(minimum: int) -> tuple[Callable[[Any], bool], str]:
    return (lambda value: isinstance(value, int) and value >= minimum,
            f"a whole number >= {minimum}")


def _one_of(*choices: str) -> tuple[Callable[[Any], bool], str]:
    return (lambda value: value in choices, f"one of {', '.join(choices)}")


def _whole_numbers(*lengths: int) -> tuple[Callable[[Any], bool], str]:
    return (lambda value: isinstance(value, list) and len(value) in lengths and all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 1 for size in value),
        f"a list of {' or '.join(map(str, lengths))} whole numbers >= 1")


# What each parameter may be, checked before any work. The helpers check the same things
# where they are used, so a notebook run by hand fails clearly too.
VALUE_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "dataset": _one_of(*SUPPORTED_DATASETS),
    "data_dir": (lambda value: isinstance(value, str), "a folder path"),
    "train_path": (lambda value: isinstance(value, str), "a file or folder path"),
    "test_path": (lambda value: isinstance(value, str), "a file or folder path"),
    "test_fraction": (lambda value: 0 < value < 1, "a fraction strictly between 0 and 1"),
    "label_column": (lambda value: isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool)),
        "a column name or a position (0 is the first column, -1 the last)"),
    "csv_header": (lambda value: isinstance(value, bool), "true, false or null (detect it)"),
    "image_shape": (lambda value: _whole_numbers(2, 3)[0](value) and (
        len(value) == 2 or value[2] in (1, 3)), "[height, width] or [height, width, 1 or 3]"),
    "class_names": (lambda value: isinstance(value, list) and len(value) >= 2 and all(
        isinstance(name, str) for name in value) and len(set(value)) == len(value),
        "a list of two or more different names"),
    "image_size": (lambda value: _whole_numbers(2)[0](value) or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 1),
        "a whole number >= 1 or [height, width]"),
    "color_mode": _one_of(*COLOR_MODES),
    "max_train_images": _is_whole(0),
    "max_test_images": _is_whole(0),
    "seed": _is_whole(0),
    "val_fraction": (lambda value: 0 < value < 1, "a fraction strictly between 0 and 1"),
    "label_encoding": _one_of(*LABEL_ENCODINGS),
    "conv_filters": (lambda value: isinstance(value, list) and len(value) > 0 and all(
        isinstance(filters, int) and filters >= 1 for filters in value),
        "a non-empty list of whole numbers >= 1, e.g. [32, 64]"),
    "kernel_size": _is_whole(1),
    "convs_per_block": _is_whole(1),
    "dense_units": _is_whole(1),
    "dropout_rate": (lambda value: 0 <= value < 1, "a fraction in [0, 1)"),
    "l2_weight": (lambda value: value >= 0, "zero or a positive number"),
    "learning_rate": (lambda value: value > 0, "a positive number, e.g. 0.001"),
    "lr_schedule": _one_of("constant", "cosine"),  # training.LR_SCHEDULES; that imports TF
    "batch_size": _is_whole(1),
    "epochs": _is_whole(1),
    "deterministic_ops": (lambda value: isinstance(value, bool), "true or false"),
    "augment_flip": (lambda value: isinstance(value, bool), "true or false"),
    "augment_shift": (lambda value: 0 <= value < 0.5, "a fraction in [0, 0.5)"),
    "augment_erase": (lambda value: 0 <= value <= 1, "a probability in [0, 1]"),
    "early_stopping_patience": _is_whole(0),
    "label_smoothing": (lambda value: 0 <= value < 1, "a fraction in [0, 1)"),
    "ema_momentum": (lambda value: 0 <= value < 1, "0 (off) or a momentum in (0, 1), e.g. 0.999"),
    # devices.PRECISIONS, XLA_SETTINGS and STRATEGIES; that module imports TF.
    "mixed_precision": _one_of("auto", "off", "float16", "bfloat16"),
    "xla": _one_of("auto", "off"),
    "strategy": _one_of("auto", "default", "mirrored", "multi_worker", "tpu"),
    "gallery_size": _is_whole(1),
    "top_pairs": _is_whole(1),
}


class ParameterError(ValueError):
    """A parameter name or value that no notebook accepts."""


class InputDataError(ValueError):
    """The dataset cannot be loaded (missing or malformed files); nothing was written."""


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
    known = _merged(declared)
    valid_names = sorted(set(known) - set(RUNNER_PARAMETERS))
    defaults = _defaults(known)
    problems = []
    for name, value in parameters.items():
        if name in RUNNER_PARAMETERS:
            problems.append(f"{name!r} is set by the runner: use --run-dir instead")
        elif name not in known:
            problems.append(f"unknown parameter {name!r}")
        else:
            default = defaults.get(name)
            expected = None if default is None else type(default)
            accepted = _ACCEPTED_TYPES.get(expected)
            if (accepted and value is not None and name not in MIXED_TYPE_PARAMETERS and
                    (not isinstance(value, accepted) or
                     (isinstance(value, bool) and bool not in accepted))):
                problems.append(f"parameter {name!r} must be {expected.__name__} "
                                f"({known[name].get('help', '')}), got {value!r}")
            elif name in VALUE_RULES and value is not None and not VALUE_RULES[name][0](value):
                problems.append(f"parameter {name!r} must be {VALUE_RULES[name][1]}, "
                                f"got {value!r}")
    if not problems:
        problems = _split_problems({**defaults, **parameters})
    if problems:
        raise ParameterError("; ".join(problems) + f". Valid parameters: {', '.join(valid_names)}")


def _merged(declared: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every notebook's parameter declarations in one mapping, by parameter name."""
    return {name: declaration for notebook_parameters in declared.values()
            for name, declaration in notebook_parameters.items()}


def _defaults(known: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Each parameter's default value as its notebook declares it."""
    defaults = {}
    for name, declaration in known.items():
        try:
            defaults[name] = ast.literal_eval(declaration["default"])
        except (ValueError, SyntaxError):
            continue
    return defaults


def _split_problems(parameters: Mapping[str, Any], classes: int | None = None) -> list[str]:
    """Subsets and splits too small to hold every class, caught before loading anything."""
    classes = classes or CLASS_COUNTS.get(parameters.get("dataset"))
    train_images, test_images = (parameters.get("max_train_images"),
                                 parameters.get("max_test_images"))
    if not classes:
        return []
    problems = []
    if train_images:
        validation_images = round(train_images * parameters["val_fraction"])
        if min(validation_images, train_images - validation_images) < classes:
            problems.append(
                f"max_train_images={train_images} with val_fraction="
                f"{parameters.get('val_fraction')} leaves a training or validation split of "
                f"fewer than {classes} images, so some class would be empty")
    if test_images and test_images < classes:
        problems.append(f"max_test_images={test_images} is fewer than the {classes} classes: "
                        "some class would have no test image")
    return problems


def check_dataset(parameters: Mapping[str, Any]) -> None:
    """Load the dataset as 01_load_data will, so bad input fails before the run dir is touched.

    This reads the data twice (here and in the notebook), a few seconds for the largest
    datasets, in exchange for never leaving a half-started or wiped run behind.
    """
    from helpers.datasets import load_dataset

    arguments = {name: value for name, value in parameters.items() if name in LOAD_PARAMETERS}
    try:
        data = load_dataset(**arguments)
    except (ValueError, FileNotFoundError) as error:
        raise InputDataError(f"dataset {arguments.get('dataset')!r} cannot be loaded, so "
                             f"nothing was run or written: {error}") from error
    problems = _split_problems(parameters, len(data.class_names))
    if problems:
        raise ParameterError("; ".join(problems))


def new_run_dir(profile: str, runs_dir: Path = RUNS_DIR) -> Path:
    """A fresh folder reports/runs/<UTC time>-<profile>, never an existing one."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    candidate = runs_dir / f"{stamp}-{profile}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = runs_dir / f"{stamp}-{profile}-{suffix}"
    return candidate


def execute_steps(step_plan: Sequence[steps.StepPlan],
                  parameters_by_step: Mapping[str, Mapping[str, Any]], run_dir: Path,
                  notebooks_dir: Path = NOTEBOOKS_DIR, cell_timeout: float | None = None,
                  log: Callable[..., None] = _print_flushed) -> None:
    """Execute the planned notebooks in order, recording each in steps.json."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    for position, step in enumerate(step_plan, start=1):
        name = step.name
        label = f"[{position}/{len(step_plan)}] {name:<22}"
        if not step.runs:
            log(f"{label}{step.reason}")
            continue
        notebook = notebooks_dir / f"{name}.ipynb"
        passed = dict(parameters_by_step[name])
        steps.record(run_dir, name, steps.STARTED, passed, "")
        output = run_dir / f"{name}.ipynb"
        kernel_log = run_dir / "logs" / f"{name}.log"
        started = time.perf_counter()
        log(label + ("resuming, " if step.reason == "resuming" else ""), end="")
        try:
            # Kernels inherit file descriptor 2: their start-up warnings belong in the
            # run's logs, not between the runner's progress lines.
            with native_stderr_to(kernel_log):
                # Every file a step writes is complete once its last cell has run, so the
                # kernel is stopped at once: a graceful shutdown waits 1-2 s per notebook for
                # TensorFlow's threads to wind down (about 5 s of the six notebooks' overhead).
                papermill.execute_notebook(
                    str(notebook), str(output), parameters={**passed, "run_dir": str(run_dir)},
                    kernel_name="python3", progress_bar=False, cwd=str(notebooks_dir),
                    execution_timeout=cell_timeout, shutdown_kernel="immediate")
        except PapermillExecutionError as error:
            log("FAILED")
            raise StepFailedError(
                f"{name} failed in cell {error.cell_index} (In [{error.exec_count}]): "
                f"{error.ename}: {error.evalue}\nThe executed notebook, with the error, is "
                f"{output}; the kernel's log is {kernel_log}") from error
        except CellTimeoutError as error:
            log("FAILED")
            raise StepFailedError(
                f"{name} failed: a cell ran longer than --cell-timeout {cell_timeout:g} s "
                f"({error})\nThe executed notebook so far is {output}") from error
        except DeadKernelError as error:
            log("FAILED")
            raise StepFailedError(
                f"{name} failed: its kernel died (killed, or out of memory: "
                f"try a smaller batch_size or max_train_images)\nThe executed notebook so far "
                f"is {output}; the kernel's log is {kernel_log}") from error
        seconds = round(time.perf_counter() - started, 2)
        steps.record(run_dir, name, steps.COMPLETED, passed,
                     steps.fingerprint(name, passed, notebook, run_dir), seconds)
        log(f"done in {seconds:6.1f} s")


def write_manifest(run_dir: Path, parameters: Mapping[str, Any],
                   step_state: Mapping[str, Mapping[str, Any]], started_at: str) -> Path:
    """manifest.json: what ran, on what, from which code and data, and how long each step took."""
    dataset_info = _read_if_present(run_dir, artifacts.DATASET_INFO)
    # The training kernel reported its devices; asking TensorFlow here again would cost
    # the runner a TensorFlow import.
    devices = _read_if_present(run_dir, artifacts.TRAINING_INFO).get("devices", [])
    step_seconds = {name: record.get("seconds") for name, record in step_state.items()}
    manifest = {
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": dict(parameters),
        "seed": parameters.get("seed"),
        "git": artifacts.git_state(),
        "versions": artifacts.package_versions(),
        "machine": artifacts.machine_info([device for device in devices if device != "CPU"]),
        "dataset": {key: dataset_info.get(key) for key in ("name", "source", "files")},
        "step_seconds": step_seconds,
        "total_seconds": round(sum(seconds or 0 for seconds in step_seconds.values()), 2),
    }
    return artifacts.write_json(artifacts.artifact_path(run_dir, artifacts.MANIFEST), manifest)


def _read_if_present(run_dir: Path, name: str) -> dict[str, Any]:
    path = artifacts.artifact_path(run_dir, name)
    return artifacts.read_json(path) if path.is_file() else {}


def run(parameters_file: Path, overrides: Sequence[tuple[str, str]], run_dir: Path | None,
        notebooks_dir: Path = NOTEBOOKS_DIR, cell_timeout: float | None = None,
        overwrite: bool = False, from_step: str | None = None, to_step: str | None = None,
        log: Callable[..., None] = _print_flushed) -> Path:
    """Check every parameter, plan the steps, then run the notebooks into one run directory.

    A new run directory runs every step. An unfinished one (killed, or stopped by --to) is
    continued: finished steps whose fingerprint is unchanged are skipped. A finished one is
    refused unless --from re-runs its later steps or --overwrite starts it afresh.
    """
    parameters = read_parameters_file(parameters_file)
    parameters.update({name: parse_override(value) for name, value in overrides})
    declared = declared_parameters(notebooks_dir)
    check_parameters(parameters, declared)
    # Relative paths are meant from where the command was typed, not from notebooks/.
    for name in PATH_PARAMETERS:
        if parameters.get(name):
            parameters[name] = str(Path(parameters[name]).resolve())
    run_dir = (run_dir or new_run_dir(Path(parameters_file).stem)).resolve()
    parameters_by_step = {name: {key: value for key, value in parameters.items()
                                 if key in declared_names}
                          for name, declared_names in declared.items()}
    state = steps.read_state(run_dir)
    holds_files = run_dir.is_dir() and any(run_dir.iterdir())
    if holds_files and overwrite:
        state = {}  # the old files go only once the new data is known to load
    elif holds_files and not state:
        raise ParameterError(f"run directory {run_dir} holds files but no {steps.STEPS_STATE}: "
                             "choose another --run-dir, or pass --overwrite to replace it")
    elif (state and from_step is None and to_step is None
          and all(state.get(name, {}).get("status") == steps.COMPLETED for name in declared)):
        raise ParameterError(f"run directory {run_dir} already holds a finished run: re-run "
                             "some of its steps with --from STEP, choose another --run-dir, "
                             "or pass --overwrite to replace it")
    fingerprints = {name: steps.fingerprint(name, parameters_by_step[name],
                                            notebooks_dir / f"{name}.ipynb", run_dir)
                    for name in state if name in declared}
    step_plan = steps.plan(list(declared), state, parameters_by_step, fingerprints,
                           from_step, to_step)
    if any(step.runs for step in step_plan if step.name == LOAD_STEP):
        check_dataset({**_defaults(_merged(declared)), **parameters})
    if holds_files and overwrite:
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    log(f"run directory: {run_dir}")
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    execute_steps(step_plan, parameters_by_step, run_dir, notebooks_dir, cell_timeout, log)
    write_manifest(run_dir, parameters, steps.read_state(run_dir), started_at)
    from helpers.report import build_report

    report = build_report(run_dir)
    metrics_path = artifacts.artifact_path(run_dir, artifacts.METRICS)
    if metrics_path.is_file():
        metrics = artifacts.read_json(metrics_path)
        log(f"test accuracy {metrics['test_accuracy']:.4f}, macro F1 "
            f"{metrics['f1_macro']:.4f}, training {metrics['train_seconds']:.0f} s over "
            f"{metrics['epochs_run']} epochs")
    log(f"report: {report}")
    return run_dir


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
    run_parser.add_argument("--overwrite", "--fresh", action="store_true",
                            help="delete what the run directory holds and start afresh")
    run_parser.add_argument("--from", dest="from_step", choices=NOTEBOOKS,
                            help="re-run this step and the later ones of an existing run")
    run_parser.add_argument("--to", dest="to_step", choices=NOTEBOOKS,
                            help="stop after this step")
    report_parser = commands.add_parser("report", help="(re)build a run's report.html")
    report_parser.add_argument("run_dir", type=Path)
    publish_parser = commands.add_parser(
        "publish", help="copy a run's notebooks, metrics and figures to reports/reference/NAME")
    publish_parser.add_argument("run_dir", type=Path)
    publish_parser.add_argument("name")
    publish_parser.add_argument(
        "--seed-runs", nargs="+", type=Path, default=[], metavar="RUN_DIR",
        help="the same profile run with other seeds: the median run is published and "
             "metrics.json lists every seed's accuracy")
    commands.add_parser("refresh-notebooks",
                        help="execute notebooks/ in place with their defaults (committed outputs)")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "run":
            run(arguments.file, arguments.parameter, arguments.run_dir,
                arguments.notebooks_dir.resolve(), arguments.cell_timeout, arguments.overwrite,
                arguments.from_step, arguments.to_step)
        elif arguments.command == "refresh-notebooks":
            execute_in_place()
        elif arguments.command == "publish":
            from helpers.report import publish_reference

            reference = publish_reference(arguments.run_dir, arguments.name,
                                          other_seed_runs=tuple(arguments.seed_runs))
            print(f"reference: {reference}")
        else:
            from helpers.report import build_report

            print(f"report: {build_report(arguments.run_dir)}")
    except (ParameterError, InputDataError, steps.RunStateError, StepFailedError,
            FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
