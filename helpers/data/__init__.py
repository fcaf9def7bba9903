"""The data stage (01, 02): every dataset the `dataset` parameter names, loaded and checked
(datasets and its sources), the seeded splits and the one pixel scaling (preprocess), and
the training input pipeline with augmentation (input_pipeline).

`python -m helpers.data export-csv|export-images DATASET OUT_DIR` writes a dataset in the
formats users bring their own data in.
"""
