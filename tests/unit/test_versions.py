"""The tested versions: requirements.lock agrees with pyproject.toml and is what runs the tests;
the bounds that guard private APIs say why they are there; Colab keeps its own TensorFlow."""

import importlib.metadata
import inspect
import json
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.backend import keras
from helpers.training import devices

tomllib = pytest.importorskip("tomllib", reason="new in Python 3.11, which the lock is for")
ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def pins(lock: str) -> dict[str, str]:
    """A lock's pinned versions by normalized package name."""
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = match[2]
    return found


def requirements(*extras: str) -> list[Requirement]:
    """pyproject.toml's requirements, with those of the named extras."""
    project = PYPROJECT["project"]
    lines = project["dependencies"] + [line for extra in extras
                                       for line in project["optional-dependencies"][extra]]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("lock, extras", [("requirements.lock", ("dev",)),
                                          ("requirements-lab.lock", ("dev", "lab"))])
def test_the_lock_pins_every_requirement_within_its_range(lock: str, extras: tuple) -> None:
    locked = pins(lock)
    for requirement in requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock} lacks {requirement.name}: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock} pins {requirement.name}=={locked[name]}, outside pyproject.toml's "
            f"{requirement}: run `make lock`")


def test_the_lab_lock_is_the_lock_plus_jupyterlab() -> None:
    locked, lab = pins("requirements.lock"), pins("requirements-lab.lock")
    assert {name: lab.get(name) for name in locked} == locked
    assert "jupyterlab" in lab


def test_the_tests_run_on_the_locked_versions() -> None:
    """What `make test` installs is what it tests: every package at its pin."""
    differing = {}
    for name, version in pins("requirements.lock").items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differing[name] = f"{installed} installed, {version} locked"
    assert not differing, f"not the locked versions (make .venv/.installed): {differing}"


def test_the_keras_cap_is_where_the_patched_internals_were_checked() -> None:
    keras_requirement = next(requirement for requirement in requirements()
                             if requirement.name == "keras")
    low, high = devices.PATCHED_KERAS
    assert f"<{high}" in str(keras_requirement.specifier)
    assert devices._release(low) <= devices._release(keras.__version__) < devices._release(high)


def test_missing_keras_internals_are_named_with_the_versions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from keras.src.backend.tensorflow import trainer

    monkeypatch.delattr(trainer, "reduce_per_replica")
    with pytest.raises(RuntimeError) as raised:
        devices._patch_keras_fit_for_multi_worker()
    message = str(raised.value)
    for part in (f"Keras {keras.__version__} is installed", "lacks reduce_per_replica",
                 "keras>=3.11,<3.16"):
        assert part in message
    assert not getattr(trainer, "_patched_for_multi_worker", False)


def test_a_keras_whose_trainer_differs_is_refused_before_patching(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from keras.src.backend.tensorflow import trainer

    monkeypatch.delattr(trainer.TensorFlowTrainer, "_maybe_symbolic_build")
    with pytest.raises(RuntimeError, match="lacks _maybe_symbolic_build"):
        devices._keras_trainer_internals()
    monkeypatch.undo()
    monkeypatch.setattr(keras, "__version__", "3.10.2")
    with pytest.raises(RuntimeError, match=r"Keras 3\.10\.2 is installed, whose trainer differs"):
        devices._keras_trainer_internals()


def test_fastapi_takes_the_request_limits_as_its_own_parameters() -> None:
    """Not as **extra, which an older FastAPI would accept and ignore (pyproject.toml)."""
    from fastapi import FastAPI

    parameters = inspect.signature(FastAPI.__init__).parameters
    assert {"max_body_size", "form_limits"} <= set(parameters)


def test_colab_installs_the_project_over_its_own_tensorflow() -> None:
    """Colab's cell installs pyproject.toml's ranges, never the lock's TensorFlow pin."""
    tensorflow = next(requirement for requirement in requirements()
                      if requirement.name == "tensorflow")
    assert not any(spec.operator in ("<", "<=", "==", "~=", "===")
                   for spec in tensorflow.specifier), "Colab's TensorFlow must satisfy it"
    installs = set()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            installs |= {line.strip() for line in "".join(cell["source"]).splitlines()
                         if "pip install" in line}
    assert installs == {"%pip install --quiet -e {project}"}
