"""The evaluation stage (05-07): test-set metrics (scoring), the runtimes a trained model
runs in (inference), export to every format (export) and each format measured
(export_benchmark)."""
