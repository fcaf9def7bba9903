"""Helpers the numbered notebooks call, one module per pipeline stage.

datasets -> preprocess -> models -> training -> evaluation, with plots for figures,
artifacts for the run directory, pipeline for the papermill runner and report for
the hand-in HTML.
"""

import os

# TensorFlow's C++ start-up chatter (oneDNN and CPU-feature notices) would otherwise fill
# every notebook's first output. Warnings and errors still show; set the variable to 0
# before importing helpers to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
