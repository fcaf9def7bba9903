"""One table of what `make bench` measured: time to accuracy, precision and oneDNN, side by side.

Reads the three JSON files the bench scripts write, prints the CPU they ran on (with the
flags that decide TensorFlow's kernels), a warning when the files come from different
machines or commits (their figures are then not comparable), and one markdown table; the
same figures go to summary.json, so a `make bench` run ends with everything in one place.

    python bench/summary.py [--time-to-accuracy reports/runs/bench/time_to_accuracy.json]
        [--precision reports/runs/bench/precision.json] [--onednn reports/runs/bench/onednn.json]
        [--out reports/runs/bench/summary.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from helpers import artifacts

BENCH_RUNS = artifacts.PROJECT_ROOT / "reports" / "runs" / "bench"
# Each input, the script that writes it (named in the error when it is missing).
SCRIPTS = {"time_to_accuracy": "bench/time_to_accuracy.py", "precision": "bench/precision.py",
           "onednn": "bench/onednn.py"}
# The flags that pick TensorFlow's CPU kernels: AVX2/AVX-512 float32, bfloat16 and int8
# instructions, and the AMX tiles; AVX-512 BF16 or AMX make mixed bfloat16 pay.
KEY_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")
KERAS_IO, DEFAULT = "keras.io simple convnet", "project default profile"
NETWORKS = ("default profile", "best profile")
DASH = "—"


def load_inputs(paths: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Read every input; name all missing ones, and the script that writes each, at once."""
    missing = [f"{paths[name]} is missing: run `python {SCRIPTS[name]}` (or `make bench`)"
               for name in SCRIPTS if not Path(paths[name]).is_file()]
    if missing:
        raise artifacts.MissingArtifactError("\n".join(missing))
    return {name: artifacts.read_json(paths[name]) for name in SCRIPTS}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to 3 decimals (as the bench scripts round), None if unknown."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def provenance(inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each file's CPU and commit, the key flags, and a warning if they differ between files."""
    sources = {name: {"processor": data.get("machine", {}).get("processor"),
                      "cpu_count": data.get("machine", {}).get("cpu_count"),
                      "commit": data.get("git", {}).get("commit"),
                      "uncommitted_changes": data.get("git", {}).get("uncommitted_changes")}
               for name, data in inputs.items()}
    # Whole machine records are compared (platform, CPU, cores), not only the model name.
    machines = {repr(sorted(data.get("machine", {}).items())) for data in inputs.values()}
    commits = {data.get("git", {}).get("commit") for data in inputs.values()}
    warning = None
    if len(machines) > 1 or len(commits) > 1:
        differs = " and ".join(what for what, values in (("machines", machines),
                                                         ("commits", commits))
                               if len(values) > 1)
        warning = (f"WARNING: the three files were measured on different {differs}, so their "
                   "figures are not comparable: " + "; ".join(
                       f"{name}: {source['processor']} at {str(source['commit'])[:7]}"
                       for name, source in sources.items()))
    # Only onednn.py records the CPU's flags; a file that records them later is used too.
    flag_source = next((name for name in ("onednn", *SCRIPTS) if inputs[name].get("cpu_flags")),
                       None)
    flags = set(inputs[flag_source]["cpu_flags"]) if flag_source else None
    return {"sources": sources, "warning": warning, "flags_from": flag_source,
            "cpu_model": sources[flag_source or "time_to_accuracy"]["processor"],
            "flags": {flag: flag in flags for flag in KEY_FLAGS} if flags is not None else None,
            "cpu_has_bfloat16_units": inputs["precision"].get("cpu_has_bfloat16_units")}


def time_to_accuracy_figures(data: dict[str, Any]) -> dict[str, Any]:
    """keras.io's convnet against the default profile, and the default ÷ keras.io ratios."""
    models = data.get("models", {})
    figures = {name: {key: models.get(name, {}).get(key) for key in
                      ("final_test_accuracy", "train_seconds", "seconds_to_target",
                       "compute_dtype_policy")} for name in (KERAS_IO, DEFAULT)}
    reference, project = figures[KERAS_IO], figures[DEFAULT]
    # Older files lack train_seconds_ratio, and "ratio" is None when a model missed the target.
    total = data.get("train_seconds_ratio")
    to_target = data.get("ratio")
    return {"target_accuracy": data.get("target_accuracy", 0.9), "models": figures,
            "train_seconds_ratio": total if total is not None else ratio(
                project["train_seconds"], reference["train_seconds"]),
            "time_to_target_ratio": to_target if to_target is not None else ratio(
                project["seconds_to_target"], reference["seconds_to_target"])}


