"""A run's report: report.html, one self-contained file of its executed notebooks, the hand-in,
and report.pdf printed from it by a headless Chromium where one is installed.

The report opens with the run's parameters in one table, then each notebook on a new printed
page. Cells a reader of the hand-in does not need are left out by their tags (HIDDEN_TAGS):
the notebooks' own parameter cells, papermill's injected values (both are in the table), and
cells tagged `report-hide` (the Colab install cell, the "## Parameters" headings).
"""

from __future__ import annotations

import ast
import html
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import artifacts

PARAMETERS_TAG = "parameters"  # the notebook's own defaults (papermill's convention)
INJECTED_TAG = "injected-parameters"  # the values papermill passed in this run
HIDE_TAG = "report-hide"  # any other cell to leave out of the report
HIDDEN_TAGS = (INJECTED_TAG, PARAMETERS_TAG, HIDE_TAG)
PAGE_BREAK_TAG = "report-page-break"  # the generated cell before each notebook
# A machine path, different on every computer: it says nothing about the experiment.
UNREPORTED_PARAMETERS = frozenset({"run_dir"})
REPORT_PDF = "report.pdf"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT_S = 180.0
NO_BROWSER_HINT = ("report.pdf: no headless Chromium found; install Debian's chromium "
                   "(apt-get install chromium) and run `python -m helpers.runner report "
                   "{run_dir}`, or print report.html from a browser")

# Each notebook starts a new printed page; figures, tables and code are never cut in two.
# The lab template's output areas scroll sideways on screen, which on paper would clip.
REPORT_CSS = """
.report-page-break { border-top: 3px double #bbb; margin: 2.5em 0 1em; }
.jp-RenderedHTMLCommon table.report-parameters { width: 100%; margin: 0; table-layout: auto; }
.jp-RenderedHTMLCommon table.report-parameters th,
.jp-RenderedHTMLCommon table.report-parameters td {
  text-align: left; vertical-align: top; padding: 0.25em 0.6em; }
.jp-RenderedHTMLCommon table.report-parameters td:first-child { white-space: nowrap; }
.jp-RenderedHTMLCommon table.report-parameters td:nth-child(3) { width: 55%; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  .report-page-break { break-before: page; border: none; margin: 0; }
  img, svg, table, pre, .jp-OutputArea-output, .jp-InputArea { break-inside: avoid; }
  /* A cell's code and what it shows on one page (a cell taller than a page still breaks). */
  .jp-CodeCell { break-inside: avoid; }
  .jp-RenderedHTMLCommon table.report-parameters { break-inside: auto; font-size: 11px; }
  /* A badge that opens the notebook on Colab is no use on paper. */
  a[href*="colab.research.google.com"] { display: none; }
  tr { break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; }
  img { max-width: 100% !important; height: auto !important; }
  /* About 115 characters to a line fit an A4 page: a model summary stays whole. */
  pre { font-size: 10px !important; white-space: pre-wrap; overflow-wrap: anywhere; }
  .jp-OutputArea-output { overflow: visible !important; }
}
"""
TEMPLATE_NAME = "report.html.j2"
# The lab template, plus the CSS above and the page-break cells drawn as an empty block
# between notebooks (a raw cell would otherwise render nothing).
TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block extra_css %}<style type="text/css">""" + REPORT_CSS + """</style>{% endblock extra_css %}
{% block rawcell scoped %}
{%- if '""" + PAGE_BREAK_TAG + """' in cell.metadata.get('tags', []) -%}
<div class="report-page-break"></div>
{%- else -%}{{ super() }}{%- endif -%}
{% endblock rawcell %}
"""


@dataclass(frozen=True)
class RunParameter:
    """One row of the report's parameter table."""

    name: str
    value: str  # as the notebook's code wrote it: "cosine", [32, 64], True
    meaning: str  # the comment after the parameter in the notebook's parameters cell
    notebooks: tuple[str, ...]  # the numbers of the notebooks that declare it, "01"


