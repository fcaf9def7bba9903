"""Redirect file descriptor 2, where C++ libraries and child processes write their logs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def native_stderr_to(path: str | os.PathLike[str]) -> Iterator[None]:
    """Point file descriptor 2 at a file (appended to) for the duration.

    C++ logging and child processes (Jupyter kernels) write there. Python's own warnings
    and tracebacks inside Jupyter are unaffected: they go through sys.stderr.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as target:
        os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
