"""The REST server and the command line: same answers as in-process, 4xx for bad input."""

import asyncio
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from trained_run import build_synthetic_run

from helpers import artifacts
from helpers.serving import app as serve
from helpers.serving import loadtest, predict

pytestmark = pytest.mark.xdist_group("serve")  # one xdist worker: module fixtures built once


@pytest.fixture(scope="module")
def client(trained_run: Path):
    with TestClient(serve.create_app(trained_run)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def test_set(trained_run: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = artifacts.read_arrays(trained_run / artifacts.DATASET_ARRAYS)
    return arrays["x_test"], arrays["y_test"]


def encoded(pixels: np.ndarray, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(pixels[..., 0]) if pixels.ndim == 3 and pixels.shape[2] == 1 \
        else Image.fromarray(pixels)
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def probability_matrix(predictions: list[list[dict]], classes: int) -> np.ndarray:
    matrix = np.zeros((len(predictions), classes), np.float64)
    for row, ranked in enumerate(predictions):
        for entry in ranked:
            matrix[row, entry["index"]] = entry["probability"]
    return matrix


def test_health_and_metadata_describe_the_run(client: TestClient, trained_run: Path) -> None:
    assert client.get("/health").json()["status"] == "ok"
    metadata = client.get("/metadata").json()
    dataset = artifacts.read_json(trained_run / artifacts.DATASET_INFO)
    metrics = artifacts.read_json(trained_run / artifacts.METRICS)
    assert metadata["classes"] == dataset["class_names"]
    assert metadata["input_shape"] == list(dataset["image_shape"])
    assert metadata["test_metrics"]["test_accuracy"] == metrics["test_accuracy"]
    assert metadata["model_version"].startswith("run@")
    assert metadata["prediction"] == "it predicts each image once, as it is"


def test_openapi_schema_documents_every_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/predict", "/predict/image", "/predict/pixels", "/health", "/metadata"} <= set(paths)
    assert set(paths["/predict"]["post"]["requestBody"]["content"]) == {"multipart/form-data"}
    assert set(paths["/predict/image"]["post"]["requestBody"]["content"]) == {"image/png",
                                                                              "image/jpeg"}
    assert set(paths["/predict/pixels"]["post"]["requestBody"]["content"]) == {
        "application/json"}
    for path in ("/predict", "/predict/image", "/predict/pixels"):
        ok = paths[path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/PredictResponse"}
    assert client.get("/docs").status_code == 200


def test_rest_predictions_equal_in_process_ones_for_the_whole_test_set(
        client: TestClient, trained_run: Path, test_set) -> None:
    images, _ = test_set
    classes = len(artifacts.read_json(trained_run / artifacts.DATASET_INFO)["class_names"])
    in_process = predict.Predictor(trained_run)
    batch = 1000
    for start in range(0, len(images), batch):
        chunk = images[start: start + batch]
        response = client.post(f"/predict/pixels?top_k={classes}",
                               json={"images": chunk.tolist()})
        assert response.status_code == 200, response.text
        served = probability_matrix(response.json()["predictions"], classes)
        expected = in_process.probabilities(chunk)
        # The same compiled forward pass on the same batch: identical up to JSON's float repr.
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-7)
        assert np.array_equal(served.argmax(axis=1), expected.argmax(axis=1))
    # And the same classes as 05_evaluate's model.predict over the whole test set.
    stored = artifacts.read_arrays(trained_run / artifacts.PREDICTIONS)["probabilities"]
    all_served = in_process.probabilities(images)
    assert len(stored) == len(images) == 10_000
    np.testing.assert_allclose(all_served, stored, atol=1e-5)
    assert np.array_equal(all_served.argmax(axis=1), stored.argmax(axis=1))


def test_png_uploads_give_the_same_answers_as_json(client: TestClient, test_set) -> None:
    images, _ = test_set
    for index in range(40):
        as_json = client.post("/predict/pixels", json={"image": images[index].tolist()}).json()
        upload = client.post("/predict", files={"file": ("x.png", encoded(images[index]),
                                                         "image/png")})
        raw = client.post("/predict/image", content=encoded(images[index]),
                          headers={"Content-Type": "image/png"})
        assert upload.status_code == raw.status_code == 200
        assert upload.json()["predictions"] == raw.json()["predictions"] == as_json["predictions"]
        assert len(as_json["predictions"][0]) == 3


def test_uploads_are_converted_like_the_training_images() -> None:
    shape = (28, 28, 1)
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28, 1), dtype=np.uint8)
    assert np.array_equal(predict.image_to_pixels(encoded(pixels), shape), pixels)
    # Colour, any size, JPEG: grayscale by Pillow's luma, resized to the model's size.
    photo = np.random.default_rng(1).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    converted = predict.image_to_pixels(encoded(photo, "JPEG", quality=95), shape)
    assert converted.shape == shape and converted.dtype == np.uint8
    expected = np.asarray(Image.open(io.BytesIO(encoded(photo, "JPEG", quality=95)))
                          .convert("L").resize((28, 28), Image.Resampling.BILINEAR))
    assert np.array_equal(converted[..., 0], expected)
    # The alpha channel is dropped, as the image-folder loader does; an RGB model gets RGB.
    white_but_transparent = np.full((10, 10, 4), 255, np.uint8)
    white_but_transparent[..., 3] = 0
    assert predict.image_to_pixels(encoded(white_but_transparent), shape).min() == 255
    assert predict.image_to_pixels(encoded(pixels), (32, 32, 3)).shape == (32, 32, 3)


def test_a_photo_stored_sideways_is_predicted_upright(client: TestClient, test_set) -> None:
    # A phone saves a photo turned, with EXIF orientation 6 ("turn 90° clockwise to view"):
    # the API must see the picture the phone shows, not the stored one.
    upright = test_set[0][0]
    stored = Image.fromarray(upright[..., 0]).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="PNG", exif=exif)
    sideways = client.post("/predict", files={"file": ("phone.png", buffer.getvalue(),
                                                       "image/png")})
    as_seen = client.post("/predict/pixels", json={"image": upright.tolist()})
    assert sideways.status_code == 200
    assert sideways.json()["predictions"] == as_seen.json()["predictions"]
    assert np.array_equal(predict.image_to_pixels(buffer.getvalue(), upright.shape), upright)


