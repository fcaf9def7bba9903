"""A REST API and a web page for a run's trained model: `python -m helpers.serving --run-dir DIR`.

POST /predict takes an image (multipart upload, or a raw PNG/JPEG body) or JSON pixel
arrays and returns the top classes; GET /health, GET /metadata, the OpenAPI schema at
/openapi.json (browsable at /docs), and the web page at /. Bad requests get a 4xx whose
`detail` says what was wrong; the server keeps serving.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from helpers.serving.predict import (
    MAX_IMAGE_PIXELS,
    InputError,
    Predictor,
    TooLargeError,
    image_to_pixels,
    pixels_from_json,
)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY_BYTES = 10 * 1024 * 1024  # a large phone photo; JSON batches share the limit
MAX_BATCH_IMAGES = 1024
MAX_BATCHED_IMAGES = 256  # images the batcher runs through the model in one call
IMAGE_TYPES = ("image/png", "image/jpeg")


class ClassScore(BaseModel):
    """One class and its probability."""

    class_name: str = Field(alias="class")
    index: int
    probability: float


class PredictResponse(BaseModel):
    """The top classes of every image in the request, in order."""

    model_version: str
    predictions: list[list[ClassScore]]


class BatchingPredictor:
    """Runs concurrent requests' images through the model together.

    Requests that arrive while the model is busy wait and then go through in one call, so
    under load the model runs fewer, larger batches; a lone request waits for nobody.
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray],
                 max_batch_images: int = MAX_BATCHED_IMAGES) -> None:
        self._predict = predict
        self._max_batch_images = max_batch_images
        self._pending: list[tuple[np.ndarray, asyncio.Future[np.ndarray]]] = []
        self._wake = asyncio.Event()
        # One thread: TensorFlow spreads each call over the cores itself.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker and its thread."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def __call__(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities of these images, computed with whatever else is waiting."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append((images, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                taken, count = [], 0
                while self._pending and (not taken or count + len(self._pending[0][0])
                                         <= self._max_batch_images):
                    images, future = self._pending.pop(0)
                    taken.append((images, future))
                    count += len(images)
                batch = np.concatenate([images for images, _ in taken])
                try:
                    probabilities = await loop.run_in_executor(self._executor, self._predict,
                                                               batch)
                except Exception as error:  # noqa: BLE001 - handed to the waiting requests
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(error)
                    continue
                start = 0
                for images, future in taken:
                    if not future.done():  # a client that went away leaves a cancelled one
                        future.set_result(probabilities[start: start + len(images)])
                    start += len(images)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(400, f"Content-Length {declared!r} is not a number")
        if int(declared) > limit:
            raise HTTPException(413, f"the body is {int(declared):,} bytes, more than the "
                                     f"{limit:,} accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is more than the {limit:,} bytes accepted")
        chunks.append(chunk)
    return b"".join(chunks)


async def uploaded_image(request: Request, body: bytes) -> bytes:
    """The bytes of the image in a multipart/form-data body (field `file`)."""
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1,
                                     max_fields=10).parse()
    except MultiPartException as error:
        raise HTTPException(400, f"malformed multipart/form-data body: {error.message}") \
            from error
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        fields = ", ".join(form.keys()) or "none"
        raise HTTPException(400, "the multipart form needs the image in a file field named "
                                 f"'file' (fields sent: {fields})")
    data = await upload.read()
    await form.close()
    return data


def images_from_request(content_type: str, body: bytes, input_shape: tuple[int, int, int],
                        max_images: int) -> np.ndarray:
    """Float32 N x H x W x C raw pixels from a JSON or raw image body (not multipart)."""
    if content_type == "application/json":
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"the body is not valid JSON ({error})") from error
        except RecursionError as error:
            raise InputError("the JSON body is nested too deeply to be pixel arrays") from error
        return pixels_from_json(payload, input_shape, max_images)
    return image_to_pixels(body, input_shape)[np.newaxis].astype(np.float32)


PREDICT_REQUEST_BODY = {
    "required": True,
    "description": "One image file (PNG or JPEG, any size; converted like the training "
                   "images), or raw 0-255 pixels as JSON.",
    "content": {
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}}}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"oneOf": [
            {"type": "object", "required": ["image"], "properties": {"image": {
                "type": "array", "description": "one image: height x width [x channels]"}}},
            {"type": "object", "required": ["images"], "properties": {"images": {
                "type": "array", "description": "a batch: N x height x width [x channels]"}}},
        ]}},
    },
}


