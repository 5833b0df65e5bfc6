"""The two kinds of failure a built-in job reports, and how XGBoost's own errors map onto them.

SageMaker prefixes FailureReason with ``ClientError:`` when the user can fix the job (bad
hyperparameters, bad data, a label XGBoost rejects) and ``AlgorithmError:`` otherwise.
"""

from __future__ import annotations

from trainplane.errors import TrainplaneError

# Substrings of XGBoost errors that are the user's to fix: the container's list, shortened so that
# XGBoost 3's rewordings ("... for the logistic loss") still match.
_XGBOOST_USER_ERRORS = (
    "label must be",
    "labels must be",
    "Label must be",
    "base_score must be in",
    "Target is multiclass but average='binary'",
    "feature_names mismatch",
    "Check failed: preds.size() == info.labels_.size()",
    "the dataset only contains pos or neg samples",
    "Parameter reg_lambda should be greater equal to 0",
    "Invalid Parameter format",
    "Unknown objective function",
    "Unknown metric function",
    "Unknown tree updater",
    "Invalid input",
)


class UserError(TrainplaneError):
    """A problem with the job's hyperparameters or data: reported as ``ClientError``."""


class AlgorithmError(TrainplaneError):
    """A failure inside the algorithm itself: reported as ``AlgorithmError``."""


def classify_training_error(exc: Exception) -> TrainplaneError:
    """Wrap an exception raised by ``xgboost.train`` the way the container does."""
    message = str(exc).split("\nStack trace:", 1)[0].strip()  # the C++ backtrace helps nobody
    if any(fragment in message for fragment in _XGBOOST_USER_ERRORS):
        return UserError(message)
    return AlgorithmError(f"XGB train call failed with exception {message}")


def failure_reason(exc: BaseException) -> str:
    """The text written to ``output/failure``."""
    if isinstance(exc, UserError):
        return f"ClientError: {exc}"
    if isinstance(exc, AlgorithmError):
        return f"AlgorithmError: {exc}"
    return f"AlgorithmError: {type(exc).__name__}: {exc}"
