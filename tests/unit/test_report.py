"""report.html and report.pdf: from a small fake run (hidden cells, the parameter appendix,
pages, figures shown in a real kernel) and from every committed reference (the settings
table against the records, no Colab badge, alt text and a caption under every figure)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from helpers.catalog.layer_grammar import parse_layers, spelling
from helpers.parameters.optimization import KERAS_OPTIMIZERS
from helpers.runner import cli, report, report_pdf

HAS_CHROMIUM = report_pdf.find_browser() is not None
NOTEBOOK_NAMES = ("01_load", "02_train", "03_evaluate")
MACHINE_PATH = "/machine/specific/run-folder"


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def tagged(cell: nbformat.NotebookNode, *tags: str) -> nbformat.NotebookNode:
    cell.metadata["tags"] = list(tags)
    return cell


def executed_notebook(name: str, epochs: int) -> nbformat.NotebookNode:
    """A notebook as papermill leaves it: defaults, then the injected values that won."""
    v4 = nbformat.v4
    visible = v4.new_code_cell(f"# visible code of {name}\nprint('hello')", execution_count=3)
    visible.outputs = [
        v4.new_output("stream", name="stdout", text=f"printed by {name}\n"),
        v4.new_output("display_data", data={
            "image/png": base64.b64encode(png_bytes()).decode(), "text/plain": "<Figure>"}),
    ]
    cells = [
        v4.new_markdown_cell(f"# Title of {name}"),
        tagged(v4.new_code_cell("# colab install cell\n!pip install project"), "report-hide"),
        tagged(v4.new_markdown_cell("## Parameters\n\nThe runner replaces these values."),
               "report-hide"),
        tagged(v4.new_code_cell(
            'run_dir = "../reports/runs/notebooks"  # every step writes here\n'
            "epochs = 3  # passes over the training images\n"
            'dataset = "fashion_mnist"  # which images <and> | how\n'
            "seed = 42  # the one seed"), "parameters"),
        tagged(v4.new_code_cell(f'# Parameters\nepochs = {epochs}\nrun_dir = "{MACHINE_PATH}"\n'),
               "injected-parameters"),
        visible,
        v4.new_raw_cell("<b>raw html of " + name + "</b>", metadata={"raw_mimetype": "text/html"}),
    ]
    return v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """Notebook 03 was run with another epochs value than 01 and 02."""
    run_dir = tmp_path / "20261123-083934-default"
    run_dir.mkdir()
    for name in NOTEBOOK_NAMES:
        notebook = executed_notebook(name, epochs=9 if name.startswith("03") else 7)
        nbformat.write(notebook, run_dir / f"{name}.ipynb")
    return run_dir


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)


def test_hidden_cells_are_left_out_and_the_rest_kept(run_dir: Path, no_browser: None) -> None:
    html = report.build_report(run_dir).html.read_text()
    for hidden in ("colab install cell", "The runner replaces these values",
                   "every step writes here", "../reports/runs/notebooks", MACHINE_PATH):
        assert hidden not in html
    notebooks = [nbformat.read(path, as_version=4) for path in sorted(run_dir.glob("*.ipynb"))]
    for cell in (cell for notebook in notebooks for cell in notebook.cells
                 if cell.cell_type != "raw"):  # raw HTML is written as it is, no anchor
        hidden = set(cell.metadata.get("tags", [])) & set(report.HIDDEN_TAGS)
        assert (f'id="cell-id={cell.id}"' in html) != bool(hidden), cell.source
    for name in NOTEBOOK_NAMES:
        assert all(text in html for text in (f"Title of {name}", f"visible code of {name}",
                                             f"printed by {name}", f"<b>raw html of {name}</b>"))
    assert html.count('src="data:image/png;base64,') == len(NOTEBOOK_NAMES)  # embedded
    assert "<title>Run report: 20261123-083934-default</title>" in html


def test_parameters_show_the_injected_value_once_in_the_appendix(run_dir: Path,
                                                                 no_browser: None) -> None:
    html = report.build_report(run_dir).html.read_text()
    rows = re.findall(r"<tr><td><code>(.*?)</code></td><td><code>(.*?)</code></td>"
                      r"<td>(.*?)</td><td>(.*?)</td></tr>", html)
    assert rows == [
        ("epochs", "7", "passes over the training images", "01, 02"),
        ("dataset", "\"fashion_mnist\"", "which images &lt;and&gt; | how", "01, 02, 03"),
        ("seed", "42", "the one seed", "01, 02, 03"),
        ("epochs", "9", "passes over the training images", "03"),
    ]
    assert "run_dir" not in html
    title = html.index(">Run report: 20261123-083934-default<a class=\"anchor-link\"")
    assert title < html.index("Title of 03_evaluate") < html.index(">Every parameter<")
    assert html.index(">Every parameter<") < html.index('class="report-parameters"')
    assert html.count('class="report-parameters"') == 1
    # A run without the steps' records (no dataset.json ...) has no settings table.
    assert 'class="report-settings"' not in html


def test_each_notebook_starts_a_new_printed_page(run_dir: Path, no_browser: None) -> None:
    html = report.build_report(run_dir).html.read_text()
    assert "break-before: page" in html and "@media print" in html
    breaks = [match.start() for match in re.finditer('<div class="report-page-break">', html)]
    titles = [html.index(f"Title of {name}") for name in NOTEBOOK_NAMES]
    assert len(breaks) == len(NOTEBOOK_NAMES) + 1  # and one before the appendix
    interleaved = [position for pair in zip(breaks, titles, strict=False) for position in pair]
    assert interleaved == sorted(interleaved)  # break, 01, break, 02, break, 03
    assert breaks[-1] < html.index(">Appendix<") < html.index(">Every parameter<")


def test_without_chromium_one_line_says_how_to_get_the_pdf(run_dir: Path,
                                                           no_browser: None) -> None:
    (run_dir / report.REPORT_PDF).write_bytes(b"%PDF an older print")
    built = report.build_report(run_dir)
    assert built.pdf is None and not (run_dir / report.REPORT_PDF).exists()
    assert built.lines() == [f"report: {run_dir / 'report.html'}", built.pdf_note]
    assert "\n" not in built.pdf_note and "apt-get install chromium" in built.pdf_note
    assert f"python -m helpers.runner report {run_dir}" in built.pdf_note


def test_report_command_prints_both_lines(run_dir: Path, no_browser: None) -> None:
    result = CliRunner().invoke(cli.cli, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"report: {run_dir / 'report.html'}",
                                          report_pdf.NO_BROWSER_HINT.format(run_dir=run_dir)]
    result = CliRunner().invoke(cli.cli, ["report", str(run_dir), "--no-pdf"])
    assert result.output.splitlines() == [f"report: {run_dir / 'report.html'}"]


@pytest.mark.parametrize("script", ["exit 3", "exit 0", "sleep 30"])
def test_a_failed_print_leaves_no_pdf_behind(run_dir: Path, tmp_path: Path, script: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A browser that fails, writes nothing, or hangs past the timeout."""
    browser = tmp_path / "chromium"
    browser.write_text(f"#!/bin/sh\n{script}\n")
    browser.chmod(0o755)
    monkeypatch.setattr(report_pdf, "find_browser", lambda: str(browser))
    monkeypatch.setattr(report_pdf, "PRINT_TIMEOUT_S", 1.0)
    built = report.build_report(run_dir)
    assert built.pdf is None and built.html.is_file()
    assert built.pdf_note.startswith("report.pdf: printing failed")
    assert sorted(path.name for path in run_dir.iterdir() if "pdf" in path.name) == []


