"""schemathesis over the server's own OpenAPI schema, in-process: the schema tells the truth.

schemathesis's engine (what `schemathesis run` drives) runs its examples, coverage and
fuzzing phases against the app over ASGI, with positive and negative data, and every check:
no 5xx; every schema-valid request accepted with a 2xx (stricter than schemathesis's default,
which lets 404 and 5xx pass); every schema-invalid one refused with a 4xx; every answer of a
documented status, content type and schema. The figures (cases per operation, phase and
mode) are printed and written to reports/test-output/schema-fuzz.json.

(schemathesis.pytest.from_fixture would make one test per operation, but on pytest 9.2 it
fails with "'Function' object has no attribute '_nodeid'", so the engine is run directly.)
"""

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from helpers import artifacts
from helpers.serving import app as serve

# Fuzzed cases per operation, positive and negative together: ~480 cases in all with the
# coverage phase's, ~20 s on 2 cores.
MAX_EXAMPLES = 100
FIGURES_PATH = artifacts.PROJECT_ROOT / "reports" / "test-output" / "schema-fuzz.json"
OPERATIONS = {"POST /predict", "POST /predict/image", "POST /predict/pixels", "GET /health",
              "GET /metadata"}


@st.composite
def image_files(draw: st.DrawFn, image_format: str) -> bytes:
    """A real PNG or JPEG of random size, mode and pixels: what the image media types mean."""
    from PIL import Image

    modes = ["L", "RGB", *(["RGBA", "LA"] if image_format == "PNG" else [])]
    mode = draw(st.sampled_from(modes))
    height, width = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    pixels = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(
        0, 256, (height, width, len(mode)), np.uint8)
    image = Image.fromarray(pixels[..., 0] if len(mode) == 1 else pixels, mode)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def fuzz_schema(run_dir: Path) -> schemathesis.BaseSchema:
    """The app's schema, read from its /openapi.json in-process, with the run's settings."""
    # The schema says image/png and image/jpeg, which schemathesis cannot draw by itself: it
    # would send random bytes, which are not PNG files and rightly get a 400.
    schemathesis.openapi.media_type("image/png", image_files("PNG"))
    schemathesis.openapi.media_type("image/jpeg", image_files("JPEG"))
    config = SchemathesisConfig.from_dict({
        "seed": 20240601,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
        "phases": {"stateful": {"enabled": False}},
        # A valid request must be accepted: only a 2xx, not the 404/409/5xx the default lets by.
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx"]}},
    })
    # A batch limit of 4 keeps generated batches small; the schema states whatever limit is set.
    app = serve.create_app(run_dir, max_batch_images=4)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def run_engine(schema: schemathesis.BaseSchema) -> tuple[Counter, list[str]]:
    """Cases per (operation, phase, mode), and a line for every failed check or error."""
    cases: Counter = Counter()
    problems: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for node in recorder.cases.values():
                meta = node.value.meta
                cases[(recorder.label, event.phase.value,
                       meta.generation.mode.value if meta else "?")] += 1
            problems += [f"{recorder.label}: {check.name}: {check.failure_info.failure.title}\n"
                         f"{check.failure_info.failure.message}\n"
                         f"{check.failure_info.code_sample}"
                         for nodes in recorder.checks.values() for check in nodes
                         if check.status == Status.FAILURE and check.failure_info]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            problems.append(f"{getattr(event, 'label', 'engine')}: error: "
                            f"{getattr(event, 'value', getattr(event, 'exception', None))!r}")
        elif isinstance(event, events.EngineFinished):
            problems += [f"{failure.operation}: {failure.title}" for failure in event.failures]
    return cases, problems


def test_every_generated_request_gets_the_answer_the_schema_promises(trained_run: Path) -> None:
    cases, problems = run_engine(fuzz_schema(trained_run))
    figures: dict = {"max_examples": MAX_EXAMPLES, "total_cases": sum(cases.values()),
                     "failures": len(problems), "cases": {}}
    for (operation, phase, mode), count in sorted(cases.items()):
        figures["cases"].setdefault(operation, {})[f"{phase} {mode}"] = count
    FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_PATH.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"schemathesis: {json.dumps(figures, indent=2)}")
    assert not problems, "\n\n".join(problems[:10])
    assert {operation for operation, _, _ in cases} == OPERATIONS
    for operation in OPERATIONS - {"GET /health", "GET /metadata"}:
        assert sum(count for (label, _, mode), count in cases.items()
                   if label == operation and mode == "positive") >= MAX_EXAMPLES // 4, operation
