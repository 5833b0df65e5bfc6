"""Requests the API tests send."""

from __future__ import annotations

from typing import Any

from trainplane.cli.quickstart import quickstart_request


def training_request(name: str) -> dict[str, Any]:
    """A valid CreateTrainingJob request (built-in XGBoost, one ml.m5.large)."""
    return quickstart_request(name, "prefix", rounds=5)