@pytest.mark.skipif(not HAS_CHROMIUM, reason="no headless Chromium installed")
def test_pdf_has_a_page_per_notebook_and_no_temporary_file(run_dir: Path) -> None:
    built = report.build_report(run_dir)
    assert built.pdf == run_dir / report.REPORT_PDF
    assert built.pdf_note.startswith(f"report.pdf: {built.pdf}")
    data = built.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    assert pages >= len(NOTEBOOK_NAMES)
    assert sorted(path.name for path in run_dir.iterdir() if not path.suffix == ".ipynb") == [
        "report.html", "report.pdf"]


def test_paths_in_the_parameter_table_do_not_name_the_machine() -> None:
    inside = report.artifacts.PROJECT_ROOT / "data" / "raw" / "train.csv"
    assert report.shown_value(repr(str(inside))) == "'data/raw/train.csv'"
    assert report.shown_value("'/home/student/downloads/train.csv'") == "'…/train.csv'"
    assert report.shown_value("'fashion_mnist'") == "'fashion_mnist'"
    assert report.shown_value("[32, 64]") == "[32, 64]"


# ---- The committed references: settings table, no Colab badge, every figure described ----

REFERENCE_ROOT = report.artifacts.PROJECT_ROOT / "reports" / "reference"
REFERENCES = ("default", "best", "csv", "folder", "mnist_5k",
              *(f"assignment-{letter}" for letter in "abcde"))
