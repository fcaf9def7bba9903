"""The comparisons a params file declares, run through the sweep engine beside the run itself.

    <run_dir>/comparisons/optuna.journal      the variants' Optuna study
    <run_dir>/comparisons/<variant>/          one run directory per variant, to 05_evaluate
    <run_dir>/comparisons/logs/<variant>.log  every line the variant printed
    <run_dir>/comparisons/leaderboard.csv     the run and its variants, ranked on validation

The command line gives execute.run run_variants, which it calls before 08_conclusion; 08
reports the table (helpers.writing.brief_comparisons). Each variant is the same params file and `-p`
overrides plus the variant's own values; a continued run keeps the variants that finished
(the sweep's study).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.parameters import Comparison, ParameterError, RunParameters
from helpers.runner import leaderboard
from helpers.runner import sweep_trials as trials
from helpers.runner.sweep import SweepIncompleteError, outcome, prepare, run_workers
from helpers.runner.sweep_grid import SweepPoint, value_text
from helpers.runner.sweep_worker import Log, SweepSpec
from helpers.writing import brief_comparisons

STUDY_NAME = "comparisons"
VARIANT_DIMENSION = "variant"  # the Optuna parameter that tells the variants apart
LAST_STEP = "05_evaluate"  # the leaderboard needs validation and test figures, nothing later


def folder_name(variant_name: str) -> str:
    """A variant's run directory name: 'no batch normalization' -> 'no-batch-normalization'."""
    return re.sub(r"[^A-Za-z0-9._+]+", "-", variant_name).strip("-.").lower()


def variant_points(variants: Sequence[Comparison], parameters_file: Path,
                   overrides: Sequence[tuple[str, str]]) -> list[SweepPoint]:
    """One sweep point per variant: the run's file and overrides, then the variant's values."""
    points = [SweepPoint(folder_name(variant.name), parameters_file.resolve(),
                         (*map(tuple, overrides),
                          *((name, value_text(value)) for name, value in variant.set.items())),
                         ((VARIANT_DIMENSION, variant.name),))
              for variant in variants]
    folders = [point.name for point in points]
    repeated = sorted({name for name in folders if folders.count(name) > 1})
    if repeated:
        raise ValueError(f"comparisons: two variants' names make the same folder name "
                         f"{repeated[0]!r}; name them more differently")
    return points


def run_comparisons(variants: Sequence[Comparison], parameters_file: Path,
                    overrides: Sequence[tuple[str, str]], run_dir: Path,
                    base_values: Mapping[str, Any], notebooks_dir: Path,
                    cell_timeout: float | None, log: Log) -> Path:
    """Run every unfinished variant, then write the leaderboard of the run and its variants."""
    points = variant_points(variants, parameters_file, overrides)
    folder = run_dir / brief_comparisons.COMPARISONS_DIR
    spec = SweepSpec(STUDY_NAME, folder, None, tuple(points), LAST_STEP, notebooks_dir,
                     cell_timeout)
    if ran_otherwise(spec):
        log("comparisons: the variants ran with other parameters (this run is re-run with "
            "--from); they start afresh")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    study = prepare(spec, log)
    run_workers(spec, 1, log)
    failed = outcome(study, trials.open_storage(None, folder), points)[2]
    if failed:
        raise SweepIncompleteError(
            f"{len(failed)} of {len(points)} comparisons did not finish: {'; '.join(failed)}. "
            "Run the same command again to retry them; their logs are in "
            f"{folder / 'logs'}")
    return write_leaderboard(run_dir, variants, points, base_values)


def ran_otherwise(spec: SweepSpec) -> bool:
    """Whether the folder's study ran other variants or parameters than `spec` defines."""
    if not (spec.sweep_dir / trials.JOURNAL_FILE).is_file():
        return False
    try:
        study = trials.open_study(trials.open_storage(None, spec.sweep_dir), spec.name)
        trials.check_definition(study, spec.points, spec.to_step)
    except ParameterError:
        return True
    return False


def write_leaderboard(run_dir: Path, variants: Sequence[Comparison],
                      points: Sequence[SweepPoint], base_values: Mapping[str, Any]) -> Path:
    """leaderboard.csv: the run (BRIEF_RUN) and each variant, with what it changed."""
    folder = run_dir / brief_comparisons.COMPARISONS_DIR
    run_dirs = [run_dir, *(folder / point.name for point in points)]
    table = leaderboard.build(run_dirs, [brief_comparisons.BRIEF_RUN,
                                         *(variant.name for variant in variants)])
    changed = {variant.name: brief_comparisons.describe_change(base_values, variant.set)
               for variant in variants}
    table.insert(2, brief_comparisons.CHANGED_COLUMN, table["run"].map(changed).fillna(""))
    return leaderboard.write_csv(table, folder / brief_comparisons.LEADERBOARD_FILE)


def run_variants(checked: RunParameters, parameters_file: Path,
                 overrides: Sequence[tuple[str, str]], run_dir: Path, notebooks_dir: Path,
                 cell_timeout: float | None, log: Callable[..., None]) -> Path:
    """The file's comparisons, each variant run to 05_evaluate; their leaderboard.csv."""
    variants = checked.comparisons or []
    log(f"comparisons: {len(variants)} variant{'s' if len(variants) != 1 else ''} of this run "
        f"({', '.join(variant.name for variant in variants)}), each to 05_evaluate")
    started = time.perf_counter()
    board = run_comparisons(variants, parameters_file, overrides, run_dir, checked.model_dump(),
                            notebooks_dir, cell_timeout, log)
    log(f"comparisons: done in {time.perf_counter() - started:.1f} s, ranked on validation "
        f"accuracy in {board}")
    return board