@dataclass(frozen=True)
class Report:
    """What build_report wrote."""

    html: Path
    pdf: Path | None  # None when no browser printed it
    pdf_note: str  # one line: where report.pdf is, or how to get one; "" if not asked for

    def lines(self) -> list[str]:
        """What the runner and the `report` command print: report.html, then report.pdf."""
        return [f"report: {self.html}", *([self.pdf_note] if self.pdf_note else [])]


def executed_notebooks(run_dir: str | Path) -> list[Path]:
    """The run's executed notebooks (01_... to 0N_...), in order."""
    notebooks = sorted(path for path in Path(run_dir).glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{run_dir} holds no executed notebooks (01_*.ipynb ...): "
                                "run the pipeline into it first")
    return notebooks


def _tagged(cell: nbformat.NotebookNode, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def notebook_parameters(notebook: nbformat.NotebookNode) -> dict[str, tuple[str, str]]:
    """name -> (value in this run, meaning): the defaults with papermill's injected values on top.

    Parsed as papermill's inspect does, from the cells' source: a notebook executed by hand
    has no injected cell and ran with its defaults.
    """
    from papermill.translators import PythonTranslator

    found: dict[str, tuple[str, str]] = {}
    for tag in (PARAMETERS_TAG, INJECTED_TAG):
        for cell in (cell for cell in notebook.cells if _tagged(cell, tag)):
            for parameter in PythonTranslator.inspect(cell):
                meaning = found.get(parameter.name, ("", parameter.help))[1]
                found[parameter.name] = (parameter.default, meaning)
    return found


def shown_value(value: str) -> str:
    """A parameter's source text as the report shows it: absolute paths lose the machine's part.

    The runner makes file paths absolute; in a hand-in they would only name the student's
    machine, so a path inside the project is shown from its root and any other by its name.
    """
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    if not (isinstance(literal, str) and Path(literal).is_absolute()):
        return value
    path = Path(literal)
    return repr(str(artifacts.inside_project(path) or Path("…", path.name)))


def run_parameters(notebooks: Sequence[tuple[str, nbformat.NotebookNode]]) -> list[RunParameter]:
    """One row per parameter and value, in the order the notebooks declare them."""
    rows: dict[tuple[str, str], RunParameter] = {}
    for name, notebook in notebooks:
        number = name.split("_", 1)[0]
        for parameter, (value, meaning) in notebook_parameters(notebook).items():
            if parameter in UNREPORTED_PARAMETERS:
                continue
            value = shown_value(value)
            row = rows.get((parameter, value)) or RunParameter(parameter, value, meaning, ())
            rows[parameter, value] = RunParameter(row.name, value, row.meaning or meaning,
                                                  (*row.notebooks, number))
    return list(rows.values())


def parameters_table(parameters: Sequence[RunParameter]) -> str:
    """An HTML table (markdown cells keep HTML as it is), escaped: meanings may hold < or &."""
    def cell(text: str, code: bool = False) -> str:
        text = html.escape(text, quote=False)
        return f"<td><code>{text}</code></td>" if code else f"<td>{text}</td>"

    rows = "\n".join(
        f"<tr>{cell(row.name, code=True)}{cell(row.value, code=True)}{cell(row.meaning)}"
        f"{cell(', '.join(row.notebooks))}</tr>" for row in parameters)
    return ('<table class="report-parameters">\n<thead><tr><th>Parameter</th><th>Value</th>'
            f"<th>Meaning</th><th>Notebooks</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n"
            "</table>")


def merged_notebook(paths: Sequence[Path], title: str) -> nbformat.NotebookNode:
    """A title, the parameter table, then every notebook's cells after a page-break cell."""
    notebooks = [(path.stem, nbformat.read(path, as_version=4)) for path in paths]
    merged = nbformat.v4.new_notebook(metadata=notebooks[0][1].metadata)
    merged.cells.append(nbformat.v4.new_markdown_cell(f"# {title}"))
    merged.cells.append(nbformat.v4.new_markdown_cell(
        "## Parameters of this run\n\nThe value each notebook ran with, and what it sets.\n\n"
        + parameters_table(run_parameters(notebooks))))
    for _, notebook in notebooks:
        merged.cells.append(nbformat.v4.new_raw_cell("", metadata={"tags": [PAGE_BREAK_TAG]}))
        merged.cells.extend(notebook.cells)
    return merged


def render_html(merged: nbformat.NotebookNode, title: str) -> str:
    """The merged notebook as one HTML page, figures embedded, hidden cells left out."""
    import jinja2
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    # nbconvert's own TagRemovePreprocessor (on by this config) drops the hidden cells.
    config = Config({"TagRemovePreprocessor": {"enabled": True,
                                               "remove_cell_tags": set(HIDDEN_TAGS)}})
    exporter = HTMLExporter(config=config, template_name="lab", embed_images=True,
                            extra_loaders=[jinja2.DictLoader({TEMPLATE_NAME: TEMPLATE})],
                            template_file=TEMPLATE_NAME)
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(merged, resources={"metadata": {"name": title}})
    return body


def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _run_browser(command: Sequence[str], timeout: float) -> tuple[int, str]:
    """Run the browser to its end: (exit status, last line it printed)."""
    # Its own process group, so a hung browser is stopped with all its helpers.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RuntimeError(f"{command[0]} did not finish printing in {timeout:g} s") from None
    lines = output.decode(errors="replace").strip().splitlines()
    return process.returncode, lines[-1] if lines else "no output"


def print_pdf(browser: str, html_path: Path, pdf_path: Path,
              timeout: float | None = None) -> Path:
    """Print the HTML page to a PDF; the PDF appears complete or not at all.

    Raises RuntimeError when the browser fails, hangs past the timeout (default
    PRINT_TIMEOUT_S) or writes no PDF.
    """
    # A throwaway profile: prints can run side by side, and none touches the user's own.
    profile_dir = tempfile.TemporaryDirectory(prefix="report-browser-",
                                              ignore_cleanup_errors=True)
    with profile_dir as profile, artifacts.atomic_path(pdf_path) as temporary:
        # Both header flags: newer Chromium knows the first, older ones the second, and
        # each ignores the one it does not know.
        status, last_line = _run_browser(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-pdf-header-footer", "--print-to-pdf-no-header", f"--user-data-dir={profile}",
             f"--print-to-pdf={temporary}", html_path.resolve().as_uri()],
            PRINT_TIMEOUT_S if timeout is None else timeout)
        with temporary.open("rb") as printed:
            if status != 0 or printed.read(4) != b"%PDF":
                raise RuntimeError(f"{browser} exited {status} without a PDF: {last_line}")
    return pdf_path