def multipart_text() -> dict:
    return {"files": {"file": ("notes.txt", b"just some text", "text/plain")}}


def json_bytes(text: str) -> dict:
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


def png_body(content: bytes) -> dict:
    return {"content": content, "headers": {"Content-Type": "image/png"}}


NAN_IMAGE = json.dumps({"image": [[float("nan")] * 28] * 28})  # Python's json writes NaN
BAD_REQUESTS = [
    # The upload: a 400 that says why for what is not an image, a 422 for a malformed form.
    ("not an image", "/predict", multipart_text(), 400, "not a PNG or JPEG image"),
    ("empty image", "/predict", {"files": {"file": ("x.png", b"", "image/png")}}, 400,
     "empty"),
    ("no file field", "/predict", {"files": {"upload": ("x.png", b"abc", "image/png")}}, 422,
     "Field required"),
    ("file sent as text", "/predict", {"data": {"file": "abc"}}, 422, "file"),
    ("not multipart", "/predict", {"content": b"hello", "headers": {"Content-Type":
                                                                    "text/plain"}},
     422, "Field required"),
    # The raw image body.
    ("empty body", "/predict/image", png_body(b""), 400, "empty"),
    ("truncated png", "/predict/image", png_body(b"\x89PNG\r\n\x1a\n" + b"\0" * 40), 400,
     "PNG"),
    ("gif", "/predict/image", png_body(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 400,
     "PNG or JPEG"),
    ("wrong content type", "/predict/image", {"content": b"hello", "headers": {
        "Content-Type": "text/plain"}}, 415, "Content-Type 'text/plain' is not accepted"),
    ("no content type", "/predict/image", {"content": b"hello"}, 415, "not accepted"),
    # JSON pixels: refused by the schema's own model with a 422 naming the place.
    ("broken json", "/predict/pixels", json_bytes('{"image": [1,'), 422, "JSON decode error"),
    ("json list", "/predict/pixels", {"json": [1, 2, 3]}, 422, "valid dictionary"),
    ("both keys", "/predict/pixels", {"json": {"image": [], "images": []}}, 422,
     "Extra inputs are not permitted"),
    ("neither key", "/predict/pixels", {"json": {"pixels": []}}, 422, "Field required"),
    ("wrong shape", "/predict/pixels", {"json": {"image": np.zeros((27, 28)).tolist()}}, 422,
     "at least 28 items"),
    ("ragged rows", "/predict/pixels", {"json": {"image": [[0] * 28] * 27 + [[0] * 5]}}, 422,
     "at least 28 items"),
    ("not numbers", "/predict/pixels", {"json": {"image": [["a"] * 28] * 28}}, 422,
     "valid number"),
    ("numbers as strings", "/predict/pixels", {"json": {"image": [["1"] * 28] * 28}}, 422,
     "valid number"),
    ("booleans", "/predict/pixels", {"json": {"image": [[True] * 28] * 28}}, 422,
     "valid number"),
    ("out of range", "/predict/pixels", {"json": {"image": np.full((28, 28), 300).tolist()}},
     422, "less than or equal to 255"),
    ("negative", "/predict/pixels", {"json": {"image": np.full((28, 28), -1).tolist()}}, 422,
     "greater than or equal to 0"),
    ("huge integer", "/predict/pixels", json_bytes('{"image": [[1' + "0" * 400 + "]]}"), 422,
     '"image"'),
    ("empty batch", "/predict/pixels", {"json": {"images": []}}, 422, "at least 1 item"),
    ("null images", "/predict/pixels", {"json": {"images": [None, None]}}, 422, "valid list"),
    ("deeply nested", "/predict/pixels", json_bytes("[" * 100_000 + "]" * 100_000), 400,
     "error parsing the body"),
    ("many dimensions", "/predict/pixels",
     {"json": {"image": json.loads("[" * 80 + "0" + "]" * 80)}}, 422, '"image"'),
    ("string pixels", "/predict/pixels", {"json": {"image": "white"}}, 422, '"image"'),
    ("nan pixels", "/predict/pixels", json_bytes(NAN_IMAGE), 422, "finite number"),
    ("batch of wrong shape", "/predict/pixels",
     {"json": {"images": np.zeros((2, 28, 28, 3)).tolist()}}, 422, "at most 1 item"),
    ("extra key", "/predict/pixels",
     {"json": {"image": np.zeros((28, 28)).tolist(), "note": "x"}}, 422, "Extra inputs"),
]


@pytest.mark.parametrize("name, path, request_options, status, message", BAD_REQUESTS,
                         ids=[case[0] for case in BAD_REQUESTS])
def test_bad_requests_get_a_4xx_that_says_why_and_the_server_keeps_serving(
        client: TestClient, test_set, name: str, path: str, request_options: dict,
        status: int, message: str) -> None:
    response = client.post(path, **request_options)
    assert response.status_code == status, response.text
    assert message in response.text
    if status == 422:  # FastAPI's validation errors, without echoing the input back
        assert all({"loc", "msg", "type"} <= set(error) and "input" not in error
                   for error in response.json()["detail"])
    images, _ = test_set
    assert client.post("/predict/pixels", json={"image": images[0].tolist()}).status_code == 200


def test_bad_top_k_is_refused(client: TestClient, test_set) -> None:
    images, _ = test_set
    for value in ("0", "11", "three"):
        response = client.post(f"/predict/pixels?top_k={value}",
                               json={"image": images[0].tolist()})
        assert response.status_code == 422 and "top_k" in response.text
        response = client.post(f"/predict?top_k={value}",
                               files={"file": ("x.png", encoded(images[0]), "image/png")})
        assert response.status_code == 422 and "top_k" in response.text


def test_limits_on_body_image_and_batch_sizes(trained_run: Path, test_set) -> None:
    images, _ = test_set
    app = serve.create_app(trained_run, max_body_bytes=200_000, max_batch_images=4,
                           max_image_pixels=100_000)
    with TestClient(app) as small:
        too_many = small.post("/predict/pixels", json={"images": images[:5].tolist()})
        assert too_many.status_code == 422 and "at most 4 items" in too_many.text
        big_body = small.post("/predict/image", content=b"\0" * 300_000,
                              headers={"Content-Type": "image/png"})
        assert big_body.status_code == 413 and "Content Too Large" in big_body.text
        big_upload = small.post("/predict", files={"file": ("x.png", b"\0" * 300_000,
                                                            "image/png")})
        assert big_upload.status_code == 413
        # Without a Content-Length the body is counted as it streams in.
        streamed = small.post("/predict/image", content=iter([b"\0" * 100_000] * 3),
                              headers={"Content-Type": "image/png"})
        assert streamed.status_code == 413, streamed.text
        huge = encoded(np.zeros((1000, 1000, 1), np.uint8))  # a million pixels, ~1 kB
        refused = small.post("/predict", files={"file": ("huge.png", huge, "image/png")})
        assert refused.status_code == 413 and "1000x1000 pixels" in refused.text
        assert small.post("/predict/pixels",
                          json={"images": images[:4].tolist()}).status_code == 200


def test_an_rgb_model_of_another_size_is_served(tmp_path: Path) -> None:
    run_dir = build_synthetic_run(tmp_path / "rgb", (32, 32, 3), ("cat", "dog", "ship"))
    with TestClient(serve.create_app(run_dir)) as rgb:
        assert rgb.get("/metadata").json()["input_shape"] == [32, 32, 3]
        gray = np.random.default_rng(0).integers(0, 256, (50, 90, 1), dtype=np.uint8)
        answer = rgb.post("/predict", files={"file": ("g.png", encoded(gray), "image/png")})
        assert answer.status_code == 200
        assert {entry["class"] for entry in answer.json()["predictions"][0]} == {
            "cat", "dog", "ship"}
        wrong = rgb.post("/predict/pixels", json={"image": np.zeros((28, 28, 3)).tolist()})
        assert wrong.status_code == 422 and "at least 32 items" in wrong.text
        # Three channels: no height x width form.
        flat = rgb.post("/predict/pixels", json={"image": np.zeros((32, 32)).tolist()})
        assert flat.status_code == 422 and "valid list" in flat.text
        pixels = gray.repeat(3, axis=2)[:32, :32]
        assert rgb.post("/predict/pixels", json={"image": pixels.tolist()}).status_code == 200


def test_predict_command_line(trained_run: Path, test_set, tmp_path: Path, capsys) -> None:
    images, _ = test_set
    good = tmp_path / "coat.png"
    good.write_bytes(encoded(images[0]))
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    code = predict.main(["--run-dir", str(trained_run), "--json", str(good), str(bad)])
    captured = capsys.readouterr()
    assert code == 1  # one file could not be read
    assert f"{bad}: error: not a PNG or JPEG image" in captured.err
    (line,) = captured.out.splitlines()
    top = json.loads(line)["top"]
    expected = predict.Predictor(trained_run)
    ranked = expected.top_classes(expected.probabilities(images[:1]), 3)[0]
    assert [entry["class"] for entry in top] == [entry["class"] for entry in ranked]
    assert predict.main(["--run-dir", str(trained_run), str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: {ranked[0]['class']} ")


def test_live_server_under_concurrent_load_with_malformed_requests(live_server: str,
                                                                    test_set) -> None:
    images, _ = test_set
    port = int(live_server.rsplit(":", 1)[1])
    figures = asyncio.run(loadtest.run_load("127.0.0.1", port, images[:50], clients=10,
                                            seconds=3, malformed_share=0.1))
    assert figures["requests"] > 50 and figures["malformed_requests"] > 0
    assert figures["server_errors_5xx"] == figures["connection_errors"] == 0, figures
    assert figures["good_not_200"] == figures["malformed_not_4xx"] == 0, figures
