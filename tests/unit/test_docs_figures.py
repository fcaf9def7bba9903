"""The README and docs/results.md quote the committed records, and agree with each other.

A reference run or benchmark re-run on the same kind of CPU rewrites reports/reference/;
these tests then say which quoted figure no longer matches its record. Nothing here trains.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "results.md"
MEASUREMENTS = ROOT / "docs" / "measurements"
REFERENCES = ROOT / "reports" / "reference"
RESULTS_LIMIT_BYTES = 12 * 1024
# The flags bench/summary.py reports: those that pick TensorFlow's CPU kernels.
KEY_FLAGS = {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile"}
# The names docs/results.md gives the CPUs -> their key in docs/measurements/cpus.json.
CPU_NAMES = {"EPYC BF16": "epyc-bf16", "Xeon AMX": "xeon-amx", "EPYC AVX2": "epyc-avx2"}


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def table(text: str, marker: str) -> list[list[str]]:
    """The rows of the markdown table between <!-- marker --> comments."""
    found = re.search(rf"<!-- {marker} -->(.*?)<!-- /{marker} -->", text, re.S)
    assert found, f"lost the {marker} markers"
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in found.group(1).strip().splitlines()[2:]]


def linked_path(cell: str, page: Path) -> Path:
    """The file a markdown link in a table cell points to, relative to its page."""
    found = re.search(r"\]\(([^)#]+)\)", cell)
    assert found, f"no link to its record in {cell!r}"
    return (page.parent / found.group(1)).resolve()


def seconds(value: float) -> str:
    """Whole seconds as the docs write them: 846 s, 1,011 s."""
    return f"{round(value):,} s"


def readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_results_page_is_a_short_users_page() -> None:
    assert RESULTS.stat().st_size < RESULTS_LIMIT_BYTES, (
        "docs/results.md is for users: move detailed measurements to docs/measurements/")


@pytest.mark.parametrize("name", ["default", "best"])
def test_readme_and_results_table_quote_the_same_reference(name: str) -> None:
    """The README's line per profile and results.md's row: the reference's own figures."""
    metrics = read_json(REFERENCES / name / "metrics.json")
    row = next(row for row in table(RESULTS.read_text(), "results-table") if row[0] == name)
    line = next(line for line in readme_section("Results").splitlines()
                if line.startswith(f"- **{name}**"))
    accuracy, f1 = f"{metrics['test_accuracy']:.4f}", f"{metrics['f1_macro']:.4f}"
    assert row[1].startswith(accuracy) and row[2] == f1
    assert f"test accuracy **{accuracy}**" in line and f"macro F1 {f1}" in line
    runs = metrics.get("seeds", {}).get("runs", [])
    if runs:  # the median of seeds: each seed's figure, epochs and seconds
        seed_figures = ", ".join(f"{run['test_accuracy']:.4f}" for run in runs)
        assert seed_figures in row[1] and seed_figures in line
        assert row[5] == ", ".join(seconds(run["train_seconds"]) for run in runs)
        fastest, slowest = (round(run["train_seconds"]) for run in
                            (min(runs, key=lambda run: run["train_seconds"]),
                             max(runs, key=lambda run: run["train_seconds"])))
        assert f"{fastest:,}-{slowest:,} s of training" in line
    else:
        assert row[4] == str(metrics["epochs_run"]) and f"{metrics['epochs_run']} epochs" in line
        assert row[5] == seconds(metrics["train_seconds"])
        assert f"{seconds(metrics['train_seconds'])} of training" in line


def test_readme_sample_run_is_the_default_reference_run() -> None:
    """Steps, epochs and the summary line: the committed default reference, not another run."""
    reference = REFERENCES / "default"
    manifest = read_json(reference / "manifest.json")
    metrics = read_json(reference / "metrics.json")
    sample = re.search(r"```\nrun directory:(.*?)```", README.read_text(), re.S).group(1)
    done = dict(re.findall(r"\] (\d\d_\w+)\s+done in\s+([\d.]+) s", sample))
    assert done == {step: f"{value:.1f}" for step, value in manifest["step_seconds"].items()}
    history = {int(row["epoch"]): row for row in csv.DictReader(
        (reference / "history.csv").open())}
    notebook = json.loads((reference / "04_train.ipynb").read_text())
    printed = "".join("".join(output.get("text", "")) for cell in notebook["cells"]
                      for output in cell.get("outputs", []))
    epoch_seconds = {int(epoch): figure for epoch, figure in
                     re.findall(r"epoch\s+(\d+)/\d+ .*?([\d.]+) s\n", printed)}
    lines = re.findall(r"epoch\s+(\d+)/\d+\s+loss ([\d.]+)\s+accuracy ([\d.]+)\s+"
                       r"val_loss ([\d.]+)\s+val_accuracy ([\d.]+)\s+(?:lr \S+\s+)?([\d.]+) s",
                       sample)
    assert lines
    for epoch, loss, accuracy, val_loss, val_accuracy, took in lines:
        row = history[int(epoch)]
        assert [loss, accuracy, val_loss, val_accuracy] == [
            f"{float(row[name]):.4f}" for name in ("loss", "accuracy", "val_loss", "val_accuracy")]
        assert took == epoch_seconds[int(epoch)]
    assert (f"test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['f1_macro']:.4f}, "
            f"training {metrics['train_seconds']:.0f} s over {metrics['epochs_run']} epochs"
            ) in sample