def write_pdf(html_path: Path, run_dir: Path) -> tuple[Path | None, str]:
    """report.pdf beside report.html, or None and the one line that says how to get it."""
    browser = find_browser()
    if browser is None:
        return None, NO_BROWSER_HINT.format(run_dir=run_dir)
    started = time.perf_counter()
    try:
        pdf = print_pdf(browser, html_path, html_path.with_name(REPORT_PDF))
    except (RuntimeError, OSError) as error:
        return None, (f"report.pdf: printing failed ({error}); print report.html from a "
                      "browser instead")
    return pdf, f"report.pdf: {pdf} (printed in {time.perf_counter() - started:.1f} s)"


def build_report(run_dir: str | Path, pdf: bool = True) -> Report:
    """Write report.html (figures embedded, no external files) into the run directory, and
    report.pdf beside it when `pdf` and a headless Chromium can print it.

    A PDF that cannot be printed never fails the report: Report.pdf_note says why.
    """
    run_dir = Path(run_dir)
    title = f"Run report: {run_dir.resolve().name}"
    merged = merged_notebook(executed_notebooks(run_dir), title)
    html_path = artifacts.write_text(artifacts.artifact_path(run_dir, artifacts.REPORT),
                                     render_html(merged, title))
    pdf_path, note = write_pdf(html_path, run_dir) if pdf else (None, "")
    if pdf_path is None:
        # An older print would show another state of the run than report.html does.
        html_path.with_name(REPORT_PDF).unlink(missing_ok=True)
    return Report(html_path, pdf_path, note)
