"""Which process on which machine runs a sweep's trial, and whether it still runs.

A trial records its worker's host and process id. Process ids are reused: a process that took
a dead worker's id keeps its trial alive only until the trial's heartbeat goes stale.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def this_worker() -> dict[str, Any]:
    """Who runs a trial: host and process id."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return True
