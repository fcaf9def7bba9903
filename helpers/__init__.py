"""Helpers the numbered notebooks call, one package per pipeline stage.

    data        sources (built-ins, CSV, folders, zip), splits, scaling, the input pipeline
    model       the networks built from parameters, and their Keras source
    training    compile and fit, callbacks, devices and precision, the training's Keras source
    evaluation  test metrics, inference runtimes, export and its measurements
    writing     every sentence, table and figure of the report, from the run's records
    runner      the command line: running and resuming steps, sweeps, reports, references
    serving     the REST app, predictions from files, the load test, the web page

The ground below them: parameters (the one schema and the layer grammar), records and
artifacts (the run directory), backend, onednn and streams. A stage imports only earlier
stages and the ground, never the runner or serving (tests/unit/test_code_shape.py).
"""

import os
import platform

from helpers import onednn

# The one side effect of importing helpers (docs/devices.md): TF_ENABLE_ONEDNN_OPTS
# on x86 CPUs, set before anything imports TensorFlow, which reads it once at start-up.
onednn.choose(os.environ, platform.machine())
