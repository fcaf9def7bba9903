"""Serving a run's trained model: the REST app, predictions from files, the load test, the page.

Serving runs models through helpers.evaluation.inference and never imports a pipeline stage's
trainer or exporter, so a server needs only a finished run directory.
"""