def epoch_figures(precision: dict[str, Any], onednn: dict[str, Any]) -> dict[str, Any]:
    """Seconds per Fashion-MNIST epoch of both networks by precision and by oneDNN setting."""
    # XLA off only: it is how training runs (XLA was several times slower on these CPUs).
    by_policy = {(row["network"], row["policy"]): row["epoch_seconds"]
                 for row in precision.get("rows", []) if not row.get("xla")}
    by_onednn = {(row["network"], row["onednn"]): row["median_epoch_seconds"]
                 for row in onednn.get("rows", [])}
    figures = {}
    for network in NETWORKS:
        float32 = by_policy.get((network, "float32"))
        bfloat16 = by_policy.get((network, "mixed_bfloat16"))
        on, off = by_onednn.get((network, True)), by_onednn.get((network, False))
        figures[network] = {"float32": float32, "mixed_bfloat16": bfloat16,
                            "float32_over_bfloat16": ratio(float32, bfloat16),
                            "onednn_on": on, "onednn_off": off,
                            "onednn_off_over_on": ratio(off, on)}
    identity = onednn.get("same_seed_identity", {})
    return {"networks": figures, "same_seed_identical_onednn_on": identity.get("identical")}


def summarize(inputs: dict[str, dict[str, Any]], paths: dict[str, Path]) -> dict[str, Any]:
    """Every figure of the table, as summary.json holds them."""
    # Paths from the project root, so a committed summary names no one's machine.
    return {"inputs": {name: str(artifacts.inside_project(Path(path).resolve()) or path)
                       for name, path in paths.items()},
            "cpu": provenance(inputs),
            "time_to_accuracy": time_to_accuracy_figures(inputs["time_to_accuracy"]),
            "epoch_seconds": epoch_figures(inputs["precision"], inputs["onednn"])}


PER_EPOCH_ROWS = (("epoch seconds, float32 (XLA off)", "float32", 1),
                  ("epoch seconds, mixed bfloat16 (XLA off)", "mixed_bfloat16", 1),
                  ("float32 ÷ bfloat16", "float32_over_bfloat16", 3),
                  ("epoch seconds, oneDNN on (median)", "onednn_on", 1),
                  ("epoch seconds, oneDNN off (median)", "onednn_off", 1),
                  ("oneDNN off ÷ on", "onednn_off_over_on", 3))


def cell(value: Any, digits: int = 1) -> str:
    """A table cell: a dash for unknown, yes/no for flags, numbers to `digits` decimals."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        return f"{value:.{digits}f}"
    return str(value)


def cpu_lines(cpu: dict[str, Any]) -> list[str]:
    """The CPU line (model and key flags) and, when the files disagree, the warning."""
    flags = ("unknown (no file recorded cpu_flags)" if cpu["flags"] is None else
             ", ".join(f"{flag} {cell(present)}" for flag, present in cpu["flags"].items()))
    where = f" (flags from {cpu['flags_from']}.json)" if cpu["flags_from"] else ""
    lines = [f"CPU: {cpu['cpu_model']}{where}; {flags}; bfloat16 units (precision.json): "
             f"{cell(cpu['cpu_has_bfloat16_units'])}"]
    if cpu["warning"]:
        lines.append(cpu["warning"])
    dirty = [name for name, source in cpu["sources"].items() if source["uncommitted_changes"]]
    if dirty:  # the commit alone then does not say which code was measured
        lines.append(f"note: measured with uncommitted changes: {', '.join(dirty)}")
    return lines


def table(summary: dict[str, Any]) -> str:
    """The one markdown table: networks side by side, ratios in their own column or rows."""
    accuracy = summary["time_to_accuracy"]
    reference, project = (accuracy["models"][name] for name in (KERAS_IO, DEFAULT))
    epochs = summary["epoch_seconds"]["networks"]
    default, best = epochs["default profile"], epochs["best profile"]
    target = accuracy["target_accuracy"]
    rows = [
        ["compute policy", reference["compute_dtype_policy"], project["compute_dtype_policy"],
         DASH, ""],
        ["final test accuracy", cell(reference["final_test_accuracy"], 4),
         cell(project["final_test_accuracy"], 4), DASH, ""],
        ["training seconds, whole recipe", cell(reference["train_seconds"]),
         cell(project["train_seconds"]), DASH, cell(accuracy["train_seconds_ratio"], 3)],
        [f"training seconds to {target:.2f} test accuracy", cell(reference["seconds_to_target"]),
         cell(project["seconds_to_target"]), DASH, cell(accuracy["time_to_target_ratio"], 3)],
    ]
    # Per-epoch seconds: one row per figure, the default and best networks side by side.
    rows += [[label, DASH, cell(default[key], digits), cell(best[key], digits), ""]
             for label, key, digits in PER_EPOCH_ROWS]
    # onednn.py's identity check trains the default network only.
    rows.append(["same-seed weights identical, oneDNN on", DASH,
                 cell(summary["epoch_seconds"]["same_seed_identical_onednn_on"]), DASH, ""])
    header = ["figure", "keras.io simple convnet", "default profile", "best profile",
              "default ÷ keras.io"]
    lines = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in SCRIPTS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=Path,
                            default=BENCH_RUNS / f"{name}.json")
    parser.add_argument("--out", type=Path, default=BENCH_RUNS / "summary.json")
    arguments = parser.parse_args(argv)
    paths = {name: getattr(arguments, name) for name in SCRIPTS}
    try:
        inputs = load_inputs(paths)
    except artifacts.MissingArtifactError as error:
        print(error, file=sys.stderr)
        return 1
    summary = summarize(inputs, paths)
    print("\n".join(cpu_lines(summary["cpu"])))
    print()
    print(table(summary))
    artifacts.write_json(arguments.out, summary)
    print(f"\nwrote {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
