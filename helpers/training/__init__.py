"""The training stage (04): compile and fit (fitting), fit's own callbacks (callbacks), what
training shows while it runs (progress), devices, precision and strategies (devices), and the
run's training as plain Keras code (training_code)."""
