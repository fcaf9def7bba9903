"""The published OpenAPI schema tells the truth: what it calls valid is accepted, and only that."""

import io
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from helpers import artifacts
from helpers.serving import app as serve

pytestmark = pytest.mark.xdist_group("openapi")  # one xdist worker: module fixtures built once

MAX_BATCH = 3


@pytest.fixture(scope="module")
def client(trained_run: Path):
    with TestClient(serve.create_app(trained_run, max_batch_images=MAX_BATCH)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def pixel_body_validator(client: TestClient) -> jsonschema.Draft202012Validator:
    """A validator of POST /predict/pixels bodies against the schema the server publishes."""
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/predict/pixels"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    # The body's $refs point into #/components, so they are carried along.
    return jsonschema.Draft202012Validator({**body, "components": schema["components"]})


@pytest.fixture(scope="module")
def images(trained_run: Path) -> np.ndarray:
    return artifacts.read_arrays(trained_run / artifacts.DATASET_ARRAYS)["x_test"][:MAX_BATCH]


def pixel_bodies(images: np.ndarray) -> dict[str, object]:
    """Request bodies on both sides of the schema's lines."""
    image, flat = images[0].tolist(), images[0][..., 0].tolist()
    return {
        # Valid: one image with or without its channel axis, a full batch mixing both forms,
        # integers and fractions at the bounds.
        "one image": {"image": image},
        "one image without channels": {"image": flat},
        "full mixed batch": {"images": [image, flat, images[2].tolist()]},
        "bounds and fractions": {"image": [[0, 255.0, 0.5, 254.999] * 7] * 28},
        # Invalid: each refused by the schema.
        "null pixels": {"images": [None, None]},
        "null pixel": {"image": [[None] * 28] * 28},
        "string pixels": {"image": [["7"] * 28] * 28},
        "boolean pixels": {"image": [[True] * 28] * 28},
        "one row short": {"image": flat[:27]},
        "one column short": {"image": [row[:27] for row in flat]},
        "two channels": {"image": [[[0, 0]] * 28] * 28},
        "mixed rows": {"image": [flat[0], *image[1:]]},
        "over 255": {"image": [[256] * 28] * 28},
        "negative": {"image": [[-0.5] * 28] * 28},
        "empty batch": {"images": []},
        "batch over the limit": {"images": [image] * (MAX_BATCH + 1)},
        "both keys": {"image": image, "images": [image]},
        "extra key": {"image": image, "top_k": 3},
        "a bare list": [image],
    }


def test_schema_validity_and_server_acceptance_agree_on_every_body(
        client: TestClient, pixel_body_validator, images: np.ndarray) -> None:
    verdicts = {}
    for name, body in pixel_bodies(images).items():
        valid = pixel_body_validator.is_valid(body)
        status = client.post("/predict/pixels", json=body).status_code
        verdicts[name] = (valid, status)
        assert (status == 200) == valid and status in (200, 422), (name, valid, status)
    assert sum(valid for valid, _ in verdicts.values()) == 4


def test_the_schema_refuses_null_pixels(pixel_body_validator) -> None:
    errors = list(pixel_body_validator.iter_errors({"images": [None, None]}))
    assert errors  # before, {"images": [null, null]} was valid by the schema and refused


def test_a_schema_valid_mixed_batch_gets_the_same_answers_as_single_images(
        client: TestClient, images: np.ndarray) -> None:
    batch = [images[0].tolist(), images[1][..., 0].tolist()]  # H x W x 1 and H x W
    together = client.post("/predict/pixels", json={"images": batch})
    assert together.status_code == 200
    alone = [client.post("/predict/pixels", json={"image": image}).json()["predictions"][0]
             for image in batch]
    for batched, single in zip(together.json()["predictions"], alone, strict=True):
        # A batch of two may round differently from two batches of one (1e-7).
        assert [entry["class"] for entry in batched] == [entry["class"] for entry in single]
        np.testing.assert_allclose([entry["probability"] for entry in batched],
                                   [entry["probability"] for entry in single], atol=1e-5)


def test_the_schema_states_the_models_shape_and_the_limits(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    batch = components["ImageBatch"]["properties"]["images"]
    assert (batch["minItems"], batch["maxItems"]) == (1, MAX_BATCH)
    with_channels = components["OneImage"]["properties"]["image"]["oneOf"][0]
    sizes = []
    level = with_channels
    while level.get("type") == "array":
        sizes.append((level["minItems"], level["maxItems"]))
        level = level["items"]
    assert sizes == [(28, 28), (28, 28), (1, 1)]
    assert level == {"type": "number", "minimum": 0.0, "maximum": 255.0}
    assert components["OneImage"]["additionalProperties"] is False


def test_the_image_routes_declare_the_image_types_they_take(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    upload = paths["/predict"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["encoding"]["file"]["contentType"] == "image/png, image/jpeg"
    raw = paths["/predict/image"]["post"]
    assert set(raw["requestBody"]["content"]) == {"image/png", "image/jpeg"}
    assert "415" in raw["responses"]


def test_the_schema_says_an_image_needs_a_byte_as_the_server_does(client: TestClient) -> None:
    """An empty file is refused with 400; a schema allowing it would promise what is refused."""
    schema = client.get("/openapi.json").json()
    upload = schema["paths"]["/predict"]["post"]["requestBody"]["content"][
        "multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][upload]["properties"]["file"]["minLength"] == 1
    raw = schema["paths"]["/predict/image"]["post"]["requestBody"]["content"]
    assert {body["schema"]["minLength"] for body in raw.values()} == {1}
    empty = client.post("/predict", files={"file": ("x.png", b"", "image/png")})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]


@pytest.mark.parametrize("image_format, content_type", [("PNG", "image/png"),
                                                        ("JPEG", "image/jpeg")])
def test_each_declared_image_type_is_accepted_on_both_image_routes(
        client: TestClient, images: np.ndarray, image_format: str, content_type: str) -> None:
    buffer = io.BytesIO()
    Image.fromarray(images[0][..., 0]).save(buffer, format=image_format)
    data = buffer.getvalue()
    upload = client.post("/predict", files={"file": ("x", data, content_type)})
    raw = client.post("/predict/image", content=data, headers={"Content-Type": content_type})
    assert upload.status_code == raw.status_code == 200
    assert upload.json() == raw.json()
