"""The report's answers to the reproducibility checklist reviewers use (the ACL/NAACL one):
for every experimental report, the computing infrastructure and average runtime, the number
of parameters, the validation figure for each test figure and a definition of each measure;
for several runs, their exact number, the settings tried, how and on what one was chosen, and
summary statistics; for the data, counts and label distribution, the splits, what was left
out and every preprocessing step. Each answer is written from the run's records, for the
report's appendix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers import artifacts, wording
from helpers.records import MetricsRecord, read_record
from helpers.writing import brief_comparisons
from helpers.writing.report_settings import RunRecords

MEASURES = ("**Accuracy**: the share of images classified correctly. **Loss**: the mean "
            "cross-entropy, −log of the probability given to the true class. **Precision** of a "
            "class: of the images predicted as it, the share that are; **recall**: of its "
            "images, the share found; **F1**: their harmonic mean; **macro**: the mean over "
            "classes, each class weighing the same. A **95% interval** is the range a figure "
            "would fall in 95 times out of 100 by the chance of which images were drawn.")


@dataclass(frozen=True)
class Item:
    """One checklist question and this run's answer."""

    question: str
    answer: str


def _infrastructure(run_dir: Path) -> str:
    manifest = artifacts.read_json(artifacts.artifact_path(run_dir, artifacts.MANIFEST)) \
        if artifacts.artifact_path(run_dir, artifacts.MANIFEST).is_file() else {}
    machine = manifest.get("machine") or artifacts.machine_info([])
    versions = manifest.get("versions") or {}
    software = ", ".join(f"{name} {version}" for name, version in versions.items())
    return (f"{machine.get('processor', 'unknown CPU')}, {machine.get('cpu_count', '?')} CPU "
            f"cores{', GPUs: ' + ', '.join(machine['gpus']) if machine.get('gpus') else ''}"
            + (f"; {software}" if software else ""))


def _runtime(records: RunRecords, runs: object) -> str:
    training = records.training
    text = (f"{training.train_seconds:.0f} s of training over {training.epochs_run} epochs "
            f"({training.train_seconds / max(training.epochs_run, 1):.1f} s per epoch)")
    if runs is not None:
        text += (f"; the comparison's runs trained {runs['train_seconds'].mean():.0f} s on "
                 f"average ({len(runs)} runs)")
    return text


def _data(records: RunRecords, run_dir: Path) -> str:
    split, dataset = records.preprocess, records.dataset
    counts = dataset.train_class_counts
    per_class = (f"training images per class from {min(counts):,} to {max(counts):,}; "
                 if counts else "")
    left_out = "; ".join(f"{entry['count']:,} {entry.get('description', entry.get('reason'))}"
                         for entry in dataset.skipped) or "nothing"
    return (f"{dataset.train_images + dataset.test_images:,} images of "
            f"{len(dataset.class_names)} classes; {per_class}split {split.train_images:,} "
            "training / "
            f"{split.validation_images:,} validation (a stratified "
            f"{wording.percent(split.val_fraction)} of the training images) / "
            f"{split.test_images:,} test; left out while reading: "
            f"{left_out}")


def items(run_dir: str | Path, records: RunRecords) -> list[Item]:
    """The checklist's questions that apply to this run, each answered."""
    run_dir = Path(run_dir)
    metrics = read_record(run_dir, MetricsRecord)
    runs = brief_comparisons.read_runs(run_dir)
    validation = metrics.validation
    found = [
        Item("Computing infrastructure", _infrastructure(run_dir)),
        Item("Average runtime", _runtime(records, runs)),
        Item("Number of parameters", f"{records.model.parameters['total']:,} "
             f"({records.model.parameters['trainable']:,} trainable)"),
        Item("Validation figure for each test figure",
             f"accuracy {validation['accuracy']:.4f} / {metrics.test_accuracy:.4f}, loss "
             f"{validation['loss']:.4f} / {metrics.test_loss:.4f}, macro F1 "
             f"{validation['f1_macro']:.4f} / {metrics.f1_macro:.4f} (validation / test, the "
             "kept model, measured alike)" if validation else
             "the kept epoch's validation accuracy beside the test accuracy (08's table)"),
        Item("Definition of each measure", MEASURES),
        Item("Data: counts, labels, splits and what was left out", _data(records, run_dir)),
        Item("Preprocessing", "pixels scaled to 0-1 by the model's first layer (the same in "
             "training, evaluation and export); labels as "
             f"{'integers' if records.preprocess.label_encoding == 'sparse' else 'one-hot rows'}"
             "; augmentation, when used, on training images only (the settings table)"),
    ]
    if runs is not None:
        networks = runs["variant"].nunique()
        seeds = runs.groupby("variant")["seed"].nunique().min()
        found += [
            Item("Number of runs", f"{len(runs)}: {networks} networks × {seeds} seeds"),
            Item("Settings tried and how one was chosen", "the networks in 08's comparison "
                 "table, each changing what its row says; chosen on mean validation accuracy "
                 "alone, the test set chose nothing"),
            Item("Summary statistics", "mean ± standard deviation over the seeds per network, "
                 "and each difference's 95% interval (08's rule)")]
    return found


def markdown(run_dir: str | Path, records: RunRecords) -> str:
    """The checklist as a markdown section."""
    return "## Reproducibility checklist\n\n" + "\n".join(
        f"- **{item.question}.** {item.answer}" for item in items(run_dir, records))
