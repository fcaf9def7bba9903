"""The report-level truths of issue 37: what a sentence names must be what it measures, no
clause about a setting that is off, no effect claimed from one seed, no general claim in place
of what the run's own figures show, and no tool, file or export words where the brief did not
ask for them.

`report_findings` reads a run directory with its own facts (ReportFacts: what the records say
of label smoothing, the comparison's seeds, the deployment scenario and the split's sizes)
and returns truth.Finding entries; truth.check_run adds them to the sentence rules' own.
Each rule is named after the failure a teacher found in the committed references.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

APPENDIX_TAG = "report-appendix"
NUMBER = r"\d+\.\d+"


@dataclass(frozen=True)
class ReportFacts:
    """What the rules below need of a run, read from its records."""

    highest_validation_accuracy: float | None
    kept_epoch: int | None
    last_epoch: int | None
    label_smoothing: float
    comparison_seeds: int  # seeds per network of its comparison; 0 without one
    deployment_scenario: str | None
    validation_images: int | None
    test_images: int | None
    parameter_names: frozenset[str]


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _history(run_dir: Path) -> list[dict[str, str]]:
    path = run_dir / "history.csv"
    return list(csv.DictReader(path.open())) if path.is_file() else []


def _comparison_seeds(run_dir: Path) -> int:
    """Seeds per network in the run's comparison: runs.csv's, or 1 for a one-seed leaderboard
    (the design before seeds), or 0 without a comparison."""
    runs = run_dir / "comparisons" / "runs.csv"
    if runs.is_file():
        rows = list(csv.DictReader(runs.open()))
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["network"]] = counts.get(row["network"], 0) + 1
        return min(counts.values()) if counts else 0
    return 1 if (run_dir / "comparisons" / "leaderboard.csv").is_file() else 0


def read_report_facts(run_dir: Path) -> ReportFacts:
    """The facts the report rules check against, from the run directory's records."""
    training, split = _json(run_dir / "training.json"), _json(run_dir / "preprocess.json")
    metrics, manifest = _json(run_dir / "metrics.json"), _json(run_dir / "manifest.json")
    history = _history(run_dir)
    given = manifest.get("parameters", {})
    from helpers.parameters import PARAMETER_NAMES

    return ReportFacts(
        highest_validation_accuracy=max((float(row["val_accuracy"]) for row in history),
                                        default=None),
        kept_epoch=training.get("kept_epoch", training.get("best_epoch")),
        last_epoch=int(history[-1]["epoch"]) if history else None,
        label_smoothing=float(training.get("label_smoothing", 0.0)),
        comparison_seeds=_comparison_seeds(run_dir),
        deployment_scenario=given.get("deployment_scenario"),
        validation_images=split.get("validation_images"),
        test_images=metrics.get("test_images"),
        parameter_names=frozenset(PARAMETER_NAMES))


Rule = Callable[[str, ReportFacts], "str | None"]

BEST_VALIDATION = re.compile(rf"\bbest validation accuracy\**\s+({NUMBER})")


def best_validation_misnamed(text: str, facts: ReportFacts) -> str | None:
    """'Best validation accuracy X' where X is not the highest of any epoch."""
    match = BEST_VALIDATION.search(text)
    highest = facts.highest_validation_accuracy
    if match and highest is not None and abs(float(match.group(1)) - highest) >= 0.00005:
        return (f"'best validation accuracy {match.group(1)}', but the highest validation "
                f"accuracy of any epoch is {highest:.4f}: name the kept epoch's as such")
    return None


def chosen_epoch_claim(text: str, facts: ReportFacts) -> str | None:
    """'The epoch was chosen because it did best on validation' where the last was kept."""
    if re.search(r"chosen because it did best on validation", text) and \
            facts.kept_epoch is not None and facts.kept_epoch == facts.last_epoch:
        return (f"says the epoch was chosen on validation, but the kept epoch "
                f"({facts.kept_epoch}) is the last: no choice was made")
    return None


def smoothing_clause_when_off(text: str, facts: ReportFacts) -> str | None:
    """A clause about label smoothing in a run trained without it."""
    if facts.label_smoothing == 0 and re.search(r"\bwithout label smoothing\b|label smoothing,? "
                                                r"so it can", text):
        return "a clause about label smoothing, which this run does not use"
    return None


def one_seed_effect(text: str, facts: ReportFacts) -> str | None:
    """An effect claimed from a comparison of one seed per network."""
    if facts.comparison_seeds == 1 and re.search(
            r"\ba measured effect\b|\ba difference this data detects\b", text):
        return ("claims an effect from one seed per network: the spread between seeds was "
                "not measured")
    return None