def create_app(run_dir: str | Path, max_body_bytes: int = MAX_BODY_BYTES,
               max_batch_images: int = MAX_BATCH_IMAGES,
               max_image_pixels: int = MAX_IMAGE_PIXELS) -> FastAPI:
    """The FastAPI application serving one run's model."""
    predictor = Predictor(run_dir)
    info = predictor.info
    predictor.probabilities(np.zeros((1, *info.input_shape), np.float32))  # compile now
    batcher = BatchingPredictor(predictor.probabilities)
    export_table = _export_table(Path(run_dir))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # TensorFlow and Keras leave millions of long-lived Python objects; every full
        # garbage collection walked them all, stalling every request for ~200 ms (measured:
        # 6% of requests under 50 clients). Freezing them keeps collections to new objects.
        gc.collect()
        gc.freeze()
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="Image classifier", version=info.version, lifespan=lifespan,
                  description=f"Classifies {' x '.join(map(str, info.input_shape))} images "
                              f"into {len(info.class_names)} classes: "
                              f"{', '.join(info.class_names)}.")

    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(error)},
                            status_code=413 if isinstance(error, TooLargeError) else 400)

    @app.get("/health", summary="Whether the server is up and its model loaded")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model_version": info.version}

    @app.get("/metadata", summary="Classes, input shape, model version and test metrics")
    async def metadata() -> dict[str, Any]:
        return {"classes": list(info.class_names), "input_shape": list(info.input_shape),
                "channels": info.input_shape[2], "model_version": info.version,
                "model_file": info.model_path.name, "test_metrics": info.test_metrics,
                "export": export_table,
                "limits": {"max_body_bytes": max_body_bytes,
                           "max_batch_images": max_batch_images,
                           "max_image_pixels": max_image_pixels},
                "input": "raw pixels 0-255; images are converted to "
                         f"{'grayscale' if info.input_shape[2] == 1 else 'RGB'} and "
                         f"resized to {info.input_shape[1]}x{info.input_shape[0]}"}

    @app.post("/predict", response_model=PredictResponse, response_model_by_alias=True,
              summary="Top classes of an uploaded image or of JSON pixel arrays",
              openapi_extra={"requestBody": PREDICT_REQUEST_BODY},
              responses={400: {"description": "Malformed input; `detail` says what"},
                         413: {"description": "Body, image or batch over the limits"},
                         415: {"description": "Unsupported Content-Type"}})
    async def predict(request: Request,
                      top_k: int = Query(3, ge=1, le=len(info.class_names),
                                         description="classes returned per image")
                      ) -> JSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("multipart/form-data", "application/json", *IMAGE_TYPES):
            raise HTTPException(415, f"Content-Type {content_type or '(none)'!r} is not "
                                     "accepted: send multipart/form-data with a 'file' field, "
                                     "image/png, image/jpeg, or application/json")
        body = await read_body(request, max_body_bytes)
        if not body:
            raise HTTPException(400, "the request body is empty")
        if content_type == "multipart/form-data":
            data = await uploaded_image(request, body)
            images = image_to_pixels(data, info.input_shape,
                                     max_image_pixels)[np.newaxis].astype(np.float32)
        else:
            images = images_from_request(content_type, body, info.input_shape,
                                         max_batch_images)
        probabilities = await batcher(images)
        # A JSONResponse skips re-validating the answer against PredictResponse (which
        # stays the documented schema): a tenth of a millisecond per request under load.
        return JSONResponse({"model_version": info.version,
                             "predictions": predictor.top_classes(probabilities, top_k)})

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _export_table(run_dir: Path) -> list[dict[str, Any]] | None:
    from helpers import artifacts

    path = run_dir / artifacts.EXPORT_INFO
    return artifacts.read_json(path)["formats"] if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: serve with uvicorn until interrupted."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m helpers.serving", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True,
                        help="a run directory holding model.keras and dataset.json")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info",
                        choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--no-access-log", action="store_true",
                        help="do not log every request (for load tests)")
    arguments = parser.parse_args(argv)
    try:
        app = create_app(arguments.run_dir)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level=arguments.log_level,
                access_log=not arguments.no_access_log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
