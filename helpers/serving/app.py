"""A REST API and a web page for a run's trained model: `python -m helpers.serving --run-dir DIR`.

POST /predict takes an image file as a multipart upload (field `file`), POST /predict/image
the image file as the raw body (Content-Type image/png or image/jpeg), and POST
/predict/pixels JSON raw pixel arrays; each returns the top classes. GET /health,
GET /metadata, the OpenAPI schema at /openapi.json (browsable at /docs), and the web page
at /. Bad requests get a 4xx whose `detail` says what was wrong; the server keeps serving.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at
# runtime, and the pixel body's type is built inside create_app for the served model.

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import click
import numpy as np
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from helpers.command_line import CommandError, run_command
from helpers.serving import schemas
from helpers.serving.batching import BatchingPredictor
from helpers.serving.predict import (
    MAX_IMAGE_PIXELS,
    InputError,
    Predictor,
    TooLargeError,
    image_to_pixels,
)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY_BYTES = 10 * 1024 * 1024  # a large phone photo; JSON batches share the limit
MAX_BATCH_IMAGES = 1024
MAX_REPORTED_ERRORS = 20  # a batch of wrong images would otherwise echo megabytes back


def create_app(run_dir: str | Path, max_body_bytes: int = MAX_BODY_BYTES,
               max_batch_images: int = MAX_BATCH_IMAGES,
               max_image_pixels: int = MAX_IMAGE_PIXELS) -> FastAPI:
    """The FastAPI application serving one run's model."""
    predictor = Predictor(run_dir)
    info = predictor.info
    predictor.probabilities(np.zeros((1, *info.input_shape), np.float32))  # compile now
    batcher = BatchingPredictor(predictor.probabilities)

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

    # max_body_size: Starlette's limit, counted while the body streams in -> 413.
    app = FastAPI(title="Image classifier", version=info.version, lifespan=lifespan,
                  max_body_size=max_body_bytes, form_limits={"max_files": 1, "max_fields": 10},
                  description=f"Classifies {' x '.join(map(str, info.input_shape))} images "
                              f"into {len(info.class_names)} classes: "
                              f"{', '.join(info.class_names)}.")
    add_error_handlers(app)
    limits = {"max_body_bytes": max_body_bytes, "max_batch_images": max_batch_images,
              "max_image_pixels": max_image_pixels}
    add_info_routes(app, predictor, _export_table(Path(run_dir)), limits)
    add_predict_routes(app, predictor, batcher, max_batch_images, max_image_pixels)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def add_error_handlers(app: FastAPI) -> None:
    """400 or 413 for inputs the model cannot take; validation errors without their input."""

    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(error)},
                            status_code=413 if isinstance(error, TooLargeError) else 400)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 body, less each error's `input` (a whole image) and capped.
        detail = [{key: value for key, value in entry.items() if key != "input"}
                  for entry in error.errors()[:MAX_REPORTED_ERRORS]]
        return JSONResponse({"detail": jsonable(detail)}, status_code=422)


def jsonable(value: Any) -> Any:
    """A value JSON can carry (pydantic's error contexts may hold exceptions)."""
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value, custom_encoder={Exception: str})


def add_info_routes(app: FastAPI, predictor: Predictor,
                    export_table: list[dict[str, Any]] | None, limits: dict[str, int]) -> None:
    """GET /health and GET /metadata."""
    info = predictor.info

    @app.get("/health", summary="Whether the server is up and its model loaded")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model_version": info.version}

    @app.get("/metadata", summary="Classes, input shape, model version and test metrics")
    async def metadata() -> dict[str, Any]:
        return {"classes": list(info.class_names), "input_shape": list(info.input_shape),
                "channels": info.input_shape[2], "model_version": info.version,
                "model_file": info.model_path.name, "test_metrics": info.test_metrics,
                "prediction": info.prediction_method,
                "export": export_table, "limits": limits,
                "input": "raw pixels 0-255; images are converted to "
                         f"{'grayscale' if info.input_shape[2] == 1 else 'RGB'} and "
                         f"resized to {info.input_shape[1]}x{info.input_shape[0]}"}


