"""What a run's training curves show: the whole history diagnosed (overfitting, noise, a
schedule's plateau, still improving...), each claim with its numbers, and the next steps.

    history    the history read for diagnosis: its columns, best epoch, noise, the context
    sentences  each finding in words, naming its epochs and values
    diagnosis  the findings, 04's observations under the curves and 08's next steps
"""

from helpers.writing.curve_diagnosis.diagnosis import (
    Diagnosis,
    context_from_records,
    diagnose,
    diagnose_recorded,
    next_steps,
    observations_for_run,
    train_only_regularizers,
)
from helpers.writing.curve_diagnosis.history import CurveContext, Finding, learning_rate_share

__all__ = ["CurveContext", "Diagnosis", "Finding", "context_from_records", "diagnose",
           "diagnose_recorded", "learning_rate_share", "next_steps", "observations_for_run",
           "train_only_regularizers"]
