"""The API's request and response bodies as pydantic models, so the OpenAPI schema is the truth.

The pixel request's shape depends on the served model, so its models are built per app with
the model's exact height, width and channel count: a request the schema calls valid is one
the server accepts.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, create_model

MAX_PIXEL_VALUE = 255
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


# strict: a JSON number only (no "12" strings, no true/false); NaN and infinities refused
# here because Python's JSON parser reads `NaN` and `1e999` into floats.
Pixel = Annotated[float, Field(strict=True, ge=0, le=MAX_PIXEL_VALUE, allow_inf_nan=False)]


def exactly(item: Any, count: int) -> Any:
    """A list type of exactly `count` items of type `item`."""
    return Annotated[list[item], Field(min_length=count, max_length=count)]


def image_type(input_shape: tuple[int, int, int]) -> Any:
    """One image's nested-list type: height x width x channels, or height x width for 1 channel.

    The choice is made for the whole image, so its rows are all one form, never mixed.
    """
    height, width, channels = input_shape
    with_channels = exactly(exactly(exactly(Pixel, channels), width), height)
    if channels != 1:
        return with_channels
    without_channels = exactly(exactly(Pixel, width), height)
    # Choosing the form by the first pixel halves the time of trying both, and keeps a bad
    # image's errors to the form meant.
    return Annotated[Annotated[with_channels, Tag("channels")]
                     | Annotated[without_channels, Tag("no_channels")],
                     Discriminator(_image_form)]


def _image_form(value: Any) -> str:
    """Whether an image is sent with its channel axis, judged by its first pixel."""
    try:
        return "channels" if isinstance(value[0][0], list) else "no_channels"
    except (LookupError, TypeError):  # not nested lists: either form reports the error
        return "channels"


def _body_kind(value: Any) -> str:
    """Which request model a JSON body is meant as, from its key ("images" or else "image")."""
    return "batch" if isinstance(value, dict) and "images" in value else "single"


def pixel_request_type(input_shape: tuple[int, int, int], max_images: int) -> Any:
    """The JSON body of POST /predict/pixels: {"image": one image} or {"images": [images]}."""
    image = image_type(input_shape)
    shape = " x ".join(map(str, input_shape))
    forbid = ConfigDict(extra="forbid")
    one = create_model("OneImage", __config__=forbid, __doc__="One image's raw pixels.",
                       image=(image, Field(description=f"raw pixels 0-255, {shape}")))
    batch = create_model(
        "ImageBatch", __config__=forbid, __doc__="Several images' raw pixels.",
        images=(Annotated[list[image], Field(min_length=1, max_length=max_images)],
                Field(description=f"1 to {max_images} images, each {shape}")))
    # Choosing the model by key keeps a bad image's errors to the one model meant.
    return Annotated[Annotated[one, Tag("single")] | Annotated[batch, Tag("batch")],
                     Discriminator(_body_kind)]


def pixels_array(request: BaseModel, input_shape: tuple[int, int, int]) -> np.ndarray:
    """Float32 N x H x W x C raw pixels from a validated pixel request."""
    images = request.images if hasattr(request, "images") else [request.image]
    # Image by image: a grayscale batch may mix H x W and H x W x 1 images.
    return np.stack([np.asarray(image, np.float32).reshape(input_shape) for image in images])


IMAGE_BODY = {
    "required": True,
    "description": "The image file itself: a PNG or JPEG of any size, converted like the "
                   "training images.",
    # minLength: an empty body is refused (400 "the image is empty"), so the schema says so.
    "content": {media_type: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
                for media_type in IMAGE_TYPES},
}

# FastAPI writes the `file` part as any binary; the encoding says which files it takes.
UPLOAD_ENCODING = {"multipart/form-data": {"encoding": {"file": {
    "contentType": ", ".join(IMAGE_TYPES)}}}}

Responses = dict[int | str, dict[str, Any]]
UPLOAD_ERRORS: Responses = {
    400: {"description": "Not a PNG or JPEG image, or a damaged one; `detail` says what"},
    413: {"description": "The body is over the size limit, or the image over the pixel limit"},
}
IMAGE_BODY_ERRORS: Responses = {
    **UPLOAD_ERRORS,
    415: {"description": "A Content-Type other than image/png or image/jpeg"},
}
PIXEL_ERRORS: Responses = {
    400: {"description": "The body could not be parsed (JSON nested too deeply)"},
    413: {"description": "The body is over the size limit"},
}
