"""Load-test the REST server on loopback: `python -m helpers.serving.loadtest --run-dir DIR`.

N concurrent clients, each on its own keep-alive connection, send requests back to back
for a fixed time: single test images as PNG uploads and as JSON, with a share of malformed
requests (not an image, empty, wrong shape, wrong type, broken JSON, too many pixels). The
client is a few lines of asyncio over raw sockets, so it costs the shared CPU far less than
the server it measures. It reports latency percentiles, requests per second and every
answer that was not the expected one: 200 for a good request, a 4xx for a bad one.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from helpers import artifacts
from helpers.command_line import CommandError, run_command


@dataclass(frozen=True)
class Request:
    """A ready-to-send HTTP request and what kind of answer it should get."""

    kind: str
    raw: bytes
    malformed: bool


@dataclass
class Outcome:
    """One request's answer."""

    kind: str
    malformed: bool
    status: int  # 0: the connection failed
    seconds: float


def http_request(path: str, content_type: str, body: bytes, host: str) -> bytes:
    """The bytes of an HTTP/1.1 POST with a keep-alive connection."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


def png_bytes(pixels: np.ndarray) -> bytes:
    """An H x W x C uint8 image as PNG."""
    from PIL import Image

    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(field: str, filename: str, content_type: str, data: bytes) -> tuple[str, bytes]:
    """A multipart/form-data body with one file field, and its Content-Type."""
    boundary = "loadtest7f3a9c"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def build_requests(images: np.ndarray, host: str, count: int = 200) -> tuple[
        list[Request], list[Request]]:
    """Good single-image requests (PNG uploads and JSON) and every kind of malformed one."""
    good = []
    for index in range(min(count, len(images))):
        content_type, body = multipart("file", f"test{index}.png", "image/png",
                                       png_bytes(images[index]))
        good.append(Request("png_upload", http_request("/predict", content_type, body, host),
                            False))
        body = json.dumps({"image": images[index].tolist()}).encode()
        good.append(Request("json_image", http_request("/predict/pixels", "application/json",
                                                       body, host), False))
    height, width, channels = images.shape[1:]
    huge = np.zeros((8000, 8000, 1 if channels == 1 else 3), np.uint8)  # 64 MP, small PNG
    not_image_type, not_image = multipart("file", "notes.txt", "text/plain", b"not an image")
    huge_type, huge_body = multipart("file", "huge.png", "image/png", png_bytes(huge))
    wrong_shape = json.dumps({"image": np.zeros((height + 1, width, channels)).tolist()})
    bad = [
        Request("not_an_image", http_request("/predict", not_image_type, not_image, host), True),
        Request("empty", http_request("/predict/image", "image/png", b"", host), True),
        Request("wrong_shape", http_request("/predict/pixels", "application/json",
                                            wrong_shape.encode(), host), True),
        Request("wrong_type", http_request("/predict/image", "text/plain", b"hello", host), True),
        Request("broken_json", http_request("/predict/pixels", "application/json",
                                            b'{"image": [1,', host), True),
        Request("too_many_pixels", http_request("/predict", huge_type, huge_body, host), True),
    ]
    return good, bad


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of one HTTP/1.1 response, and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines[1:] if line)}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() != "close"


async def client(host: str, port: int, good: list[Request], bad: list[Request],
                 malformed_share: float, deadline: float, seed: int,
                 outcomes: list[Outcome]) -> None:
    """One client: a keep-alive connection, requests back to back until the deadline."""
    generator = np.random.default_rng(seed)
    reader = writer = None
    while time.perf_counter() < deadline:
        malformed = generator.random() < malformed_share
        choices = bad if malformed else good
        request = choices[int(generator.integers(len(choices)))]
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request.raw)
            await writer.drain()
            status, keep_alive = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status, keep_alive = 0, False
        outcomes.append(Outcome(request.kind, malformed, status,
                                time.perf_counter() - started))
        if not keep_alive and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def summarize(outcomes: list[Outcome], seconds: float, clients: int) -> dict[str, Any]:
    """Latency percentiles (ms), requests per second and the unexpected answers."""

    def percentiles(selected: list[Outcome]) -> dict[str, float]:
        if not selected:
            return {}
        times = np.array([outcome.seconds for outcome in selected]) * 1000
        return {f"p{q}_ms": round(float(np.percentile(times, q)), 2) for q in (50, 95, 99)}

    good = [outcome for outcome in outcomes if not outcome.malformed]
    bad = [outcome for outcome in outcomes if outcome.malformed]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        statuses[str(outcome.status)] = statuses.get(str(outcome.status), 0) + 1
    return {
        "clients": clients, "seconds": round(seconds, 2), "requests": len(outcomes),
        "requests_per_second": round(len(outcomes) / seconds, 1),
        "malformed_requests": len(bad),
        "server_errors_5xx": sum(500 <= outcome.status < 600 for outcome in outcomes),
        "connection_errors": sum(outcome.status == 0 for outcome in outcomes),
        "good_not_200": sum(outcome.status != 200 for outcome in good),
        "malformed_not_4xx": sum(not 400 <= outcome.status < 500 for outcome in bad),
        "statuses": statuses,
        "latency_all": percentiles(outcomes),
        "latency_single_image": percentiles(good),
        "latency_by_kind": {kind: percentiles([outcome for outcome in outcomes
                                               if outcome.kind == kind])
                            for kind in sorted({outcome.kind for outcome in outcomes})},
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
    }


async def run_load(host: str, port: int, images: np.ndarray, clients: int, seconds: float,
                   malformed_share: float, seed: int = 0) -> dict[str, Any]:
    """Run the clients for `seconds` and summarize what they saw."""
    good, bad = build_requests(images, f"{host}:{port}")
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client(host, port, good, bad, malformed_share, deadline,
                                  seed + number, outcomes) for number in range(clients)))
    return summarize(outcomes, time.perf_counter() - started, clients)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(run_dir: Path, port: int, timeout: float = 120) -> subprocess.Popen:
    """`python -m helpers.serving` in a child process, returned once /health answers."""
    import urllib.request

    server = subprocess.Popen(
        [sys.executable, "-m", "helpers.serving", "--run-dir", str(run_dir), "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=artifacts.PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}: "
                               f"{server.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"the server did not answer /health within {timeout:g} s")


@click.command(help=__doc__)
@click.option("--run-dir", type=click.Path(path_type=Path), required=True,
              help="the run whose test images are sent (and served, unless --port)")
@click.option("--port", type=int, help="load an already running server on 127.0.0.1:PORT; by "
                                       "default a server for --run-dir is started and stopped")
@click.option("--clients", type=click.IntRange(min=1), default=50, show_default=True,
              help="concurrent keep-alive connections")
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), default=30,
              show_default=True, help="how long the clients send")
@click.option("--malformed", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="share of malformed requests")
@click.option("--output", type=click.Path(path_type=Path),
              help="also write the figures to this JSON file")
def loadtest(run_dir: Path, port: int | None, clients: int, seconds: float, malformed: float,
             output: Path | None) -> int:
    """Print the figures as JSON; 1 if any request got a 5xx or lost its connection."""
    try:
        images = artifacts.read_arrays(artifacts.require(
            run_dir, artifacts.DATASET_ARRAYS, "01_load_data"))["x_test"]
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error), exit_code=2) from error
    server = None
    if port is None:
        port = free_port()
        try:
            server = start_server(run_dir, port)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
    try:
        figures = asyncio.run(run_load("127.0.0.1", port, images, clients, seconds, malformed))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    figures["machine"] = artifacts.machine_info([])
    click.echo(json.dumps(figures, indent=2))
    if output:
        artifacts.write_json(output, figures)
    return 0 if figures["server_errors_5xx"] == 0 and figures["connection_errors"] == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (`imgclf-loadtest`): 0 when the server never failed."""
    return run_command(loadtest, argv, "imgclf-loadtest")


if __name__ == "__main__":
    raise SystemExit(main())