def test_cpu_names_match_the_flags_their_records_list() -> None:
    cpus = read_json(MEASUREMENTS / "cpus.json")["cpus"]
    rows = table(RESULTS.read_text(), "cpus-table")
    assert {row[0] for row in rows} == set(CPU_NAMES)
    for row in rows:
        cpu = cpus[CPU_NAMES[row[0]]]
        record = read_json(ROOT / cpu["flags_record"])
        assert record["machine"]["processor"] == cpu["processor"] == row[1]
        assert set(record["cpu_flags"]) & KEY_FLAGS == set(cpu["key_flags"])
        assert all(flag in row[2] for flag in cpu["key_flags"])
        has_bf16 = bool({"avx512_bf16", "amx_bf16"} & set(cpu["key_flags"]))
        assert cpu["auto_precision"] == ("mixed_bfloat16" if has_bf16 else "float32")
        assert row[3] == ("bfloat16" if has_bf16 else "float32")


def test_bench_table_quotes_each_committed_make_bench_run() -> None:
    rows = table(RESULTS.read_text(), "bench-table")
    cpus = read_json(MEASUREMENTS / "cpus.json")["cpus"]
    for cpu_name, commit, keras_io, default, ratio, to_target, link in rows:
        path = linked_path(link, RESULTS)
        record = read_json(path)
        keras = record["models"]["keras.io simple convnet"]
        ours = record["models"]["project default profile"]
        assert record["git"]["commit"].startswith(commit)
        assert record["machine"]["processor"] == cpus[CPU_NAMES[cpu_name]]["processor"]
        flags = read_json(path.parent / "onednn.json")["cpu_flags"]
        assert set(flags) & KEY_FLAGS == set(cpus[CPU_NAMES[cpu_name]]["key_flags"])
        assert keras_io == f"{keras['final_test_accuracy']:.4f}, {keras['train_seconds']:.1f} s"
        assert default == f"{ours['final_test_accuracy']:.4f}, {ours['train_seconds']:.1f} s"
        assert ratio == f"{ours['train_seconds'] / keras['train_seconds']:.3f}×"
        assert to_target == f"{record['ratio']:.3f}×"


def test_readme_ratios_are_the_bench_tables() -> None:
    """The README's 'x keras.io' figures: rows of results.md's bench table, none other."""
    rows = table(RESULTS.read_text(), "bench-table")
    ratios = {row[4].rstrip("×") for row in rows}
    line = next(line for line in readme_section("Results").splitlines()
                if line.startswith("- **default**"))
    quoted = re.findall(r"(\d\.\d{3})(?:-(\d\.\d{3}))?×", line)
    assert quoted
    # Every ratio written as the record rounds it (3 decimals): 0.503× is over 0.5×, 0.50× hides it.
    assert len(re.findall(r"\d\.\d+(?:-\d\.\d+)?×", line)) == len(quoted)
    for low, high in quoted:
        assert low in ratios and (not high or high in ratios), (low, high)
    for cpu_name in ("EPYC AVX2",):  # a range: its least and greatest run
        cpu_ratios = sorted(row[4].rstrip("×") for row in rows if row[0] == cpu_name)
        assert f"{cpu_ratios[0]}-{cpu_ratios[-1]}×" in line
    for accuracy in re.findall(r"accuracy (0\.\d{4})\)|, (0\.\d{4})\)", line):
        figure = next(value for value in accuracy if value)
        assert any(figure in row[3] for row in rows), figure


@pytest.mark.parametrize("marker,kind", [("onednn-table", "onednn"),
                                         ("precision-table", "precision")])
def test_speed_tables_quote_their_records(marker: str, kind: str) -> None:
    for row in table(RESULTS.read_text(), marker):
        record = read_json(linked_path(row[-1], RESULTS))
        assert record["git"]["commit"].startswith(row[1])
        assert record["machine"]["processor"] == read_json(
            MEASUREMENTS / "cpus.json")["cpus"][CPU_NAMES[row[0]]]["processor"]
        if kind == "onednn":
            median = {(item["network"], item["onednn"]): item["median_epoch_seconds"]
                      for item in record["rows"]}
            for cell, network in ((row[2], "default profile"), (row[3], "best profile")):
                assert cell == f"{median[network, True]} / {median[network, False]} s"
            assert (row[4] == "yes") == record["same_seed_identity"]["identical"]
        else:
            epoch = {(item["network"], item["policy"], item["xla"]): item["epoch_seconds"]
                     for item in record["rows"]}
            network = f"{row[2]} profile"
            assert row[3:7] == [f"{epoch[network, policy, xla]}" for xla in (False, True)
                                for policy in ("float32", "mixed_bfloat16")]


