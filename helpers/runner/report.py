"""A run's report: report.html, one self-contained file of its executed notebooks, the hand-in,
and report.pdf printed from it by a headless Chromium where one is installed.

The report opens with the settings that define the experiment (data, split, network,
optimizer, schedule, batch, epochs, regularization, augmentation, seed), written from the
run's own records, then each notebook on a new printed page, and ends with an appendix of
every notebook parameter. Cells a reader of the hand-in does not need are left out by their
tags (HIDDEN_TAGS): the notebooks' own parameter cells, papermill's injected values (both are
in the appendix), and cells tagged `report-hide` (the Colab install cell, the "## Parameters"
headings). The notebooks' "Open in Colab" badges are dropped, and every figure gets alt text
and a caption (helpers.writing.plots.save_figure gives both; older runs get them here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from helpers import artifacts
from helpers.runner.report_pdf import REPORT_PDF, write_pdf
from helpers.writing import checklist
from helpers.writing.introduction import introduction
from helpers.writing.report_network import unused_parameters
from helpers.writing.report_parameters import (  # noqa: F401 (UNUSED_NOTE, shown_value: API)
    INJECTED_TAG,
    PARAMETERS_TAG,
    UNUSED_NOTE,
    parameters_table,
    run_parameters,
    shown_value,
)
from helpers.writing.report_settings import (
    RunRecords,
    experiment_settings,
    given_parameters,
    read_run_records,
    settings_table,
)

HIDE_TAG = "report-hide"  # any other cell to leave out of the report
HIDDEN_TAGS = (INJECTED_TAG, PARAMETERS_TAG, HIDE_TAG)
PAGE_BREAK_TAG = "report-page-break"  # the generated cell before each notebook
APPENDIX_TAG = "report-appendix"  # moved to the appendix at the report's end
# Notebooks the report carries only when the params file asks for them (by this parameter);
# they still run, and their results stay in their notebooks and records.
ASKED_FOR = {"07_export": "deployment_scenario"}
REPORT_CSS = """
.report-page-break { border-top: 3px double #bbb; margin: 2.5em 0 1em; }
.jp-RenderedHTMLCommon table.report-parameters { width: 100%; margin: 0; table-layout: auto; }
.jp-RenderedHTMLCommon table.report-parameters th,
.jp-RenderedHTMLCommon table.report-parameters td {
  text-align: left; vertical-align: top; padding: 0.25em 0.6em; }
.jp-RenderedHTMLCommon table.report-parameters td:first-child { white-space: nowrap; }
.jp-RenderedHTMLCommon table.report-parameters td:nth-child(3) { width: 55%; }
.jp-RenderedHTMLCommon table.report-settings { width: 100%; margin: 0; table-layout: auto; }
.jp-RenderedHTMLCommon table.report-settings th,
.jp-RenderedHTMLCommon table.report-settings td {
  text-align: left; vertical-align: top; padding: 0.3em 0.6em; }
.jp-RenderedHTMLCommon table.report-settings td:first-child { white-space: nowrap; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  .report-page-break { break-before: page; border: none; margin: 0; }
  img, svg, table, pre, .jp-OutputArea-output, .jp-InputArea { break-inside: avoid; }
  /* A cell's code and what it shows on one page (a cell taller than a page still breaks). */
  .jp-CodeCell { break-inside: avoid; }
  .jp-RenderedHTMLCommon table.report-parameters { break-inside: auto; font-size: 11px; }
  /* A figure and its caption on one page. */
  .jp-OutputArea-child:has(.jp-RenderedImage) { break-after: avoid; }
  tr { break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; }
  img { max-width: 100% !important; height: auto !important; }
  /* About 115 characters to a line fit an A4 page: a model summary stays whole. */
  pre { font-size: 10px !important; white-space: pre-wrap; overflow-wrap: anywhere; }
  .jp-OutputArea-output { overflow: visible !important; }
}
"""
TEMPLATE_NAME = "report.html.j2"
# The lab template, plus the CSS above, the page-break cells drawn as an empty block between
# notebooks (a raw cell would otherwise render nothing), and images' alt text taken from the
# output's image/png metadata as nbconvert's classic template does (the lab one ignores it).
TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block extra_css %}<style type="text/css">""" + REPORT_CSS + """</style>{% endblock extra_css %}
{% block rawcell scoped %}
{%- if '""" + PAGE_BREAK_TAG + """' in cell.metadata.get('tags', []) -%}
<div class="report-page-break"></div>
{%- else -%}{{ super() }}{%- endif -%}
{% endblock rawcell %}
{% block data_png scoped %}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}{{ super() }}{%- endif -%}
{% endblock data_png %}
"""




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














# ---- Cells: no Colab badge, figures with alt text and a caption ----

COLAB_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)[ \t]*\n?")
FIGURE_NAME_CALLS = (re.compile(r"""figure_path\([^,()]+,\s*["'](\w+)["']"""),
                     re.compile(r"""show_figure\([^,()]+,\s*["'](\w+)["']"""))


