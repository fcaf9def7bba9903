"""The training stage (04): compile and fit (fitting), the optimizer and learning-rate schedule
from Keras's classes (optimizers), fit's own callbacks (callbacks), what training shows while it
runs (progress), devices, precision and strategies (devices), and the run's training as plain
Keras code (training_code, its rate lines in training_code_rates)."""
