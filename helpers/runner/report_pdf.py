"""report.pdf: report.html printed by a headless Chromium, complete or not at all."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from helpers import artifacts

REPORT_PDF = "report.pdf"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT_S = 180.0
NO_BROWSER_HINT = ("report.pdf: no headless Chromium found; install Debian's chromium "
                   "(apt-get install chromium) and run `python -m helpers.runner report "
                   "{run_dir}`, or print report.html from a browser")

# Each notebook starts a new printed page; figures, tables and code are never cut in two.
# The lab template's output areas scroll sideways on screen, which on paper would clip.

def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _run_browser(command: Sequence[str], timeout: float) -> tuple[int, str]:
    """Run the browser to its end: (exit status, last line it printed)."""
    # Its own process group, so a hung browser is stopped with all its helpers.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RuntimeError(f"{command[0]} did not finish printing in {timeout:g} s") from None
    lines = output.decode(errors="replace").strip().splitlines()
    return process.returncode, lines[-1] if lines else "no output"


def print_pdf(browser: str, html_path: Path, pdf_path: Path,
              timeout: float | None = None) -> Path:
    """Print the HTML page to a PDF; the PDF appears complete or not at all.

    Raises RuntimeError when the browser fails, hangs past the timeout (default
    PRINT_TIMEOUT_S) or writes no PDF.
    """
    # A throwaway profile: prints can run side by side, and none touches the user's own.
    profile_dir = tempfile.TemporaryDirectory(prefix="report-browser-",
                                              ignore_cleanup_errors=True)
    with profile_dir as profile, artifacts.atomic_path(pdf_path) as temporary:
        # Both header flags: newer Chromium knows the first, older ones the second, and
        # each ignores the one it does not know.
        status, last_line = _run_browser(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-pdf-header-footer", "--print-to-pdf-no-header", f"--user-data-dir={profile}",
             f"--print-to-pdf={temporary}", html_path.resolve().as_uri()],
            PRINT_TIMEOUT_S if timeout is None else timeout)
        with temporary.open("rb") as printed:
            if status != 0 or printed.read(4) != b"%PDF":
                raise RuntimeError(f"{browser} exited {status} without a PDF: {last_line}")
    return pdf_path


def write_pdf(html_path: Path, run_dir: Path) -> tuple[Path | None, str]:
    """report.pdf beside report.html, or None and the one line that says how to get it."""
    browser = find_browser()
    if browser is None:
        return None, NO_BROWSER_HINT.format(run_dir=run_dir)
    started = time.perf_counter()
    try:
        pdf = print_pdf(browser, html_path, html_path.with_name(REPORT_PDF))
    except (RuntimeError, OSError) as error:
        return None, (f"report.pdf: printing failed ({error}); print report.html from a "
                      "browser instead")
    return pdf, f"report.pdf: {pdf} (printed in {time.perf_counter() - started:.1f} s)"
