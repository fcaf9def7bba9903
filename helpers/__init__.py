"""Helpers the numbered notebooks call, one module per pipeline stage.

datasets -> preprocess -> models -> training -> evaluation -> export, with parameters (the
one schema), records and artifacts for the run directory, plots for figures, and inference
for the runtimes. helpers.runner runs the notebooks with papermill; helpers.serving serves a
trained model. Stage modules never import the runner or serving.
"""

import os
import platform

from helpers import onednn

# TensorFlow's C++ start-up chatter (oneDNN and CPU-feature notices) would otherwise fill
# every notebook's first output. Warnings and errors still show; set the variable to 0
# before importing helpers to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
onednn.choose(os.environ, platform.machine())  # before anything imports TensorFlow
