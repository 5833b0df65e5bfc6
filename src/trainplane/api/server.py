"""Assembling the API from a platform: the handler tables, the verifier, the application."""

from __future__ import annotations

from trainplane.api.app import ApiApplication
from trainplane.api.auth import SigV4Verifier
from trainplane.api.credentials import Credentials
from trainplane.api.handlers import (
    logs_operations,
    metrics_operations,
    training_operations,
    tuning_operations,
)
from trainplane.api.logs import LogsService
from trainplane.api.metrics import MetricsService
from trainplane.platform import Platform


def build_api(platform: Platform, credentials: Credentials | None) -> ApiApplication:
    """``credentials=None`` turns authentication off (the CLI allows that on loopback binds only)."""
    settings = platform.settings
    logs = LogsService(platform.store, settings.region, settings.account_id)
    operations = {
        **training_operations(platform.training),
        **tuning_operations(platform.tuning),
        **logs_operations(logs),
        **metrics_operations(MetricsService(platform.store)),
    }
    verifier = SigV4Verifier(credentials.secrets) if credentials is not None else None
    workers = 1 if settings.database_url.startswith("sqlite") else 8
    return ApiApplication(
        operations, verifier=verifier, account_id=settings.account_id, region=settings.region, workers=workers
    )
