"""Run the numbered notebooks in order with papermill, into one run directory.

The library side of the runner: `helpers.runner.cli` is its command line.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers import artifacts, colab, parameters
from helpers.data.datasets import load_arguments
from helpers.parameters import ParameterError
from helpers.records import MetricsRecord, read_record_if_present
from helpers.runner import portable, steps
from helpers.runner.exceptions import InputDataError, StepFailedError
from helpers.runner.live import EpochTail
from helpers.runner.manifest import write_manifest
from helpers.streams import native_stderr_to

NOTEBOOKS = ("01_load_data", "02_preprocess", "03_build_model", "04_train", "05_evaluate",
             "06_misclassifications", "07_export", "08_conclusion")
NOTEBOOKS_DIR = artifacts.PROJECT_ROOT / "notebooks"
RUNS_DIR = artifacts.PROJECT_ROOT / "reports" / "runs"
LOAD_STEP = "01_load_data"
CONCLUSION_STEP = "08_conclusion"  # reports the comparisons, so they run before it


def _print_flushed(text: str, end: str = "\n") -> None:
    print(text, end=end, flush=True)


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


def check_dataset(checked: parameters.RunParameters) -> None:
    """Load the dataset as 01_load_data will, so bad input fails before the run dir is touched.

    This reads the data twice (here and in the notebook), a few seconds for the largest
    datasets, in exchange for never leaving a half-started or wiped run behind.
    """
    from helpers.data.datasets import load_dataset

    arguments = load_arguments(checked)
    try:
        data = load_dataset(**arguments)
    except (ValueError, FileNotFoundError) as error:
        raise InputDataError(f"dataset {arguments.get('dataset')!r} cannot be loaded, so "
                             f"nothing was run or written: {error}") from error
    problems = parameters.subset_problems(checked, len(data.class_names))
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
                  log: Callable[..., None] = _print_flushed,
                  before_step: Mapping[str, Callable[[], object]] | None = None) -> None:
    """Execute the planned notebooks in order, recording each in steps.json.

    One line per step; while a step trains, its epochs are shown as they finish.
    `before_step` names work to do before a step that runs (the comparisons before 08).
    """
    for position, step in enumerate(step_plan, start=1):
        name = step.name
        label = f"[{position}/{len(step_plan)}] {name:<22}"
        if not step.runs:
            log(f"{label}{step.reason}")
            continue
        if before_step and name in before_step:
            before_step[name]()
        if step.reason != "resuming":
            steps.forget_interrupted_training(run_dir)
        notebook = notebooks_dir / f"{name}.ipynb"
        passed = dict(parameters_by_step[name])
        steps.record(run_dir, name, steps.STARTED, passed, "")
        started = time.perf_counter()
        log(label + ("resuming, " if step.reason == "resuming" else ""), end="")
        epochs = EpochTail(artifacts.artifact_path(run_dir, artifacts.EPOCH_LOG), log)
        try:
            with epochs:
                execute_notebook(notebook, run_dir, passed, notebooks_dir, cell_timeout)
        except StepFailedError:
            log(f"{label}FAILED" if epochs.lines_shown else "FAILED")
            raise
        seconds = round(time.perf_counter() - started, 2)
        steps.record(run_dir, name, steps.COMPLETED, passed,
                     steps.fingerprint(name, passed, notebook, run_dir), seconds)
        log(f"{label if epochs.lines_shown else ''}done in {seconds:6.1f} s")


def execute_notebook(notebook: Path, run_dir: Path, parameters: Mapping[str, Any],
                     notebooks_dir: Path, cell_timeout: float | None) -> Path:
    """Run one notebook into the run directory; a failure names the cell and the log."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    name = notebook.stem
    output = run_dir / notebook.name
    kernel_log = run_dir / "logs" / f"{name}.log"
    try:
        # Kernels inherit file descriptor 2: their start-up warnings belong in the
        # run's logs, not between the runner's progress lines.
        with native_stderr_to(kernel_log):
            # Every file a step writes is complete once its last cell has run, so the
            # kernel is stopped at once: a graceful shutdown waits 1-2 s per notebook for
            # TensorFlow's threads to wind down (about 5 s of the notebooks' overhead).
            papermill.execute_notebook(
                str(notebook), str(output),
                parameters=portable.kernel_parameters(parameters, run_dir),
                kernel_name="python3", progress_bar=False, cwd=str(notebooks_dir),
                execution_timeout=cell_timeout, shutdown_kernel="immediate")
    except PapermillExecutionError as error:
        raise StepFailedError(
            f"{name} failed in cell {error.cell_index} (In [{error.exec_count}]): "
            f"{error.ename}: {error.evalue}\nThe executed notebook, with the error, is "
            f"{output}; the kernel's log is {kernel_log}") from error
    except CellTimeoutError as error:
        raise StepFailedError(
            f"{name} failed: a cell ran longer than --cell-timeout {cell_timeout:g} s "
            f"({error})\nThe executed notebook so far is {output}") from error
    except DeadKernelError as error:
        raise StepFailedError(
            f"{name} failed: its kernel died (killed, or out of memory: "
            f"try a smaller batch_size or max_train_images)\nThe executed notebook so far "
            f"is {output}; the kernel's log is {kernel_log}") from error
    # The kernel needed this machine's paths; the notebook keeps them relative to the project.
    portable.rewrite_injected(output, parameters, portable.run_dir_name(run_dir))
    return output