def add_predict_routes(app: FastAPI, predictor: Predictor, batcher: BatchingPredictor,
                       max_batch_images: int, max_image_pixels: int) -> None:
    """POST /predict (upload), /predict/image (raw image body), /predict/pixels (JSON)."""
    info = predictor.info
    top_k_query = Query(ge=1, le=len(info.class_names), description="classes returned per image")
    PixelRequest = schemas.pixel_request_type(info.input_shape, max_batch_images)  # noqa: N806
    common: dict[str, Any] = {"response_model": schemas.PredictResponse}  # every route's answer

    async def answer(images: np.ndarray, top_k: int) -> JSONResponse:
        probabilities = await batcher(images.astype(np.float32))
        # A JSONResponse skips re-validating the answer against PredictResponse (which
        # stays the documented schema): a tenth of a millisecond per request under load.
        return JSONResponse({"model_version": info.version,
                             "predictions": predictor.top_classes(probabilities, top_k)})

    @app.post("/predict", summary="Top classes of an uploaded PNG or JPEG image",
              openapi_extra={"requestBody": {"content": schemas.UPLOAD_ENCODING}},
              responses=schemas.UPLOAD_ERRORS, **common)
    # minLength: the server refuses an empty file (400), so the schema says it needs a byte.
    async def predict(file: Annotated[UploadFile, File(description="a PNG or JPEG image, "
                                                                   "any size",
                                                       json_schema_extra={"minLength": 1})],
                      top_k: Annotated[int, top_k_query] = 3) -> JSONResponse:
        data = await file.read()
        return await answer(image_to_pixels(data, info.input_shape,
                                            max_image_pixels)[np.newaxis], top_k)

    @app.post("/predict/image", summary="Top classes of a PNG or JPEG sent as the body",
              openapi_extra={"requestBody": schemas.IMAGE_BODY},
              responses=schemas.IMAGE_BODY_ERRORS, **common)
    async def predict_image(request: Request,
                            top_k: Annotated[int, top_k_query] = 3) -> JSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in schemas.IMAGE_TYPES:
            raise HTTPException(415, f"Content-Type {content_type or '(none)'!r} is not "
                                     f"accepted: send {' or '.join(schemas.IMAGE_TYPES)}")
        data = await request.body()
        return await answer(image_to_pixels(data, info.input_shape,
                                            max_image_pixels)[np.newaxis], top_k)

    @app.post("/predict/pixels", summary="Top classes of images sent as raw 0-255 pixels",
              responses=schemas.PIXEL_ERRORS, **common)
    async def predict_pixels(pixels: PixelRequest,
                             top_k: Annotated[int, top_k_query] = 3) -> JSONResponse:
        return await answer(schemas.pixels_array(pixels, info.input_shape), top_k)


def _export_table(run_dir: Path) -> list[dict[str, Any]] | None:
    from helpers import artifacts

    path = run_dir / artifacts.EXPORT_INFO
    return artifacts.read_json(path)["formats"] if path.is_file() else None


@click.command(help=__doc__)
@click.option("--run-dir", type=click.Path(path_type=Path), required=True,
              help="a run directory holding model.keras and dataset.json")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (0.0.0.0 for every interface)")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(("critical", "error", "warning", "info", "debug")))
@click.option("--no-access-log", is_flag=True, help="do not log every request (for load tests)")
def serve(run_dir: Path, host: str, port: int, log_level: str, no_access_log: bool) -> None:
    """Serve the run's model with uvicorn until interrupted."""
    import uvicorn

    try:
        app = create_app(run_dir)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error), exit_code=2) from error
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=not no_access_log)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (`imgclf-serve`): serve until interrupted; 2 for bad input."""
    return run_command(serve, argv, "imgclf-serve")


if __name__ == "__main__":
    raise SystemExit(main())
