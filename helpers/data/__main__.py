"""`python -m helpers.data export-csv|export-images DATASET OUT_DIR`: convert a dataset."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from helpers.command_line import run_command
from helpers.data.convert import export_csv, export_images
from helpers.data.datasets import SUPPORTED_DATASETS, DatasetFormatError, load_dataset, subsample

# What a user can fix (a missing file, a wrong format): one `error:` line and exit code 1.
DATASET_ERRORS = (DatasetFormatError, FileNotFoundError, FileExistsError, ValueError)


@click.group(help=f"{__doc__}\n\nDATASET is one of {', '.join(SUPPORTED_DATASETS)}.")
def cli() -> None:
    """The `imgclf-datasets` command group."""


def dataset_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments and options both export commands take."""
    for decorator in reversed((
            click.argument("dataset", type=click.Choice(SUPPORTED_DATASETS), metavar="DATASET"),
            click.argument("out_dir", type=click.Path(path_type=Path)),
            click.option("--data-dir", help="where the dataset's files are (as data_dir)"),
            click.option("--train-path", help="for csv and folder datasets"),
            click.option("--test-path", help="for csv and folder datasets"),
            click.option("--max-train-images", type=int, default=0, show_default=True,
                         help="0 keeps all"),
            click.option("--max-test-images", type=int, default=0, show_default=True,
                         help="0 keeps all"),
            click.option("--seed", type=int, default=42, show_default=True))):
        command = decorator(command)
    return command


def export(kind: str, dataset: str, out_dir: Path, data_dir: str | None,
           train_path: str | None, test_path: str | None, max_train_images: int,
           max_test_images: int, seed: int) -> None:
    """Load (and subsample) the dataset, write it in `kind`'s format, print what was written."""
    data = load_dataset(dataset, data_dir=data_dir, train_path=train_path,
                        test_path=test_path, seed=seed)
    data = subsample(data, max_train_images, max_test_images, seed)
    written = export_csv(data, out_dir) if kind == "csv" else (export_images(data, out_dir),)
    click.echo(f"{data.name}: {len(data.y_train):,} training and {len(data.y_test):,} test "
               f"images -> {', '.join(str(path) for path in written)}")
    click.echo(f"class names: {list(data.class_names)}")


@cli.command("export-csv", help="write OUT_DIR/train.csv and OUT_DIR/test.csv (label, pixel1, …)")
@dataset_options
def export_csv_command(**options: Any) -> None:
    """Write the dataset as the seeds' CSV files."""
    export("csv", **options)


@cli.command("export-images", help="write OUT_DIR/{train,test}/<class>/<n>.png")
@dataset_options
def export_images_command(**options: Any) -> None:
    """Write the dataset as class folders of PNG files."""
    export("images", **options)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (`imgclf-datasets`): 0, 1 with one error line, 2 for bad usage."""
    return run_command(cli, argv, "imgclf-datasets", errors=DATASET_ERRORS)


if __name__ == "__main__":
    sys.exit(main())
