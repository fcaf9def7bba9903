"""oneDNN CPU kernels on wherever they pay: chosen before TensorFlow is imported.

TensorFlow turns its oneDNN kernels on by default only on x86 CPUs with AVX-512 VNNI/BF16
or AMX units; on the AVX2-only CPUs most laptops and cloud machines have, it leaves them
off, although they train the networks here faster there (docs/results.md). So on x86 we ask
for them, unless the user set TF_ENABLE_ONEDNN_OPTS, which always wins. This module imports
nothing heavy: helpers/__init__.py calls `choose` before any TensorFlow import.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
# Marks the variable as ours, so the notebooks' kernels (which inherit the runner's
# environment) do not take it for the user's choice.
MARK = "IMGCLF_ONEDNN_SET_BY"
_X86 = ("x86_64", "amd64", "i386", "i686")
_chosen_by: str | None = None


def choose(environment: MutableMapping[str, str], machine: str) -> str | None:
    """Set the variable on x86 unless the user did; who decided: 'user', 'helpers' or None."""
    global _chosen_by
    decided = None
    if VARIABLE in environment:
        decided = environment.get(MARK, "user")
    elif machine.lower() in _X86:
        environment[VARIABLE] = "1"
        environment[MARK] = decided = "helpers"
    _chosen_by = decided
    return decided


def state() -> dict[str, object]:
    """Whether oneDNN kernels are on in this process and who chose: for training.json."""
    try:
        from tensorflow.python.util import _pywrap_util_port

        enabled: bool | None = bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # a private module: it may move
        enabled = None
    return {"enabled": enabled, "set_by": _chosen_by or "tensorflow default",
            VARIABLE: os.environ.get(VARIABLE)}
