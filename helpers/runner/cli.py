"""The runner's command line: `imgclf run -f params/default.yaml` (or `python -m helpers.runner`).

click rather than typer: `-p NAME VALUE`, repeated, is a list of pairs, which click takes
as it is (`nargs=2, multiple=True`) and typer cannot declare.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import click

from helpers.command_line import run_command
from helpers.runner import execute
from helpers.runner.exceptions import RUNNER_ERRORS

STEP_NAMES = click.Choice(execute.NOTEBOOKS)
PATH = click.Path(path_type=Path)


@click.group(help="Run the numbered notebooks as one pipeline with papermill, and report on "
                  "the runs.")
def cli() -> None:
    """The `imgclf` command group."""


@cli.command(help=f"Run the {len(execute.NOTEBOOKS)} notebooks into a run directory.")
@click.option("-f", "--file", "parameters_file", type=PATH, required=True,
              help="parameters YAML, e.g. params/default.yaml")
@click.option("-p", "--parameter", "overrides", type=(str, str), multiple=True,
              metavar="NAME VALUE", help="override one parameter (repeatable)")
@click.option("--run-dir", type=PATH, help="default: reports/runs/<time>-<profile>")
@click.option("--notebooks-dir", type=PATH, default=execute.NOTEBOOKS_DIR, show_default=True)
@click.option("--cell-timeout", type=float, help="seconds any one cell may run (default: none)")
@click.option("--overwrite", "--fresh", is_flag=True,
              help="delete what the run directory holds and start afresh")
@click.option("--from", "from_step", type=STEP_NAMES,
              help="re-run this step and the later ones of an existing run")
@click.option("--to", "to_step", type=STEP_NAMES, help="stop after this step")
def run(parameters_file: Path, overrides: Sequence[tuple[str, str]], run_dir: Path | None,
        notebooks_dir: Path, cell_timeout: float | None, overwrite: bool,
        from_step: str | None, to_step: str | None) -> None:
    """Check every parameter, then run the notebooks."""
    from helpers.runner.sweep_comparisons import run_variants

    execute.run(parameters_file, overrides, run_dir, notebooks_dir.resolve(), cell_timeout,
                overwrite, from_step, to_step, comparisons=run_variants)


@cli.command(help="(Re)build a run's report.html, and report.pdf where a headless Chromium "
                  "is installed.")
@click.argument("run_dir", type=PATH)
@click.option("--no-pdf", is_flag=True, help="write report.html only")
def report(run_dir: Path, no_pdf: bool) -> None:
    """Write report.html (and report.pdf) from the run's executed notebooks."""
    from helpers.runner.report import build_report

    for line in build_report(run_dir, pdf=not no_pdf).lines():
        click.echo(line)


@cli.command(help="Copy a run's notebooks, metrics and figures to reports/reference/NAME.")
@click.argument("run_dir", type=PATH)
@click.argument("name")
@click.option("--seed-runs", type=PATH, multiple=True, metavar="RUN_DIR",
              help="the same profile run with another seed (repeatable): the median run is "
                   "published and metrics.json lists every seed's accuracy")
@click.option("--keep-other-seeds", is_flag=True,
              help="RUN_DIR re-runs one seed of the existing reference NAME: the other seeds' "
                   "figures are kept, each with the commit it came from")
def publish(run_dir: Path, name: str, seed_runs: Sequence[Path], keep_other_seeds: bool) -> None:
    """Publish a finished run as a committed reference."""
    from helpers.runner.references import publish_reference

    try:
        published = publish_reference(run_dir, name, other_seed_runs=tuple(seed_runs),
                                      keep_other_seeds=keep_other_seeds)
    except ValueError as error:  # seeds that differ, or a machine's paths left in its files
        raise click.ClickException(str(error)) from error
    click.echo(f"reference: {published}")


@cli.command(help="Pack a finished run as a hand-in a teacher can re-run: a folder (and a .zip "
                  "of it) with the report, the executed notebooks, the parameters, the run's "
                  "records, the helpers package, the lock, the data when small and a README. "
                  "OUT_DIR defaults to reports/handins/<run name>.")
