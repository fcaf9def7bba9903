"""Which process on which machine runs a sweep's trial, and whether it still runs.

A trial records its worker's host, process id and the process's start time; process ids are
reused, so a process counts as the same one only with the same start time (from /proc).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def this_worker() -> dict[str, Any]:
    """Who runs a trial: host, process id and the process's start time (pids are reused)."""
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "started": process_start(os.getpid())}


def process_start(pid: int) -> str | None:
    """A process's start time in clock ticks from /proc ('' where there is no /proc)."""
    if not Path("/proc/self/stat").is_file():
        return ""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def process_alive(pid: int, started: str | None) -> bool:
    """Whether the process that took a trial on this machine still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process with that id: alive, but compare start times
    return not started or process_start(pid) in ("", started)
