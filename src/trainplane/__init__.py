"""trainplane: a self-hosted training platform that speaks Amazon SageMaker's training API."""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from trainplane.client import TrainPlane


def __getattr__(name: str) -> Any:
    # The Python API pulls in the whole control plane (store, tuning, scipy): processes that only need a
    # piece of the package (the runtime agent, the built-in algorithms) must not pay for it at start-up.
    if name == "TrainPlane":
        from trainplane.client import TrainPlane

        return TrainPlane
    raise AttributeError(f"module 'trainplane' has no attribute {name!r}")


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
