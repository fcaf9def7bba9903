"""What each assignment brief asks to see, and where the executed report shows it.

`BRIEFS` maps each assignment file to the elements its brief asks for: the notebook and the
heading under which a grader finds it, and what must be there (a figure, a text, or one of
the run's own numbers from metrics.json). `missing_elements` reads a run directory's
executed notebooks and lists what is not where it should be; test_assignment_reports.py
checks both the committed reference runs and fresh runs on small subsets.

`small_run` makes those fresh runs (each assignment file and params/default.yaml, two epochs
on a small subset) once per test process: the hand-in check and test_truthful_text.py read
the same run. `SMALL_RUN_NAMES` parametrizes both, one xdist_group per run, so that
`--dist loadgroup` sends both tests of a run to the worker that makes it.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from conftest import real_fashion_mnist_available, write_pixel_csv
from test_pipeline import run_pipeline

from helpers import artifacts

FIGURE = "a figure"


@dataclass(frozen=True)
class Element:
    """One thing a brief asks for, the notebook and heading it is under, and what shows it."""

    asked: str
    notebook: str
    heading: str
    shows: str | Callable[[dict], str]  # FIGURE, a text, or a text made from metrics.json


def _figure(value: float) -> str:
    """A figure as a table or dict shows it: rounded to 4 places, trailing zeros dropped."""
    return repr(round(value, 4))


def accuracy(metrics: dict) -> str:
    return _figure(metrics["test_accuracy"])


def macro_f1(metrics: dict) -> str:
    return _figure(metrics["f1_macro"])


CURVES = [Element("accuracy and loss curves", "04_train",
                  "Loss, accuracy and learning-rate curves", FIGURE),
          Element("what the curves show", "04_train", "Loss, accuracy and learning-rate curves",
                  "Validation loss was lowest at **epoch")]
EVALUATION = [
    Element("test accuracy", "05_evaluate", "Overall figures", accuracy),
    Element("precision, recall and F1", "05_evaluate", "Overall figures", macro_f1),
    Element("per-class report", "05_evaluate", "Per-class report", "Weakest class: **"),
    Element("confusion matrix", "05_evaluate", "Confusion matrices", FIGURE),
    Element("most-confused classes", "05_evaluate", "Confusion matrices", "Most-confused pairs:"),
    Element("test predictions, right and wrong", "05_evaluate", "Predictions on test images",
            FIGURE)]
CONCLUSION = [
    Element("network code", "03_build_model", "The network as Keras code", "keras.Sequential"),
    Element("headline figures", "08_conclusion", "Headline figures", accuracy),
    Element("what the curves and classes show", "08_conclusion", "Findings",
            "Validation loss was lowest"),
    Element("limits", "08_conclusion", "Limits of the model", "95% interval"),
    Element("next steps", "08_conclusion", "Next steps", "Next steps"),
    Element("the questions answered", "08_conclusion", "Conclusion", "?**"),
]
COMPARISON = "The comparisons, as an experiment"
MISTAKES = [Element("misclassified samples", "06_misclassifications",
                    "The most confident mistakes", FIGURE)]

BRIEFS: dict[str, list[Element]] = {
    "a_csv_cnn_l2": [
        Element("CNN with L2 on every weight layer", "03_build_model",
                "The network as Keras code", "kernel_regularizer=regularizers.L2(0.0001)"),
        Element("20% validation", "02_preprocess", "Split off a validation set",
                "validation: 20% of the"),
        Element("comparison with the reported figures", "08_conclusion", "Headline figures",
                "reported by the brief"),
        Element("comparison with the reported accuracy", "08_conclusion", "Headline figures",
                "the brief's 0.9000"),
        Element("L2 on and off, measured", "08_conclusion", COMPARISON, "**no L2**"),
        Element("does L2 help, answered", "08_conclusion", "Conclusion", "Against *no L2*"),
    ] + EVALUATION + MISTAKES + CURVES + CONCLUSION,
    "b_mnist_5k_cnn_bn_dropout": [
        Element("80/10/10 split", "02_preprocess", "Split off a validation set", "0.8"),
        Element("one-hot labels", "02_preprocess", "Encode the labels", "'one_hot'"),
        Element("batch normalization and dropout", "03_build_model",
                "The network as Keras code", "layers.BatchNormalization("),
        Element("effect of batch normalization, measured on its own data", "08_conclusion",
                COMPARISON, "**no batch normalization**"),
        Element("effect of dropout, measured on its own data", "08_conclusion", COMPARISON,
                "**no dropout**"),
        Element("the comparison's rule", "08_conclusion", COMPARISON,
                "times, with seeds that change"),  # 2 seeds in the small run, 3 in the reference
        Element("the comparison's curves", "08_conclusion", COMPARISON, FIGURE),
        Element("does dropout help, answered", "08_conclusion", "Conclusion",
                "Against *no dropout*"),
    ] + EVALUATION + CURVES + CONCLUSION,
    "c_fashion_cnn_augment": [
        Element("rotation and flip augmentation", "04_train",
                "The input pipeline and augmentation", "left-right flips and rotations"),
        Element("augmentation on and off, measured", "08_conclusion", COMPARISON,
                "**no augmentation**"),
        Element("augmented images shown", "04_train", "The input pipeline and augmentation",
                FIGURE),
    ] + EVALUATION + MISTAKES + CURVES + CONCLUSION,
    "d_fashion_mlp": [
        Element("a multilayer perceptron 512-256", "03_build_model",
                "The network as Keras code", "layers.Dense(256"),
        Element("comparison with about 0.87", "08_conclusion", "Headline figures",
                "the brief's 0.8700"),
        Element("a deeper MLP, measured", "08_conclusion", COMPARISON, "**deeper MLP**"),
        Element("a lower learning rate, measured", "08_conclusion", COMPARISON,
                "**lower learning rate**"),
        Element("its retail scenario, from 07's measurements", "08_conclusion", "Deployment",
                "The brief's scenario: an online fashion retailer"),
        Element("where to deploy it, from 07's measurements", "08_conclusion", "Deployment",
                "For **an app on a phone, offline**"),
    ] + EVALUATION + CURVES + CONCLUSION,
    "e_mnist_5k_cnn": [
        Element("the CNN with dense 64", "03_build_model", "The network as Keras code",
                "layers.Dense(64"),
    ] + CURVES + CONCLUSION,
}


def _outputs_text(cell: nbformat.NotebookNode) -> tuple[str, int]:
    """A code cell's outputs as text, and how many figures it shows."""
    texts, figures = [], 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        figures += "image/png" in data
        texts.append(output.get("text", ""))
        texts += [data.get(kind, "") for kind in ("text/plain", "text/markdown", "text/html")]
    return "\n".join(texts), figures


