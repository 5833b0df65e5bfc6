"""HTTP API: AWS JSON 1.1 and query protocols over the services, SigV4-checked."""

from trainplane.api.app import ApiApplication
from trainplane.api.server import build_api

__all__ = ["ApiApplication", "build_api"]
