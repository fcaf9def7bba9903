"""Helpers the numbered notebooks call, one module per pipeline stage.

datasets -> preprocess -> models -> training -> evaluation -> export, with parameters (the
one schema), records and artifacts for the run directory, plots for figures, and inference
for the runtimes. helpers.runner runs the notebooks with papermill; helpers.serving serves a
trained model. Stage modules never import the runner or serving.
"""

import os
import platform

from helpers import onednn

# The one side effect of importing helpers (docs/devices.md): TF_ENABLE_ONEDNN_OPTS
# on x86 CPUs, set before anything imports TensorFlow, which reads it once at start-up.
onednn.choose(os.environ, platform.machine())
