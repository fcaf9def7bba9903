"""The runner's errors: each message names what failed and what to do about it."""

from __future__ import annotations

from helpers.parameters import ParameterError
from helpers.runner.steps import RunStateError


class InputDataError(ValueError):
    """The dataset cannot be loaded (missing or malformed files); nothing was written."""


class StepFailedError(RuntimeError):
    """A notebook raised; the message names the notebook, the cell and the exception."""


# What the command line reports as one `error:` line and exit status 1.
RUNNER_ERRORS = (ParameterError, InputDataError, RunStateError, StepFailedError,
                 FileNotFoundError)
