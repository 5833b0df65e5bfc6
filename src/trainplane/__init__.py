"""trainplane: a self-hosted training platform that speaks Amazon SageMaker's training API."""

from trainplane.client import TrainPlane
from trainplane.errors import (
    ApiError,
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    TrainplaneError,
    ValidationError,
)
from trainplane.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "ResourceInUse",
    "ResourceLimitExceeded",
    "ResourceNotFound",
    "Settings",
    "TrainPlane",
    "TrainplaneError",
    "ValidationError",
    "__version__",
    "load_settings",
]
