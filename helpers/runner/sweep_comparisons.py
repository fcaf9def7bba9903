"""The comparisons a params file declares, run through the sweep engine beside the run itself,
each network (the run's own and every variant) with several seeds.

    <run_dir>/comparisons/optuna.journal             the comparison's Optuna study
    <run_dir>/comparisons/<network>_seed<S>/         one run directory per network and seed
    <run_dir>/comparisons/logs/<network>_seed<S>.log every line that run printed
    <run_dir>/comparisons/runs.csv                   every run: network, seed and its figures
    <run_dir>/comparisons/leaderboard.csv            one row per network: means over the seeds

The seeds are the run's `seed` and the next ones (seed + 1, seed + 2, ...: comparison_seeds of
them); the run itself is its network's first seed. Every run keeps the run's split
(`split_seed`), so the seeds change the initial weights, the batch order, dropout and
augmentation, never the data. The command line gives execute.run run_variants, which it calls
before 08_conclusion; 08 reports them (helpers.writing.brief_comparisons). A continued run keeps
the runs that finished (the sweep's study).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import artifacts
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


def comparison_seeds(seed: int, count: int) -> list[int]:
    """The seeds each network is trained with: the run's own, then the next ones."""
    return [seed + index for index in range(count)]


def variant_points(variants: Sequence[Comparison], parameters_file: Path,
                   overrides: Sequence[tuple[str, str]], seeds: Sequence[int] = (0,),
                   split_seed: int | None = None) -> list[SweepPoint]:
    """One sweep point per network and seed, the run itself (its network's first seed) aside:
    the run's file and overrides, then the network's values, its seed and the run's split."""
    networks = [(brief_comparisons.BRIEF_RUN, {}),
                *((variant.name, variant.set) for variant in variants)]
    names = [folder_name(name) for name, _ in networks]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"comparisons: two variants' names make the same folder name "
                         f"{repeated[0]!r}; name them more differently")
    keep_split = (("split_seed", str(split_seed)),) if split_seed is not None else ()
    return [SweepPoint(f"{folder}_seed{seed}", parameters_file.resolve(),
                       (*map(tuple, overrides),
                        *((name, value_text(value)) for name, value in changes.items()),
                        ("seed", str(seed)), *keep_split),
                       ((VARIANT_DIMENSION, name), ("seed", seed)))
            for (name, changes), folder in zip(networks, names, strict=True)
            for seed in seeds
            if (name, seed) != (brief_comparisons.BRIEF_RUN, seeds[0])]


def run_comparisons(variants: Sequence[Comparison], parameters_file: Path,
                    overrides: Sequence[tuple[str, str]], run_dir: Path,
                    base_values: Mapping[str, Any], notebooks_dir: Path,
                    cell_timeout: float | None, log: Log) -> Path:
    """Run every unfinished network and seed, then write runs.csv and the leaderboard."""
    seed = int(base_values["seed"])
    split_seed = base_values.get("split_seed")
    points = variant_points(variants, parameters_file, overrides,
                            comparison_seeds(seed, int(base_values["comparison_seeds"])),
                            seed if split_seed is None else int(split_seed))
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
    """runs.csv (every network and seed, with what the network changed) and leaderboard.csv
    (one row per network: the means over its seeds, ranked on validation accuracy)."""
    folder = run_dir / brief_comparisons.COMPARISONS_DIR
    swept = [dict(point.swept) for point in points]
    networks = [brief_comparisons.BRIEF_RUN, *(values[VARIANT_DIMENSION] for values in swept)]
    seeds = [int(base_values["seed"]), *(values["seed"] for values in swept)]
    table = leaderboard.build([run_dir, *(folder / point.name for point in points)],
                              [brief_comparisons.run_label(network, seed)
                               for network, seed in zip(networks, seeds, strict=True)])
    by_label = {brief_comparisons.run_label(network, seed): (network, seed)
                for network, seed in zip(networks, seeds, strict=True)}
    changed = {variant.name: brief_comparisons.describe_change(base_values, variant.set)
               for variant in variants}
    # The seeds are a column of their own, whichever parameters the networks differ in.
    table = table.drop(columns=["seed", "split_seed"], errors="ignore")
    table.insert(2, brief_comparisons.NETWORK_COLUMN, [by_label[run][0] for run in table["run"]])
    table.insert(3, "seed", [by_label[run][1] for run in table["run"]])
    table.insert(4, brief_comparisons.CHANGED_COLUMN,
                 table[brief_comparisons.NETWORK_COLUMN].map(changed).fillna(""))
    leaderboard.write_csv(table, folder / brief_comparisons.RUNS_FILE)
    # What 08 needs to read the comparison as an experiment: the run's values and each
    # variant's changes (what a variant takes out), without the manifest written after it.
    artifacts.write_text(folder / brief_comparisons.DESIGN_FILE, json.dumps(
        {"base": dict(base_values), "variants": [{"name": variant.name, "set": variant.set}
                                                 for variant in variants]},
        indent=2, default=str) + "\n")
    return leaderboard.write_csv(brief_comparisons.network_means(table),
                                 folder / brief_comparisons.LEADERBOARD_FILE)


def run_variants(checked: RunParameters, parameters_file: Path,
                 overrides: Sequence[tuple[str, str]], run_dir: Path, notebooks_dir: Path,
                 cell_timeout: float | None, log: Callable[..., None]) -> Path:
    """The file's comparisons, each variant run to 05_evaluate; their leaderboard.csv."""
    variants = checked.comparisons or []
    log(f"comparisons: {len(variants)} variant{'s' if len(variants) != 1 else ''} of this run "
        f"({', '.join(variant.name for variant in variants)}) and the run's own network, each "
        f"with {checked.comparison_seeds} seed{'s' if checked.comparison_seeds != 1 else ''}, "
        "to 05_evaluate")
    started = time.perf_counter()
    board = run_comparisons(variants, parameters_file, overrides, run_dir, checked.model_dump(),
                            notebooks_dir, cell_timeout, log)
    log(f"comparisons: done in {time.perf_counter() - started:.1f} s, ranked on validation "
        f"accuracy in {board}")
    return board
