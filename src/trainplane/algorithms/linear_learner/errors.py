"""The two failure kinds a built-in job reports in ``output/failure`` (SageMaker's FailureReason prefixes)."""

from __future__ import annotations


class ClientError(Exception):
    """The user's input (hyperparameters, data) is wrong; the message says what and where."""

    prefix = "ClientError"


class AlgorithmError(Exception):
    """Something failed inside the algorithm itself."""

    prefix = "AlgorithmError"