def _titles(markdown: str) -> list[str]:
    return [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]


def section(notebook: nbformat.NotebookNode, heading: str) -> tuple[str, int]:
    """Outputs' text and figure count under a `## heading`, up to the next heading: a markdown
    cell's, or one a cell writes (08's comparison and deployment sections, written only when
    the run has them)."""
    texts, figures, inside = [], 0, False
    for cell in notebook.cells:
        titles = _titles(cell.source) if cell.cell_type == "markdown" else []
        if titles:  # a markdown cell may hold text, then the next section's heading
            inside = titles[-1] == heading
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            written = _titles(output.get("data", {}).get("text/markdown", ""))
            if written:
                inside = written[-1] == heading
            if inside:
                text, count = _outputs_text(nbformat.from_dict({"outputs": [output]}))
                texts.append(text)
                figures += count
    return "\n".join(texts), figures


def missing_elements(run_dir: Path, elements: list[Element]) -> list[str]:
    """Each element not found where the brief's grader would look, with why."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    missing = []
    for element in elements:
        path = run_dir / f"{element.notebook}.ipynb"
        if not path.is_file():
            missing.append(f"{element.asked}: {path.name} is missing")
            continue
        text, figures = section(nbformat.read(path, as_version=4), element.heading)
        wanted = element.shows(metrics) if callable(element.shows) else element.shows
        found = figures > 0 if wanted == FIGURE else wanted in text
        if not found:
            missing.append(f"{element.asked}: no {wanted!r} under '{element.heading}' in "
                           f"{element.notebook}")
    return missing


PARAMS = artifacts.PROJECT_ROOT / "params"


def fashion_csv_files(folder: Path) -> list[str]:
    """Assignment A's two CSV files, from 1,200 + 300 real Fashion-MNIST images."""
    from helpers.data import datasets

    data = datasets.subsample(datasets.load_dataset("fashion_mnist"), 1200, 300, seed=0)
    train = write_pixel_csv(folder / "train.csv", data.x_train, data.y_train, header=False)
    test = write_pixel_csv(folder / "test.csv", data.x_test, data.y_test, header=False)
    return ["-p", "train_path", str(train), "-p", "test_path", str(test)]


def _subset(folder: Path) -> list[str]:
    return ["-p", "max_train_images", "1200", "-p", "max_test_images", "300"]


def _one_seed(small: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
    """A small run whose comparison trains each variant with one seed: B's run (two seeds)
    is the one that measures the spread; the others keep CI's time."""
    return lambda folder: [*small(folder), "-p", "comparison_seeds", "1"]


# Each small run: its parameter file and the overrides that make it small (given a folder).
SMALL_RUNS: dict[str, tuple[Path, Callable[[Path], list[str]]]] = {
    "default": (PARAMS / "default.yaml", _subset),
    "a_csv_cnn_l2": (PARAMS / "assignments" / "a_csv_cnn_l2.yaml", _one_seed(fashion_csv_files)),
    # All 5,000 digits: a subset would break the 80/10/10 split the brief asks to see.
    "b_mnist_5k_cnn_bn_dropout": (PARAMS / "assignments" / "b_mnist_5k_cnn_bn_dropout.yaml",
                                  lambda folder: ["-p", "comparison_seeds", "2"]),
    "c_fashion_cnn_augment": (PARAMS / "assignments" / "c_fashion_cnn_augment.yaml",
                              _one_seed(_subset)),
    "d_fashion_mlp": (PARAMS / "assignments" / "d_fashion_mlp.yaml", _one_seed(_subset)),
    "e_mnist_5k_cnn": (PARAMS / "assignments" / "e_mnist_5k_cnn.yaml",
                       lambda folder: ["-p", "max_train_images", "1200"]),
}

NEEDS_FASHION_MNIST = pytest.mark.skipif(
    not real_fashion_mnist_available(),
    reason="real Fashion-MNIST not found: `apt-get install dataset-fashion-mnist`")

# The mnist_5k runs need no download: they are also the embedded digits' runs through every
# notebook (test_pipeline_datasets.py leaves that dataset to them).
SMALL_RUN_NAMES = [
    pytest.param(name, marks=[pytest.mark.xdist_group(f"small-run-{name}"),
                              *(() if "mnist_5k" in name else (NEEDS_FASHION_MNIST,))])
    for name in SMALL_RUNS]


@functools.cache
def small_run(name: str, root: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """`name`'s parameter file run for two epochs on a small subset under root, once per
    process; its run directory and the runner's result (a failed run is not retried)."""
    folder = root / f"small-run-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    parameters_file, small = SMALL_RUNS[name]
    run_dir = folder / "run"
    result = run_pipeline("-f", str(parameters_file), "-p", "epochs", "2", *small(folder),
                          "--run-dir", str(run_dir))
    return run_dir, result
