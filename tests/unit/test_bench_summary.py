"""bench/summary.py: one table from the three bench files, a warning when they disagree."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import artifacts

REFERENCE = artifacts.PROJECT_ROOT / "reports" / "reference" / "bench"
MACHINE = {"platform": "Linux-x86_64", "processor": "Test CPU 9000", "cpu_count": 2, "gpus": []}
GIT = {"commit": "a" * 40, "uncommitted_changes": False}


def load_summary() -> ModuleType:
    """bench/ is not a package: load the script by path, under a name no test module uses."""
    spec = importlib.util.spec_from_file_location(
        "bench_summary", artifacts.PROJECT_ROOT / "bench" / "summary.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


summary = load_summary()


def synthetic_inputs(directory: Path) -> dict[str, Path]:
    """Three small files as the bench scripts write them, all from one machine and commit."""
    model = {"compute_dtype_policy": "float32", "epochs": []}
    payloads: dict[str, dict[str, Any]] = {
        # No train_seconds_ratio, as in files from before it was added: it must be computed.
        "time_to_accuracy": {"target_accuracy": 0.9, "ratio": 0.25, "models": {
            "keras.io simple convnet": {**model, "final_test_accuracy": 0.9012,
                                        "seconds_to_target": 80.0, "train_seconds": 100.0},
            "project default profile": {**model, "final_test_accuracy": 0.9345,
                                        "seconds_to_target": 20.0, "train_seconds": 50.0}}},
        "precision": {"cpu_has_bfloat16_units": False, "rows": [
            {"network": network, "policy": policy, "xla": xla, "epoch_seconds": seconds}
            for network, f32, bf16 in (("default profile", 20.0, 10.0),
                                       ("best profile", 40.0, 16.0))
            for policy, seconds in (("float32", f32), ("mixed_bfloat16", bf16))
            for xla in (False, True)]},
        "onednn": {"cpu_flags": ["avx", "avx2", "fma"], "same_seed_identity": {
            "digests": ["x", "x"], "identical": True}, "rows": [
            {"network": "default profile", "onednn": True, "median_epoch_seconds": 20.0},
            {"network": "default profile", "onednn": False, "median_epoch_seconds": 30.0},
            {"network": "best profile", "onednn": True, "median_epoch_seconds": 40.0},
            {"network": "best profile", "onednn": False, "median_epoch_seconds": 50.0}]},
    }
    # XLA rows are far slower; the summary must read the XLA-off ones only.
    for row in payloads["precision"]["rows"]:
        row["epoch_seconds"] *= 5 if row["xla"] else 1
    paths = {}
    for name, payload in payloads.items():
        paths[name] = artifacts.write_json(directory / f"{name}.json",
                                           {**payload, "machine": MACHINE, "git": GIT})
    return paths


def test_reference_files_from_two_machines_give_a_warning(tmp_path: Path) -> None:
    paths = {"time_to_accuracy": REFERENCE / "time_to_accuracy_epyc.json",
             "precision": REFERENCE / "precision.json", "onednn": REFERENCE / "onednn.json"}
    result = summary.summarize(summary.load_inputs(paths), paths)
    lines = summary.cpu_lines(result["cpu"])
    assert lines[0].startswith("CPU: AMD EPYC") and "amx_bf16 no" in lines[0]
    assert "avx512_bf16 yes" in lines[0]
    assert any(line.startswith("WARNING") and "Intel(R) Xeon(R) Processor" in line
               for line in lines)
    accuracy = result["time_to_accuracy"]
    assert accuracy["train_seconds_ratio"] == 0.831 and accuracy["time_to_target_ratio"] == 0.169
    text = summary.table(result)
    assert "| training seconds, whole recipe | 212.4 | 176.6 | — | 0.831 |" in text
    assert "| epoch seconds, mixed bfloat16 (XLA off) | — | 10.9 | 17.7 |" in text
    assert "| oneDNN off ÷ on | — | 1.065 | 1.692 |" in text
    out = tmp_path / "summary.json"
    assert summary.main([f"--{name.replace('_', '-')}={path}" for name, path in paths.items()]
                        + [f"--out={out}"]) == 0
    assert artifacts.read_json(out)["cpu"]["warning"] == result["cpu"]["warning"]


def test_one_machine_gives_no_warning_and_the_ratios(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    paths = synthetic_inputs(tmp_path)
    out = tmp_path / "summary.json"
    arguments = [f"--{name.replace('_', '-')}={path}" for name, path in paths.items()]
    assert summary.main([*arguments, f"--out={out}"]) == 0
    printed = capsys.readouterr().out
    assert "WARNING" not in printed and "note:" not in printed
    assert printed.startswith("CPU: Test CPU 9000 (flags from onednn.json); avx2 yes, "
                              "avx512f no")
    assert "| final test accuracy | 0.9012 | 0.9345 | — |  |" in printed
    # 50 / 100 computed (no train_seconds_ratio in the file); 0.25 as the file says.
    assert "| training seconds, whole recipe | 100.0 | 50.0 | — | 0.500 |" in printed
    assert "| training seconds to 0.90 test accuracy | 80.0 | 20.0 | — | 0.250 |" in printed
    assert "| epoch seconds, float32 (XLA off) | — | 20.0 | 40.0 |  |" in printed
    assert "| float32 ÷ bfloat16 | — | 2.000 | 2.500 |  |" in printed
    assert "| oneDNN off ÷ on | — | 1.500 | 1.250 |  |" in printed
    assert "| same-seed weights identical, oneDNN on | — | yes | — |  |" in printed
    saved = artifacts.read_json(out)
    assert saved["cpu"]["warning"] is None
    assert saved["time_to_accuracy"]["train_seconds_ratio"] == 0.5
    assert saved["epoch_seconds"]["networks"]["best profile"] == {
        "float32": 40.0, "mixed_bfloat16": 16.0, "float32_over_bfloat16": 2.5,
        "onednn_on": 40.0, "onednn_off": 50.0, "onednn_off_over_on": 1.25}


def test_a_missing_file_names_the_script_that_writes_it(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    paths = synthetic_inputs(tmp_path)
    paths["precision"].unlink()
    with pytest.raises(artifacts.MissingArtifactError, match="bench/precision.py"):
        summary.load_inputs(paths)
    arguments = [f"--{name.replace('_', '-')}={path}" for name, path in paths.items()]
    out = tmp_path / "summary.json"
    assert summary.main([*arguments, f"--out={out}"]) == 1
    error = capsys.readouterr().err
    assert f"{paths['precision']} is missing: run `python bench/precision.py`" in error
    assert "onednn" not in error and not out.exists()