def without_colab_badge(source: str) -> str:
    """Markdown without its "Open in Colab" badge, which is for the notebook on GitHub."""
    return re.sub(r"\n{3,}", "\n\n", COLAB_BADGE.sub("", source))


def figure_name(source: str) -> str | None:
    """The figure a code cell draws, from its save_figure/show_figure call or plot function."""
    from helpers.writing.plots import FIGURE_OF_FUNCTION

    for pattern in FIGURE_NAME_CALLS:
        if found := pattern.search(source):
            return found.group(1)
    return next((name for function, name in FIGURE_OF_FUNCTION.items()
                 if f".{function}(" in source), None)


def described_figures(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The cell with alt text and a caption under each figure that lacks them.

    helpers.writing.plots.save_figure shows both; this gives the same to runs made before it did.
    """
    from helpers.writing import plots

    if cell.cell_type != "code":
        return cell
    outputs = []
    for output in cell.get("outputs", []):
        outputs.append(output)
        png = "image/png" in output.get("data", {})
        if not png or output.get("metadata", {}).get("image/png", {}).get("alt"):
            continue
        name = figure_name(cell.source)
        if name is None or name not in plots.FIGURE_TEXTS:
            continue
        text = plots.figure_text(name)
        output.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = text.alt
        outputs.append(nbformat.v4.new_output("display_data",
                                              data=plots.caption_bundle(text.caption)))
    cell.outputs = outputs
    return cell


def report_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A notebook cell as the report shows it."""
    if cell.cell_type == "markdown":
        cell.source = without_colab_badge(cell.source)
    return described_figures(cell)


def merged_notebook(paths: Sequence[Path], title: str,
                    records: RunRecords | None = None,
                    given: Mapping[str, Any] | None = None,
                    checklist_text: str = "") -> nbformat.NotebookNode:
    """A title, the settings table, every notebook's cells after a page-break cell, and an
    appendix of every parameter. Without records (a run whose steps 01-04 did not all run)
    the settings table is left out."""
    notebooks = [(path.stem, nbformat.read(path, as_version=4)) for path in paths]
    unused = (unused_parameters(records.model.architecture["architecture"]) if records
              else frozenset())
    new_markdown, page_break = nbformat.v4.new_markdown_cell, nbformat.v4.new_raw_cell
    merged = nbformat.v4.new_notebook(metadata=notebooks[0][1].metadata)
    merged.cells.append(new_markdown(f"# {title}"))
    if records is not None:
        variants = len(records.given.get("comparisons") or [])
        seeds = records.parameter("comparison_seeds") if variants else 1
        merged.cells.append(new_markdown(introduction(records, variants + 1, seeds)))
        merged.cells.append(new_markdown(
            "## Settings of this experiment\n\nWhat defines this experiment, read from the "
            "records the run wrote. Every parameter, with the ones that only choose how it "
            "ran on this computer, is in the appendix at the end.\n\n"
            + settings_table(experiment_settings(records))))
    appendix = []
    for name, notebook in notebooks:
        if name in ASKED_FOR and not (given or {}).get(ASKED_FOR[name]):
            continue  # its results stay in its notebook and records
        merged.cells.append(page_break("", metadata={"tags": [PAGE_BREAK_TAG]}))
        merged.cells.extend(report_cell(cell) for cell in notebook.cells
                            if APPENDIX_TAG not in cell.metadata.get("tags", []))
        appendix += [report_cell(cell) for cell in notebook.cells
                     if APPENDIX_TAG in cell.metadata.get("tags", [])]
    merged.cells.append(page_break("", metadata={"tags": [PAGE_BREAK_TAG]}))
    merged.cells.append(new_markdown(
        "# Appendix\n\nApart from the report above: how the run was computed, and every "
        "parameter it ran with."))
    merged.cells.extend(appendix)
    if checklist_text:
        merged.cells.append(new_markdown(checklist_text))
    merged.cells.append(new_markdown(
        "## Every parameter\n\nThe value each notebook ran with, and what it sets.\n\n"
        + parameters_table(run_parameters(notebooks, given), unused)))
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


def build_report(run_dir: str | Path, pdf: bool = True) -> Report:
    """Write report.html (figures embedded, no external files) into the run directory, and
    report.pdf beside it when `pdf` and a headless Chromium can print it.

    A PDF that cannot be printed never fails the report: Report.pdf_note says why.
    """
    run_dir = Path(run_dir)
    title = f"Run report: {run_dir.resolve().name}"
    records = read_run_records(run_dir)
    finished = artifacts.artifact_path(run_dir, artifacts.METRICS).is_file()
    merged = merged_notebook(executed_notebooks(run_dir), title, records,
                             given_parameters(run_dir),
                             checklist.markdown(run_dir, records) if records and finished
                             else "")
    html_path = artifacts.write_text(artifacts.artifact_path(run_dir, artifacts.REPORT),
                                     render_html(merged, title))
    pdf_path, note = write_pdf(html_path, run_dir) if pdf else (None, "")
    if pdf_path is None:
        # An older print would show another state of the run than report.html does.
        html_path.with_name(REPORT_PDF).unlink(missing_ok=True)
    return Report(html_path, pdf_path, note)
