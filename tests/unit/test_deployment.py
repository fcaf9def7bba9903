"""08's deployment section picks each format from the run's own export measurements."""

from helpers.writing import deployment


def row(name: str, size: int, accuracy: float, latency: float = 0.1) -> dict:
    return {"format": name, "size_bytes": size, "accuracy": accuracy, "latency_ms": latency}


FORMATS = [row("keras", 2_000_000, 0.90), row("saved_model", 4_000_000, 0.90),
           row("tflite_float32", 2_000_000, 0.90), row("tflite_float16", 1_000_000, 0.90),
           row("tflite_int8", 500_000, 0.885)]


def test_the_phone_gets_the_smallest_file_within_a_point_of_keras() -> None:
    chosen = {where: found["format"] for where, found, _ in deployment.choices(FORMATS)}
    assert chosen == {"a web service on a server": "saved_model",
                      "an app on a phone, offline": "tflite_float16",  # int8 lost 1.5 points
                      "a microcontroller or an Edge TPU": "tflite_int8"}


def test_advice_quotes_the_runs_own_sizes_and_accuracy_loss() -> None:
    text = " ".join(deployment.advice(FORMATS))
    assert "1.00 MB" in text and "0.8850, 1.5 points under the Keras model's 0.9000" in text
    assert list(deployment.table(FORMATS)["format"]) == ["saved_model", "tflite_float16",
                                                         "tflite_int8"]
