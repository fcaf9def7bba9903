"""report.html and report.pdf from a small fake run: hidden cells, the parameter table, pages."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from helpers.runner import cli, report

HAS_CHROMIUM = report.find_browser() is not None
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


def test_parameters_show_the_injected_value_once_at_the_top(run_dir: Path,
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
    assert title < html.index('class="report-parameters"') < html.index("Title of 01_load")
    assert html.count('class="report-parameters"') == 1


def test_each_notebook_starts_a_new_printed_page(run_dir: Path, no_browser: None) -> None:
    html = report.build_report(run_dir).html.read_text()
    assert "break-before: page" in html and "@media print" in html
    breaks = [match.start() for match in re.finditer('<div class="report-page-break">', html)]
    titles = [html.index(f"Title of {name}") for name in NOTEBOOK_NAMES]
    assert len(breaks) == len(NOTEBOOK_NAMES)
    interleaved = [position for pair in zip(breaks, titles, strict=True) for position in pair]
    assert interleaved == sorted(interleaved)  # break, 01, break, 02, break, 03


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
                                          report.NO_BROWSER_HINT.format(run_dir=run_dir)]
    result = CliRunner().invoke(cli.cli, ["report", str(run_dir), "--no-pdf"])
    assert result.output.splitlines() == [f"report: {run_dir / 'report.html'}"]


@pytest.mark.parametrize("script", ["exit 3", "exit 0", "sleep 30"])
def test_a_failed_print_leaves_no_pdf_behind(run_dir: Path, tmp_path: Path, script: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A browser that fails, writes nothing, or hangs past the timeout."""
    browser = tmp_path / "chromium"
    browser.write_text(f"#!/bin/sh\n{script}\n")
    browser.chmod(0o755)
    monkeypatch.setattr(report, "find_browser", lambda: str(browser))
    monkeypatch.setattr(report, "PRINT_TIMEOUT_S", 1.0)
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
