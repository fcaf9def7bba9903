"""The report's appendix: every notebook parameter with the value this run used and what it
sets, from manifest.json where the runner wrote it (papermill's parser cannot read a `layers`
list with `l2=`), else from the notebooks' parameter cells.
"""

from __future__ import annotations

import ast
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from helpers import artifacts

PARAMETERS_TAG = "parameters"  # the notebook's own defaults (papermill's convention)


INJECTED_TAG = "injected-parameters"  # the values papermill passed in this run


# A machine path, different on every computer: it says nothing about the experiment.
UNREPORTED_PARAMETERS = frozenset({"run_dir"})


@dataclass(frozen=True)
class RunParameter:
    """One row of the report's parameter table."""

    name: str
    value: str  # as the notebook's code wrote it: "cosine", [32, 64], True
    meaning: str  # the comment after the parameter in the notebook's parameters cell
    notebooks: tuple[str, ...]  # the numbers of the notebooks that declare it, "01"


def _tagged(cell: nbformat.NotebookNode, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def notebook_parameters(notebook: nbformat.NotebookNode, injected: bool = True,
                        ) -> dict[str, tuple[str, str]]:
    """name -> (value in this run, meaning): the defaults with papermill's injected values on top.

    Parsed as papermill's inspect does, from the cells' source: a notebook executed by hand
    has no injected cell and ran with its defaults. `injected=False` reads the defaults only
    (papermill cannot parse every value it injects: a list of strings holding "=").
    """
    from papermill.translators import PythonTranslator

    found: dict[str, tuple[str, str]] = {}
    for tag in (PARAMETERS_TAG, INJECTED_TAG) if injected else (PARAMETERS_TAG,):
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


def run_parameters(notebooks: Sequence[tuple[str, nbformat.NotebookNode]],
                   given: Mapping[str, Any] | None = None) -> list[RunParameter]:
    """One row per parameter and value, in the order the notebooks declare them.

    `given` (manifest.json's parameters) holds the values the run was given, which win over
    the notebooks' cells; without it the injected cells are parsed.
    """
    from papermill.translators import PythonTranslator

    rows: dict[tuple[str, str], RunParameter] = {}
    for name, notebook in notebooks:
        number = name.split("_", 1)[0]
        parsed = notebook_parameters(notebook, injected=given is None)
        for parameter, (value, meaning) in parsed.items():
            if parameter in UNREPORTED_PARAMETERS:
                continue
            if given is not None and parameter in given:
                value = PythonTranslator.translate(given[parameter])
            value = shown_value(value)
            row = rows.get((parameter, value)) or RunParameter(parameter, value, meaning, ())
            rows[parameter, value] = RunParameter(row.name, value, row.meaning or meaning,
                                                  (*row.notebooks, number))
    return list(rows.values())


UNUSED_NOTE = "Not used by this run's network. "


def parameters_table(parameters: Sequence[RunParameter],
                     unused: frozenset[str] = frozenset()) -> str:
    """An HTML table (markdown cells keep HTML as it is), escaped: meanings may hold < or &.

    The parameters in `unused` (ones this run's network ignores) say so before their meaning.
    """
    def cell(text: str, code: bool = False) -> str:
        text = html.escape(text, quote=False)
        return f"<td><code>{text}</code></td>" if code else f"<td>{text}</td>"

    rows = "\n".join(
        f"<tr>{cell(row.name, code=True)}{cell(row.value, code=True)}"
        f"{cell((UNUSED_NOTE if row.name in unused else '') + row.meaning)}"
        f"{cell(', '.join(row.notebooks))}</tr>" for row in parameters)
    return ('<table class="report-parameters">\n<thead><tr><th>Parameter</th><th>Value</th>'
            f"<th>Meaning</th><th>Notebooks</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n"
            "</table>")
