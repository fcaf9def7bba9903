"""Which exported format to deploy where, chosen from 07's own measurements (export.json).

Three deployments a brief may mean: a web service on a server, an app on a phone that works
offline, and a microcontroller or Edge TPU. 08 writes the section only for a brief that states
its deployment scenario (`deployment_scenario`), and only for the deployments the scenario
names: for each, the format the measurements favour, with its size, accuracy, latency and
throughput from this run. Pure: export.json's rows and the scenario in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from helpers import wording

# An exported model may lose at most this much test accuracy against the Keras model to be
# recommended for a phone (07's int8 target is the same point).
ACCURACY_TOLERANCE = 0.01
SERVER_FORMATS = ("saved_model", "keras")
PHONE_FORMATS = ("tflite_int8", "tflite_float16", "tflite_float32")


def _by_format(formats: Sequence[Mapping]) -> dict[str, Mapping]:
    return {row["format"]: row for row in formats}


def _megabytes(row: Mapping) -> str:
    return f"{row['size_bytes'] / 1e6:.2f} MB"


def choices(formats: Sequence[Mapping]) -> list[tuple[str, Mapping, str]]:
    """(deployment, the chosen format's row, why) for each deployment 07's formats allow."""
    rows = _by_format(formats)
    keras_accuracy = rows["keras"]["accuracy"]
    chosen = []
    server = next((rows[name] for name in SERVER_FORMATS if name in rows), None)
    if server is not None:
        chosen.append(("a web service on a server", server,
                       "TensorFlow Serving loads it as it is; a server's memory makes file size "
                       "secondary"))
    # The smallest TFLite file that keeps the Keras model's accuracy within the tolerance.
    phone = next((rows[name] for name in PHONE_FORMATS if name in rows
                  and keras_accuracy - rows[name]["accuracy"] <= ACCURACY_TOLERANCE), None)
    if phone is not None:
        chosen.append(("an app on a phone, offline", phone,
                       "the smallest file that stays within "
                       f"{wording.points(ACCURACY_TOLERANCE)} of the Keras model's "
                       "accuracy: it downloads fast and fits in memory"))
    if "tflite_int8" in rows:
        chosen.append(("a microcontroller or an Edge TPU", rows["tflite_int8"],
                       "these run integer arithmetic only, so int8 is the one format they "
                       "accept"))
    return chosen


# Words of a scenario that name each deployment.
SCENARIO_WORDS = {"a web service on a server": ("server", "web", "cloud", "rest", "api",
                                                "backend", "online", "platform", "upload"),
                  "an app on a phone, offline": ("phone", "mobile", "app", "offline", "device",
                                                 "lite"),
                  "a microcontroller or an Edge TPU": ("microcontroller", "edge", "embedded")}


def for_scenario(formats: Sequence[Mapping], scenario: str) -> list[Mapping]:
    """The export.json rows of the deployments the scenario's words name (all if none)."""
    words = scenario.lower()
    named = [where for where, cues in SCENARIO_WORDS.items() if any(cue in words for cue in cues)]
    return [row for row in formats if not named or row.get("deployment") in named]


def scenario_lines(formats: Sequence[Mapping], scenario: str) -> list[str]:
    """The brief's scenario, then the advice for the deployments it names, with the chosen
    format's throughput on this CPU for a server."""
    named = {row["deployment"] for row in for_scenario(
        [{"deployment": where} for where, _, _ in choices(formats)], scenario)}
    lines = [line for line, (where, _, _) in zip(advice(formats), choices(formats),
                                                 strict=False) if where in named]
    server = next((row for where, row, _ in choices(formats)
                   if where == "a web service on a server" and where in named), None)
    if server is not None:
        lines.append(f"Answering uploads in batches, `{server['format']}` classified "
                     f"{server['throughput_images_per_s']:,.0f} images a second on this run's "
                     "CPU: the rate one such server sustains.")
    return [f"The brief's scenario: {scenario.rstrip('.')}.", *lines,
            "The latencies were measured on this run's CPU: a phone or a microcontroller is "
            "slower, so they rank the formats rather than predict the device."]


def table(formats: Sequence[Mapping]) -> pd.DataFrame:
    """One row per deployment: the format, its size, test accuracy and latency on this CPU."""
    return pd.DataFrame([{"deployment": where, "format": row["format"],
                          "size": _megabytes(row), "test accuracy": f"{row['accuracy']:.4f}",
                          "latency per image": f"{row['latency_ms']:.3f} ms"}
                         for where, row, _ in choices(formats)]).set_index("deployment")


def advice(formats: Sequence[Mapping]) -> list[str]:
    """One sentence per deployment: the format, why, and what it costs against Keras."""
    keras_row = _by_format(formats)["keras"]
    lines = []
    for where, row, why in choices(formats):
        drop = keras_row["accuracy"] - row["accuracy"]
        cost = ("the same test accuracy as the Keras model" if abs(drop) < 0.00005 else
                f"test accuracy {row['accuracy']:.4f}, {wording.points(drop)} "
                f"{'under' if drop > 0 else 'over'} the Keras model's {keras_row['accuracy']:.4f}")
        lines.append(f"For **{where}**: `{row['format']}` ({_megabytes(row)}), {why}. It keeps "
                     f"{cost}, and answered one image in {row['latency_ms']:.3f} ms.")
    if lines:
        lines.append("The latencies were measured on this run's CPU: a phone or a "
                     "microcontroller is slower, so they rank the formats rather than predict "
                     "the device.")
    return lines
