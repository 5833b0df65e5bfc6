"""An API server on a loopback port, in this process, over a fresh platform that runs no jobs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_rig import LiveApi, make_platform, serve

from trainplane.api.credentials import load_credentials


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    home = tmp_path_factory.mktemp("api-home")
    platform = make_platform(home)
    credentials = load_credentials(home, environ={})
    try:
        for url in serve(platform, credentials):
            yield LiveApi(url, platform, credentials)
    finally:
        platform.close()
