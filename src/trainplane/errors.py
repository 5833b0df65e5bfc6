"""One error hierarchy for the whole package.

API-facing errors carry SageMaker's ``__type`` code and HTTP status, so the HTTP layer, the CLI and the
Python API all report the same thing the same way.
"""

from __future__ import annotations

from typing import Any


class TrainplaneError(Exception):
    """Base class of every error trainplane raises on purpose."""


class ApiError(TrainplaneError):
    """An error with SageMaker's wire shape: ``{"__type": code, "message": message}``."""

    code: str = "InternalFailure"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_wire(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}

    @property
    def response(self) -> dict[str, Any]:
        """botocore's ``ClientError.response`` shape, so code written for boto3 (``exc.response["Error"]
        ["Code"]``) reads a Python-API error the same way."""
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationError(ApiError):
    code = "ValidationException"
    status = 400


class ResourceNotFound(ApiError):
    code = "ResourceNotFound"
    status = 400


class ResourceInUse(ApiError):
    code = "ResourceInUse"
    status = 400


class ResourceLimitExceeded(ApiError):
    code = "ResourceLimitExceeded"
    status = 400


class ConflictError(ApiError):
    """Optimistic-concurrency loss inside the store; callers retry."""

    code = "ConflictException"
    status = 400


class ConfigurationError(TrainplaneError):
    """Bad settings (home directory, database URL, storage endpoint)."""