def test_other_cpu_figures_quote_their_records() -> None:
    """The default profile on the other CPUs and the best profile in float32: as recorded."""
    text = RESULTS.read_text()
    runs = read_json(MEASUREMENTS / "runs_without_a_run_directory.json")
    xeon = runs["default_profile_seeds_on_xeon_amx"]
    assert (f"| Xeon AMX | {', '.join(f'{value:.4f}' for value in xeon['test'])} (seeds "
            f"{', '.join(map(str, xeon['seeds']))}, pipeline at {xeon['commit']})") in text
    avx2 = runs["default_profile_make_runs_on_epyc_avx2"]
    assert set(avx2["test"]) == {avx2["test"][0]}
    assert (f"| EPYC AVX2 (float32) | {avx2['test'][0]:.4f} (two clean-clone `make run`s at "
            f"{avx2['commit']}, {avx2['train_seconds'][0]} and {avx2['train_seconds'][1]} s of "
            "training)") in text
    best = read_json(REFERENCES / "bench" / "epyc-avx2" / "best-seed42" / "metrics.json")
    assert (f"test accuracy {best['test_accuracy']:.4f} after\n{seconds(best['train_seconds'])}"
            in text)
    assert best["train_seconds"] > 30 * 60  # "over its 30-minute budget there"
    notebooks = [run["test"] for run in runs["notebooks_defaults"]["runs"]]
    assert (f"epochs: {min(notebooks):.4f}-{max(notebooks):.4f} on the"
            in readme_section("The notebooks").replace("\n", " "))


def committed_figures() -> set[str]:
    """Every number in the committed records the docs may quote, as 4-decimal strings."""
    figures: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            figures.add(f"{value:.4f}")
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    paths = [*REFERENCES.glob("*/metrics.json"), *REFERENCES.glob("bench/**/*.json"),
             *MEASUREMENTS.glob("*.json")]
    for path in paths:
        walk(read_json(path))
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):  # notebooks/' own executed run
        figures.update(re.findall(r"0\.\d{4}", notebook.read_text()))
    return figures


@pytest.mark.parametrize("page", [README, RESULTS], ids=["README", "results"])
def test_every_accuracy_quoted_has_a_committed_record(page: Path) -> None:
    """Accuracies (0.xxxx) come from reports/reference/, docs/measurements/ or notebooks/."""
    text = page.read_text()
    if page == README:
        text = readme_section("Results") + readme_section("The notebooks")
    quoted = set(re.findall(r"(?<![\d.])0\.9\d{3}(?!\d)", text))
    assert quoted
    assert quoted <= committed_figures(), sorted(quoted - committed_figures())


# Markdown links: [text](target) outside code; anchors are GitHub's heading slugs.
LINK = re.compile(r"\]\(([^)\s]+)\)")
PLAIN_ANCHOR = re.compile(r"([\w./-]+\.md)#([\w-]+)")


def slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {slug(heading) for heading in re.findall(r"^#+ (.+)$", text, re.M)}


def markdown_pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_markdown_links_and_anchors_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def test_anchors_into_results_from_code_and_params_exist() -> None:
    """params/, helpers/, bench/, notebooks/ and tests/ name results.md sections by anchor."""
    known = anchors(RESULTS)
    missing = []
    for folder in ("params", "helpers", "bench", "notebooks", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or path.suffix not in (".py", ".yaml", ".yml", ".ipynb", ".md"):
                continue
            for name, anchor in PLAIN_ANCHOR.findall(path.read_text(errors="replace")):
                if name.endswith("results.md") and anchor not in known:
                    missing.append(f"{path.relative_to(ROOT)}: {anchor}")
    assert not missing, missing


def test_results_page_names_the_references_commits_and_cpus() -> None:
    """A re-run reference changes its commit (and maybe CPU): the page must say so."""
    text = " ".join(RESULTS.read_text().split())
    cpus = read_json(MEASUREMENTS / "cpus.json")["cpus"]
    for name, said in (("default", "the default"), ("best", "the best profile's seed 42")):
        named = re.search(rf"{said} from a clean clone of (\w{{7}}) on the "
                          r"(EPYC BF16|Xeon AMX|EPYC AVX2)", text)
        assert named, f"results.md must say which commit and CPU made the {name} reference"
        commit, cpu = named.group(1), cpus[CPU_NAMES[named.group(2)]]
        manifest = read_json(REFERENCES / name / "manifest.json")
        assert manifest["git"]["commit"].startswith(commit), name
        assert manifest["machine"]["processor"] == cpu["processor"]
        training = read_json(REFERENCES / name / "training.json")
        assert training["compute_dtype_policy"] == cpu["auto_precision"]
    runs = read_json(REFERENCES / "best" / "metrics.json")["seeds"]["runs"]
    later = [run for run in runs if run["seed"] != 42]
    assert {run["processor"] for run in later} == {cpus["xeon-amx"]["processor"]}
    assert f"seeds 43 and 44 are from {later[0]['commit']} on the Xeon AMX" in text