def single_sample_yardstick(text: str, facts: ReportFacts) -> str | None:
    """Two accuracies (validation against test) judged with one sample's interval, or a
    validation-to-test drop called expected although it is within chance."""
    if re.search(r"under the best validation accuracy .{0,200}a test set of [\d,]+ images can "
                 r"tell apart.{0,30}the two agree", text):
        return ("judges validation against test with the test set's interval alone; the "
                "difference of two accuracies is uncertain by both samples")
    drop = re.search(rf"Test accuracy \**({NUMBER})\**.*? under the best validation accuracy "
                     rf"({NUMBER})\. Some drop is expected", text)
    if drop and facts.validation_images and facts.test_images:
        test, validation = float(drop.group(1)), float(drop.group(2))
        mean = (test + validation) / 2
        margin = 1.96 * math.sqrt(mean * (1 - mean) * (1 / facts.validation_images
                                                        + 1 / facts.test_images))
        if validation - test <= margin:
            return (f"calls a {100 * (validation - test):.1f}-point drop expected, but two "
                    f"accuracies on {facts.validation_images:,} and {facts.test_images:,} images "
                    f"differ by up to ±{100 * margin:.1f} points by chance")
    return None


GENERIC_CLAIMS = {
    r"usually means the image is ambiguous": "a general claim about confident mistakes; say "
                                             "what the gallery shows instead",
    r"labels worth correcting": "tells the reader to look for wrong labels nobody looked for",
    r"the project's REST API": "names the project's REST API, which a hand-in does not have",
}


def generic_claim(text: str, facts: ReportFacts) -> str | None:
    """A general claim the run's own figures may contradict, or one about tools it lacks."""
    return next((why for pattern, why in GENERIC_CLAIMS.items() if re.search(pattern, text)),
                None)


SENTENCE_RULES: tuple[Rule, ...] = (best_validation_misnamed, chosen_epoch_claim,
                                    smoothing_clause_when_off, one_seed_effect, generic_claim)
# Read over a whole paragraph or bullet: the figures and the verdict are two sentences.
BLOCK_RULES: tuple[Rule, ...] = (single_sample_yardstick,)

TOOL_WORDS = re.compile(r"\boneDNN\b|\bbfloat16\b|\bparams/\S+|\bdocs/\S+\.md|\.yaml\b")
EXPORT_WORDS = re.compile(r"\bEdge TPU\b|\bmicrocontroller\b|\bTFLite\b|\btflite_int8\b")
PARAMETER_IN_PARENTHESES = re.compile(r"\(([a-z_]+(?:, [a-z_]+)*)\)")


def cell_findings(notebook_name: str, cell: nbformat.NotebookNode,
                  facts: ReportFacts) -> list[tuple[str, str]]:
    """(text, why) for what a cell shows that the narrative should not: a stray bare output,
    tool and file words outside the appendix, export words in 08 without a deployment
    scenario, parameter names in 08's prose."""
    from truth import HIDDEN_TAGS, visible_texts

    tags = set(cell.metadata.get("tags", []))
    if HIDDEN_TAGS & tags or APPENDIX_TAG in tags:
        return []
    found = []
    for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
        plain = output.get("data", {}).get("text/plain", "")
        if plain.strip() in ("True", "False", "None"):
            found.append((plain.strip(), "a stray output: a function's return value shown "
                                         "as if it were a result"))
    single = nbformat.v4.new_notebook(cells=[cell])
    for text, _ in visible_texts(single):
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for match in TOOL_WORDS.finditer(prose):
            found.append((match.group(0), "a tool or file word in the narrative (the appendix "
                                          "is the place for it)"))
        if notebook_name == "08_conclusion":
            if not facts.deployment_scenario and (match := EXPORT_WORDS.search(prose)):
                found.append((match.group(0), "export detail in a report whose brief names no "
                                              "deployment"))
            for match in PARAMETER_IN_PARENTHESES.finditer(prose):
                if set(match.group(1).split(", ")) <= facts.parameter_names:
                    found.append((match.group(0), "a parameter name in the prose: a reader "
                                                  "acts on words"))
    return found


def report_findings(run_dir: Path) -> list:
    """Every report-level failure in a run directory's notebooks, as truth.Finding."""
    from truth import Finding, _blocks, notebook_paths, sentences, visible_texts

    facts = read_report_facts(run_dir)
    findings = []
    for path in notebook_paths(run_dir):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            findings += [Finding(path.stem, text, why)
                         for text, why in cell_findings(path.stem, cell, facts)]
        for text, printed in visible_texts(notebook):
            for block in ([] if printed else _blocks(text)):
                findings += [Finding(path.stem, block, why) for rule in BLOCK_RULES
                             if (why := rule(block, facts))]
            for sentence in sentences(text, printed):
                for rule in SENTENCE_RULES:
                    why = rule(sentence.text, facts)
                    if why:
                        findings.append(Finding(path.stem, sentence.text, why))
    return findings
