"""A run's report: one self-contained HTML file of its executed notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat

from helpers import artifacts


def executed_notebooks(run_dir: str | Path) -> list[Path]:
    """The run's executed notebooks (01_... to 0N_...), in order."""
    notebooks = sorted(path for path in Path(run_dir).glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{run_dir} holds no executed notebooks (01_*.ipynb ...): "
                                "run the pipeline into it first")
    return notebooks


def merged_notebook(paths: list[Path]) -> nbformat.NotebookNode:
    """All cells of the notebooks, one after another, under the first one's metadata."""
    notebooks = [nbformat.read(path, as_version=4) for path in paths]
    merged = nbformat.v4.new_notebook(metadata=notebooks[0].metadata)
    for notebook in notebooks:
        merged.cells.extend(notebook.cells)
    return merged


def build_report(run_dir: str | Path) -> Path:
    """Write report.html (figures embedded, no external files) into the run directory."""
    from nbconvert import HTMLExporter

    merged = merged_notebook(executed_notebooks(run_dir))
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(
        merged, resources={"metadata": {"name": f"Run report: {Path(run_dir).resolve().name}"}})
    return artifacts.write_text(artifacts.artifact_path(run_dir, artifacts.REPORT), body)
