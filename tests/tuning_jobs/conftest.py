"""The ``rig`` fixture (see ``tuning_rig``); this directory's modules import each other by name."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tuning_rig import Rig

from trainplane.clock import FakeClock
from trainplane.platform import build_platform
from trainplane.settings import load_settings


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock()
    settings = load_settings({}, home=tmp_path / "home")
    platform = build_platform(settings, clock=clock, control=False)
    yield Rig(platform, clock, tmp_path)
    platform.close()