ENGINEERING_WORDS = ("xla", "strategy", "precision", "bfloat16", "deterministic", "oneDNN",
                     "replica", "gallery", "docker", "runner")


@dataclass(frozen=True)
class BuiltReference:
    name: str
    run_dir: Path  # a copy: the committed reference is never written to
    html: str
    settings: dict[str, str]  # the settings table as the reader sees it


def settings_rows(html: str) -> list[tuple[str, str]]:
    table = html[html.index('<table class="report-settings">'):]
    table = table[:table.index("</table>")]
    return [(unescape(name), unescape(value))
            for name, value in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table)]


@pytest.fixture(scope="module", params=REFERENCES)
def reference(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> BuiltReference:
    run_dir = tmp_path_factory.mktemp("reference") / request.param
    shutil.copytree(REFERENCE_ROOT / request.param, run_dir)
    html = report.build_report(run_dir, pdf=False).html.read_text()
    rows = settings_rows(html)
    assert len({name for name, _ in rows}) == len(rows)
    return BuiltReference(request.param, run_dir, html, dict(rows))


def test_settings_table_has_15_to_20_rows_and_comes_first(reference: BuiltReference) -> None:
    html = reference.html
    assert 15 <= len(reference.settings) <= 20, list(reference.settings)
    assert html.count('class="report-settings"') == 1
    assert (html.index('class="report-settings"') < html.index("01 · Load the data")
            < html.index(">Every parameter<") < html.index('class="report-parameters"'))
    table = " ".join(f"{name} {value}" for name, value in reference.settings.items()).lower()
    assert not [word for word in ENGINEERING_WORDS if word.lower() in table]


def test_settings_agree_with_the_records(reference: BuiltReference) -> None:
    """Each row checked against the JSON files themselves, not against the report's code."""
    records = {name: json.loads((reference.run_dir / f"{name}.json").read_text())
               for name in ("dataset", "preprocess", "model", "training", "manifest")}
    dataset, split, model, training = (records[name] for name in
                                       ("dataset", "preprocess", "model", "training"))
    settings = reference.settings
    names = dataset["class_names"]
    assert settings["Classes"] == f"{len(names)}: {', '.join(names)}"
    height, width = dataset["image_shape"][:2]
    assert settings["Images"].startswith(f"{height} × {width} pixels")
    assert settings["Training / validation / test images"].startswith(
        f"{split['train_images']:,} / {split['validation_images']:,} / "
        f"{split['test_images']:,}")
    assert f"{round(split['val_fraction'] * 100, 1):g}%" in settings["Validation set"]
    pooled = records["manifest"]["parameters"].get("split") == "pooled"
    assert ("pooled" in settings["Test set"]) == pooled
    assert ("one-hot" in settings["Label encoding"]) == (split["label_encoding"] == "one_hot")
    assert settings["Trainable parameters"].startswith(f"{model['parameters']['trainable']:,}")
    check_network(settings, model["architecture"])
    optimizer = KERAS_OPTIMIZERS[training.get("optimizer", "adam")]  # Adam before it was recorded
    assert settings["Optimizer and loss"].startswith(f"{optimizer}; ")
    sparse = split["label_encoding"] == "sparse" and not training["label_smoothing"]
    assert ("sparse" in settings["Optimizer and loss"]) == sparse
    assert settings["Learning rate"].startswith(f"{training['learning_rate']:g}")
    assert ("cosine" in settings["Learning rate"]) == (training["lr_schedule"] == "cosine")
    assert ("constant" in settings["Learning rate"]) == (training["lr_schedule"] == "constant")
    assert settings["Batch size"].startswith(f"{training['batch_size']} ")
    epochs = settings["Epochs"]
    assert epochs.startswith(f"{training['epochs_run']} of {training['epochs']} planned")
    assert f"after {training['early_stopping_patience']} epochs" in epochs
    # "epoch 8, ..." where its weights are kept; "was epoch 8's" where the last epoch's are.
    assert re.search(rf"\bepoch {training['best_epoch']}\b", epochs), epochs
    augmented = any(training["augmentation"].values())
    assert (settings["Augmentation"] == "none") == (not augmented)
    if training["augmentation"]["rotation"]:
        assert f"±{training['augmentation']['rotation']:g}°" in settings["Augmentation"]
    assert ("Label smoothing" in settings) == (training["label_smoothing"] > 0)
    assert ("Weight averaging" in settings) == (training["ema_momentum"] > 0)
    assert ("Test-time mirroring" in settings) == training["test_time_mirror"]
    assert settings["Seed"].startswith(f"{training['seed']}:")


def check_network(settings: dict[str, str], architecture: dict) -> None:
    """The network row names its layers; the regularization row only what this network has."""
    network, regularization = settings["Network"], settings["Regularization"]
    kind = architecture["architecture"]
    if kind == "layers":
        entries = architecture["layers"]
        # each entry spelled out in the grammar's words, its activation and padding named
        spelled = [spelling(spec) for spec in parse_layers(entries)]
        assert all(entry in network for entry in spelled)
        has_l2 = any("l2=" in entry for entry in entries)
        has_dropout = any(entry.startswith("dropout") for entry in entries)
        has_batch_norm = "batchnorm" in entries
    else:
        units = architecture["hidden_units"] if kind == "mlp" else architecture["conv_filters"]
        assert network.startswith("MLP" if kind == "mlp" else "CNN")
        assert all(str(count) in network for count in units)
        has_l2 = architecture["l2_weight"] > 0
        has_dropout = architecture["dropout_rate"] > 0
        has_batch_norm = architecture["batch_norm"]
    for name, present in (("L2", has_l2), ("dropout", has_dropout),
                          ("batch normalization", has_batch_norm)):
        assert (f"no {name}" not in regularization) == present, (name, regularization)
        assert (name in regularization.replace(f"no {name}", "")) == present, regularization


def test_assignment_a_settings_show_its_own_network(tmp_path: Path) -> None:
    """papermill read A's layers as None; the records give the list, with its l2= settings."""
    run_dir = tmp_path / "assignment-a"
    shutil.copytree(REFERENCE_ROOT / "assignment-a", run_dir)
    html = report.build_report(run_dir, pdf=False).html.read_text()
    settings = dict(settings_rows(html))
    assert "conv 32 3x3 relu valid l2=0.0001 → maxpool 2" in settings["Network"]
    assert settings["Regularization"] == ("L2 0.0001 on 2 conv and 1 dense layers; dropout 0.3 "
                                          "(1 layer); no batch normalization")
    appendix = {name: (value, meaning) for name, value, meaning in re.findall(
        r"<tr><td><code>(.*?)</code></td><td><code>(.*?)</code></td><td>(.*?)</td>", html)}
    assert unescape(appendix["layers"][0]) == (
        '["conv 32 3x3 relu l2=0.0001", "maxpool 2", "conv 64 3x3 relu l2=0.0001", '
        '"maxpool 2", "flatten", "dense 128 relu l2=0.0001", "dropout 0.3"]')
    # The cnn's parameters are listed, saying this network does not use them.
    for name in ("batch_norm", "l2_weight", "dropout_rate", "conv_filters"):
        assert appendix[name][1].startswith(report.UNUSED_NOTE), name
    assert not appendix["learning_rate"][1].startswith(report.UNUSED_NOTE)


def test_no_colab_badge(reference: BuiltReference) -> None:
    notebook = (reference.run_dir / "01_load_data.ipynb").read_text()
    assert "colab-badge.svg" in notebook  # the notebooks keep it, for GitHub
    assert "colab-badge.svg" not in reference.html
    assert "Open In Colab" not in reference.html


def test_every_figure_has_alt_text_and_a_caption(reference: BuiltReference) -> None:
    html = reference.html
    assert "No description has been provided" not in html
    images = re.findall(r"<img [^>]*>", html)
    assert images and all(re.search(r'alt="[^"]{20,}"', image) for image in images)
    # Each image's caption follows it, before the next image.
    for after in html.split("<img ")[1:]:
        assert "<em>Figure: " in after.split("<img ", 1)[0]
    alts = image_alts(html)
    for figure in sorted((reference.run_dir / "figures").glob("*.png")):
        text = report_figure_text(figure.stem, reference.run_dir)
        assert f"<em>Figure: {escape(text.caption, quote=False)}</em>" in html, figure.stem
        assert text.alt in alts, figure.stem


def image_alts(html: str) -> list[str]:
    return [unescape(alt) for alt in re.findall(r'<img [^>]*?alt="([^"]*)"', html)]


def report_figure_text(name: str, run_dir: Path | None = None):
    from helpers.writing import plots

    history = run_dir / "history.csv" if run_dir else None
    if name == "training_curves" and history and history.is_file() \
            and "learning_rate" not in history.read_text().splitlines()[0]:
        return plots.TRAINING_CURVES_WITHOUT_RATE  # drawn before the rate was recorded
    return plots.figure_text(name)


@pytest.mark.slow
def test_figures_shown_by_save_figure_keep_alt_and_caption(tmp_path: Path,
                                                          no_browser: None) -> None:
    """A notebook run in a real kernel: one image with its alt text, the caption under it."""
    import nbclient

    from helpers.writing import plots

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    v4 = nbformat.v4
    notebook = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 04 · Train\n\n[![Open In Colab](https://colab.research.google"
                             ".com/assets/colab-badge.svg)](https://colab.research.google.com/"
                             "github/x/y/blob/main/notebooks/04_train.ipynb)\n\nTrains."),
        v4.new_code_cell("import matplotlib.pyplot as plt\nfrom helpers import artifacts\n"
                         "from helpers.writing import plots\n"
                         f"run_dir = {str(run_dir)!r}"),
        v4.new_code_cell('figure, axis = plt.subplots()\naxis.plot([1, 2, 3])\n'
                         'plots.save_figure(figure, artifacts.figure_path(run_dir, '
                         '"training_curves"))'),
        v4.new_code_cell('figure, axis = plt.subplots()\naxis.plot([3, 1])\n'
                         'plots.show_figure(figure, "mine", caption="My own figure.")'),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120, resources={
        "metadata": {"path": str(report.artifacts.PROJECT_ROOT)}}).execute()
    assert (run_dir / "figures" / "training_curves.png").stat().st_size > 1000
    saved, shown = notebook.cells[2].outputs, notebook.cells[3].outputs
    curves = plots.FIGURE_TEXTS["training_curves"]
    assert [output.output_type for output in saved] == ["display_data", "display_data"]
    assert saved[0].metadata["image/png"]["alt"] == curves.alt
    assert saved[1].data["text/markdown"] == f"*Figure: {curves.caption}*"
    assert shown[0].metadata["image/png"]["alt"] == "My own figure."
    nbformat.write(notebook, run_dir / "04_train.ipynb")

    html = report.build_report(run_dir).html.read_text()
    assert "No description has been provided" not in html and "colab-badge" not in html
    assert "Trains." in html
    assert image_alts(html) == [curves.alt, "My own figure."]
    assert html.count("<em>Figure: ") == 2
    assert html.index(f"<em>Figure: {escape(curves.caption, quote=False)}</em>") < html.index(
        'alt="My own figure."') < html.index("<em>Figure: My own figure.</em>")


def test_old_figures_get_their_alt_text_and_caption_from_the_cell() -> None:
    from helpers.writing import plots

    cell = nbformat.v4.new_code_cell('figure = plots.confusion_heatmap(c, names, True)\n'
                                     'plots.save_figure(figure, artifacts.figure_path(run_dir, '
                                     '"confusion_normalized"))')
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 900x750 with 2 Axes>"})]
    described = report.described_figures(cell)
    text = plots.FIGURE_TEXTS["confusion_normalized"]
    assert described.outputs[0].metadata["image/png"]["alt"] == text.alt
    assert described.outputs[1].data == plots.caption_bundle(text.caption)
    assert report.figure_name("figure = plots.image_row(images, 'x')") == "training_batch"
    assert report.figure_name("print('no figure')") is None
    # Described once: a second pass adds nothing.
    assert len(report.described_figures(described).outputs) == 2


def test_colab_badge_is_cut_from_markdown() -> None:
    source = ("# 01 · Load the data\n\n[![Open In Colab](https://colab.research.google.com/"
              "assets/colab-badge.svg)](https://colab.research.google.com/github/a/b/blob/main/"
              "notebooks/01_load_data.ipynb)\n\nThe first of eight notebooks.")
    assert report.without_colab_badge(source) == ("# 01 · Load the data\n\n"
                                                  "The first of eight notebooks.")


def test_a_quick_run_on_a_subset_says_so_and_names_no_dataset_total() -> None:
    from dataclasses import replace

    from helpers.writing import report_settings

    records = report_settings.read_run_records(REFERENCE_ROOT / "mnist_5k")
    assert records is not None
    full = dict((row.name, row.value) for row in report_settings.experiment_settings(records))
    assert full["Test set"].startswith("a stratified 20% of the 5,000 images held out")
    quick = replace(records, given={**records.given, "max_train_images": 600})
    rows = dict((row.name, row.value) for row in report_settings.experiment_settings(quick))
    assert rows["Training / validation / test images"].endswith("(a stratified subset of the "
                                                                "dataset, for a quick run)")
    assert rows["Test set"].startswith("a stratified 20% of the images held out (seed 42)")
