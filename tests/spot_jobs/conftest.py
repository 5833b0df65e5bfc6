"""Fixtures for managed spot jobs run for real: a platform with short grace periods and a bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trainplane import TrainPlane

CHECKPOINT_BUCKET = "checkpoints"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    home = tmp_path / "home"
    (home / "s3" / CHECKPOINT_BUCKET).mkdir(parents=True)
    environ = {
        "TRAINPLANE_HOME": str(home),
        "TRAINPLANE_STOP_GRACE_SECONDS": "2",
        "TRAINPLANE_SPOT_NOTICE_SECONDS": "2",
    }
    with TrainPlane(environ=environ) as client:
        yield client
