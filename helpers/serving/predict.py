"""Predictions from a run's trained model, for image files and pixel arrays alike.

`python -m helpers.serving.predict --run-dir DIR IMAGE...` prints the top classes of each image.
The REST server (helpers.serving.app) uses the same conversion and the same model call, so an
image gets the same answer from the command line, the API and the web page.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from helpers import artifacts
from helpers.command_line import CommandError, run_command
from helpers.data.datasets import convert_image, read_dataset_info

IMAGE_FORMATS = ("PNG", "JPEG")
# Pillow refuses larger images itself only at ~179 million pixels; a 50-megapixel photo
# is already more than any phone sends, and decoding it takes ~150 MB of memory.
MAX_IMAGE_PIXELS = 50_000_000


class InputError(ValueError):
    """An image or pixel array that cannot become a model input; the message says why."""


class TooLargeError(InputError):
    """An input over one of the size limits."""


def image_to_pixels(data: bytes, input_shape: Sequence[int],
                    max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode PNG or JPEG bytes into the model's height x width x channels uint8 pixels.

    The training images are uint8 arrays of that shape; an upload of any size becomes one
    through the image-folder loader's own conversion (helpers.data.datasets.convert_image:
    grayscale or RGB by the model's channel count, alpha dropped, bilinear resize). Scaling to
    [0, 1] is left to the model.
    """
    from PIL import Image, UnidentifiedImageError

    height, width, channels = (int(size) for size in input_shape)
    if channels not in (1, 3):
        raise InputError(f"the model takes {channels} channels; images can feed 1 or 3")
    if not data:
        raise InputError("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise TooLargeError(f"the image has more than the {max_pixels:,} pixels accepted "
                            f"({error})") from error
    except UnidentifiedImageError as error:
        raise InputError(f"not a PNG or JPEG image ({len(data):,} bytes that Pillow cannot "
                         f"identify as an image)") from error
    if image.format not in IMAGE_FORMATS:
        raise InputError(f"a {image.format} image: only PNG and JPEG are accepted")
    if image.width * image.height > max_pixels:
        raise TooLargeError(f"the image is {image.width}x{image.height} pixels, more than "
                            f"the {max_pixels:,} accepted")
    try:
        return convert_image(image, (height, width), "grayscale" if channels == 1 else "rgb")
    except (OSError, SyntaxError) as error:
        raise InputError(f"the {image.format} image is damaged or cut short ({error})") from error


@dataclass(frozen=True)
class RunModel:
    """What a client needs to know about the served model."""

    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    version: str
    model_path: Path
    test_metrics: dict[str, Any]
    prediction_method: str  # whether it averages each image with its mirror image


class Predictor:
    """A run's trained model, its class names and input shape, predicting raw pixels."""

    def __init__(self, run_dir: str | Path) -> None:
        from helpers.evaluation import inference
        from helpers.model import networks

        run_dir = Path(run_dir)
        exported = run_dir / artifacts.KERAS_EXPORT
        model_path = exported if exported.is_file() else artifacts.require(
            run_dir, artifacts.MODEL, "04_train")
        # For a model of one's own (architecture `file`), load_model first imports the
        # model_source.py kept beside it, which registers its custom layers.
        self.model = networks.load_model(model_path)
        class_names = tuple(read_dataset_info(run_dir)["class_names"])
        input_shape = tuple(int(size) for size in self.model.input_shape[1:])
        outputs = int(self.model.output_shape[-1])
        if len(input_shape) != 3 or outputs != len(class_names):
            raise ValueError(f"{model_path} takes {input_shape} and gives {outputs} classes, "
                             f"but {artifacts.DATASET_INFO} names {len(class_names)}")
        metrics_path = run_dir / artifacts.METRICS
        metrics = artifacts.read_json(metrics_path) if metrics_path.is_file() else {}
        self.info = RunModel(
            input_shape=input_shape,  # type: ignore[arg-type]
            class_names=class_names,
            version=f"{run_dir.resolve().name}@{artifacts.file_sha256(model_path)[:12]}",
            model_path=model_path,
            prediction_method=networks.prediction_method(self.model),
            test_metrics={name: value for name, value in metrics.items()
                          if isinstance(value, (int, float))})
        self._forward = inference.keras_predictor(self.model)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (float32) of raw-pixel images, N x H x W x C."""
        return self._forward(np.asarray(images, dtype=np.float32))

    def top_classes(self, probabilities: np.ndarray, top_k: int) -> list[list[dict[str, Any]]]:
        """The k most probable classes of each row, most probable first."""
        if not 1 <= top_k <= len(self.info.class_names):
            raise InputError(f"top_k must be from 1 to {len(self.info.class_names)}, "
                             f"got {top_k}")
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_k]
        return [[{"class": self.info.class_names[index], "index": int(index),
                  "probability": float(row[index])} for index in indices]
                for row, indices in zip(probabilities, order, strict=True)]

    def predict_files(self, paths: Sequence[Path], top_k: int = 3) -> list[dict[str, Any]]:
        """Top classes of each image file, or the reason it could not be read."""
        results: list[dict[str, Any]] = []
        for path in paths:
            try:
                pixels = image_to_pixels(Path(path).read_bytes(), self.info.input_shape)
            except (OSError, InputError) as error:
                results.append({"file": str(path), "error": str(error)})
                continue
            probabilities = self.probabilities(pixels[np.newaxis])
            results.append({"file": str(path),
                            "top": self.top_classes(probabilities, top_k)[0]})
        return results


@click.command(help=__doc__)
@click.option("--run-dir", type=click.Path(path_type=Path), required=True,
              help="a run directory holding model.keras and dataset.json")
@click.option("--top-k", type=int, default=3, show_default=True, help="classes shown per image")
@click.option("--json", "as_json", is_flag=True, help="print JSON lines instead")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
def predict(run_dir: Path, top_k: int, as_json: bool, images: tuple[Path, ...]) -> int:
    """Print each image's top classes; 1 if any image could not be read."""
    try:
        predictor = Predictor(run_dir)
        if not 1 <= top_k <= len(predictor.info.class_names):
            raise InputError(f"--top-k must be from 1 to {len(predictor.info.class_names)}")
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error), exit_code=2) from error
    failed = 0
    for result in predictor.predict_files(images, top_k):
        if "error" in result:
            failed += 1
            click.echo(f"{result['file']}: error: {result['error']}", err=True)
        elif as_json:
            click.echo(json.dumps(result))
        else:
            ranked = ", ".join(f"{entry['class']} {entry['probability']:.3f}"
                               for entry in result["top"])
            click.echo(f"{result['file']}: {ranked}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (`imgclf-predict`): 0, 1 if an image failed, 2 for bad input."""
    return run_command(predict, argv, "imgclf-predict")


if __name__ == "__main__":
    raise SystemExit(main())