@click.argument("run_dir", type=PATH)
@click.argument("out_dir", type=PATH, required=False)
def pack(run_dir: Path, out_dir: Path | None) -> None:
    """Write the hand-in folder and its .zip."""
    from helpers.runner.pack import pack_run

    packed = pack_run(run_dir, out_dir)
    for note in packed.notes:
        click.echo(f"note: {note}")
    click.echo(f"hand-in: {packed.folder}")
    click.echo(f"zip: {packed.archive}")


@cli.command("refresh-notebooks",
             help="Execute notebooks/ in place with their defaults (the outputs nbval checks).")
def refresh_notebooks() -> None:
    """Re-execute the committed notebooks."""
    execute.execute_in_place()


# A grid given as `--grid a=1,2 b=3,4` leaves `b=3,4` among the positional arguments.
GRID_ARGUMENT = re.compile(r"[a-z][a-z0-9_]*=")


@cli.command(help="Run several parameter sets (a grid over one params file, or several "
                  "params files) and compare them. Running the same command again continues "
                  "a stopped sweep.")
@click.argument("files", nargs=-1, metavar="[FILE]... [NAME=V1,V2,...]...")
@click.option("-f", "--file", "parameters_file", type=PATH,
              help="the params file the grid varies, e.g. params/default.yaml")
@click.option("--grid", "grid_options", multiple=True, metavar="NAME=V1,V2,...",
              help="a parameter and its values, e.g. --grid batch_norm=true,false "
                   "dropout_rate=0.0,0.3; every combination is one point")
@click.option("-p", "--parameter", "overrides", type=(str, str), multiple=True,
              metavar="NAME VALUE", help="override one parameter in every point (repeatable)")
@click.option("--name", help="the sweep's name (default: from the files and grid names)")
@click.option("--sweep-dir", type=PATH, help="default: reports/sweeps/<name>")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="points run side by side, each in its own process")
@click.option("--storage", metavar="URL",
              help="where the sweep's study lives: postgresql://user@host/db (several "
                   "machines), sqlite:///sweep.db or a journal file path (one machine; "
                   "default: <sweep-dir>/optuna.journal)")
@click.option("--to", "to_step", type=click.Choice(execute.NOTEBOOKS[4:]),
              help="stop each point after this step (default: every step)")
@click.option("--notebooks-dir", type=PATH, default=execute.NOTEBOOKS_DIR, show_default=True)
@click.option("--cell-timeout", type=float, help="seconds any one cell may run (default: none)")
def sweep(files: Sequence[str], parameters_file: Path | None, grid_options: Sequence[str],
          overrides: Sequence[tuple[str, str]], name: str | None, sweep_dir: Path | None,
          workers: int, storage: str | None, to_step: str | None, notebooks_dir: Path,
          cell_timeout: float | None) -> None:
    """Check every point, run the unfinished ones, then write the leaderboard and report."""
    from helpers.runner.sweep import plan_sweep, run_sweep

    grid = [*grid_options, *(item for item in files if GRID_ARGUMENT.match(item))]
    paths = [Path(item) for item in files if not GRID_ARGUMENT.match(item)]
    paths = [*([parameters_file] if parameters_file else []), *paths]
    spec = plan_sweep(paths, grid, overrides, name, sweep_dir, storage, to_step,
                      notebooks_dir, cell_timeout)
    run_sweep(spec, workers)


@cli.command(help="Compare finished runs: a leaderboard, their validation curves overlaid, "
                  "per-class F1 side by side, in one report.html.")
@click.argument("run_dirs", nargs=-1, required=True, type=PATH)
@click.option("--out", "out_dir", type=PATH, help="default: reports/comparisons/<time>")
@click.option("--title", default="Comparison of runs", show_default=True)
def compare(run_dirs: Sequence[Path], out_dir: Path | None, title: str) -> None:
    """Write leaderboard.csv, compare.ipynb and report.html."""
    from helpers.runner import compare as comparison

    out_dir = out_dir or comparison.new_out_dir()
    try:
        report = comparison.compare_runs(run_dirs, out_dir, title, log=click.echo)
    except ValueError as error:  # a run without the records a comparison reads
        raise click.ClickException(str(error)) from error
    click.echo(f"report: {report}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `imgclf` and `python -m helpers.runner`: 0, or 1 with one error line."""
    return run_command(cli, argv, "imgclf", errors=RUNNER_ERRORS)