def _resumable_state(run_dir: Path, holds_files: bool, overwrite: bool,
                     declared: Sequence[str], whole_run: bool) -> dict:
    """The run directory's step state, or a ParameterError when it may not be run into."""
    state = steps.read_state(run_dir)
    if holds_files and overwrite:
        return {}  # the old files go only once the new data is known to load
    if holds_files and not state:
        raise ParameterError(f"run directory {run_dir} holds files but no {steps.STEPS_STATE}: "
                             "choose another --run-dir, or pass --overwrite to replace it")
    if (state and whole_run
            and all(state.get(name, {}).get("status") == steps.COMPLETED for name in declared)):
        raise ParameterError(f"run directory {run_dir} already holds a finished run: re-run "
                             "some of its steps with --from STEP, choose another --run-dir, "
                             "or pass --overwrite to replace it")
    return state


def run(parameters_file: Path, overrides: Sequence[tuple[str, str]], run_dir: Path | None,
        notebooks_dir: Path = NOTEBOOKS_DIR, cell_timeout: float | None = None,
        overwrite: bool = False, from_step: str | None = None, to_step: str | None = None,
        log: Callable[..., None] = _print_flushed,
        comparisons: Callable[..., Path] | None = None) -> Path:
    """Check every parameter, plan the steps, then run the notebooks into one run directory.

    A new run directory runs every step. An unfinished one (killed, or stopped by --to) is
    continued: finished steps whose fingerprint is unchanged are skipped. A finished one is
    refused unless --from re-runs its later steps or --overwrite starts it afresh.
    `comparisons` (sweep_comparisons.run_variants, passed in since the sweep imports this
    module) runs the file's comparisons before 08_conclusion; a sweep's point passes none.
    """
    given = parameters.read_parameters_file(parameters_file)
    given.update({name: parameters.parse_override(value) for name, value in overrides})
    checked = parameters.validate(given)  # before any work, every problem at once
    declared = declared_parameters(notebooks_dir)
    # Relative paths are meant from where the command was typed, not from notebooks/: the
    # records keep them relative to the project root, the check loads the data by them.
    given = portable.recorded_parameters(given)
    checked = checked.model_copy(update=portable.absolute_data_paths(given))
    run_dir = (run_dir or new_run_dir(Path(parameters_file).stem)).resolve()
    parameters_by_step = {name: {key: value for key, value in given.items()
                                 if key in declared_names}
                          for name, declared_names in declared.items()}
    holds_files = run_dir.is_dir() and any(run_dir.iterdir())
    state = _resumable_state(run_dir, holds_files, overwrite, list(declared),
                             from_step is None and to_step is None)
    fingerprints = {name: steps.fingerprint(name, parameters_by_step[name],
                                            notebooks_dir / f"{name}.ipynb", run_dir)
                    for name in state if name in declared}
    step_plan = steps.plan(list(declared), state, parameters_by_step, fingerprints,
                           from_step, to_step)
    if any(step.runs for step in step_plan if step.name == LOAD_STEP):
        check_dataset(checked)
    if holds_files and overwrite:
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    log(f"run directory: {run_dir}")
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    before_step = {}
    if (comparisons and checked.comparisons
            and any(step.runs and step.name == CONCLUSION_STEP for step in step_plan)):
        before_step[CONCLUSION_STEP] = lambda: comparisons(
            checked, Path(parameters_file), overrides, run_dir, notebooks_dir, cell_timeout, log)
    execute_steps(step_plan, parameters_by_step, run_dir, notebooks_dir, cell_timeout, log,
                  before_step)
    write_manifest(run_dir, given, steps.read_state(run_dir), started_at, parameters_file,
                   {name: given[name] for name, _ in overrides})
    from helpers.runner.report import build_report

    report = build_report(run_dir)
    metrics = read_record_if_present(run_dir, MetricsRecord)
    if metrics:
        log(f"test accuracy {metrics.test_accuracy:.4f}, macro F1 {metrics.f1_macro:.4f}, "
            f"training {metrics.train_seconds:.0f} s over {metrics.epochs_run} epochs")
    for line in report.lines():  # report.html, then report.pdf or how to get one
        log(line)
    return run_dir


def execute_in_place(notebooks_dir: Path = NOTEBOOKS_DIR, cell_timeout: float = 1800) -> None:
    """Re-run notebooks/ top to bottom with their own defaults and save their outputs.

    This is how the committed outputs that nbval compares against are produced; tags and
    metadata are kept, and each notebook's first cell is set to helpers.colab.SETUP_CELL.
    """
    import nbformat
    from nbclient import NotebookClient

    for name in NOTEBOOKS:
        path = notebooks_dir / f"{name}.ipynb"
        _print_flushed(f"{name:<22}", end="")
        started = time.perf_counter()
        notebook = nbformat.from_dict(colab.with_setup_cell(nbformat.read(path, as_version=4)))
        NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(notebooks_dir)}}).execute()
        artifacts.write_text(path, nbformat.writes(notebook) + "\n")
        _print_flushed(f"done in {time.perf_counter() - started:6.1f} s")
