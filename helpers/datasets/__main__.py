"""`python -m helpers.datasets export-csv|export-images DATASET OUT_DIR`: convert a dataset."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from helpers.datasets import SUPPORTED_DATASETS, DatasetFormatError, load_dataset, subsample
from helpers.datasets.export import export_csv, export_images


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m helpers.datasets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command, help_text in (
            ("export-csv", "write OUT_DIR/train.csv and OUT_DIR/test.csv (label, pixel1, …)"),
            ("export-images", "write OUT_DIR/{train,test}/<class>/<n>.png")):
        sub = commands.add_parser(command, help=help_text)
        sub.add_argument("dataset", choices=SUPPORTED_DATASETS)
        sub.add_argument("out_dir")
        sub.add_argument("--data-dir", help="where the dataset's files are (as data_dir)")
        sub.add_argument("--train-path", help="for csv and folder datasets")
        sub.add_argument("--test-path", help="for csv and folder datasets")
        sub.add_argument("--max-train-images", type=int, default=0, help="0 keeps all")
        sub.add_argument("--max-test-images", type=int, default=0, help="0 keeps all")
        sub.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args(argv)
    try:
        dataset = load_dataset(arguments.dataset, data_dir=arguments.data_dir,
                               train_path=arguments.train_path, test_path=arguments.test_path,
                               seed=arguments.seed)
        dataset = subsample(dataset, arguments.max_train_images, arguments.max_test_images,
                            arguments.seed)
        if arguments.command == "export-csv":
            written = export_csv(dataset, arguments.out_dir)
        else:
            written = (export_images(dataset, arguments.out_dir),)
    except (DatasetFormatError, FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{dataset.name}: {len(dataset.y_train):,} training and {len(dataset.y_test):,} test "
          f"images -> {', '.join(str(path) for path in written)}")
    print(f"class names: {list(dataset.class_names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
