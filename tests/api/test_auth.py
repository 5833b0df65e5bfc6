"""SigV4 at the wire: who gets in, and the AWS error code for each way of not getting in."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import wire
from api_rig import LiveApi, make_platform, serve

from trainplane.api.credentials import credentials_path, load_credentials
from trainplane.errors import ConfigurationError

LIST = "SageMaker.ListTrainingJobs"


def test_a_correctly_signed_request_is_served(live_api: LiveApi) -> None:
    reply = wire.call(live_api.url, LIST, b"{}", live_api.key, live_api.secret)
    assert reply.status == 200
    assert reply.json() == {"TrainingJobSummaries": []}
    assert reply.headers["x-amzn-requestid"]


def test_a_wrong_secret_is_an_invalid_signature(live_api: LiveApi) -> None:
    reply = wire.call(live_api.url, LIST, b"{}", live_api.key, live_api.secret + "x")
    assert reply.status == 403
    assert reply.json()["__type"] == "InvalidSignatureException"


def test_a_body_changed_after_signing_is_an_invalid_signature(live_api: LiveApi) -> None:
    headers = wire.sign_headers(live_api.url, b"{}", {"X-Amz-Target": LIST}, live_api.key, live_api.secret)
    reply = wire.post(live_api.url, b'{"MaxResults": 5}', headers)
    assert reply.status == 403
    assert reply.json()["__type"] == "InvalidSignatureException"


def test_an_unknown_access_key_is_an_unrecognized_client(live_api: LiveApi) -> None:
    reply = wire.call(live_api.url, LIST, b"{}", "TPIANOSUCHKEY0000000", live_api.secret)
    assert reply.status == 403
    assert reply.json()["__type"] == "UnrecognizedClientException"


@pytest.mark.parametrize("minutes", [-16, 16])
def test_a_request_signed_more_than_15_minutes_away_has_expired(live_api: LiveApi, minutes: int) -> None:
    when = datetime.now(UTC) + timedelta(minutes=minutes)
    reply = wire.call(live_api.url, LIST, b"{}", live_api.key, live_api.secret, when=when)
    assert reply.status == 403
    assert reply.json()["__type"] == "InvalidSignatureException"
    assert reply.json()["message"].startswith("Signature expired: ")


def test_a_request_signed_14_minutes_ago_is_still_valid(live_api: LiveApi) -> None:
    when = datetime.now(UTC) - timedelta(minutes=14)
    assert wire.call(live_api.url, LIST, b"{}", live_api.key, live_api.secret, when=when).status == 200


def test_an_unsigned_request_is_missing_its_token(live_api: LiveApi) -> None:
    reply = wire.post(live_api.url, b"{}", {"X-Amz-Target": LIST, "Content-Type": wire.JSON_TYPE})
    assert reply.status == 403
    assert reply.json()["__type"] == "MissingAuthenticationTokenException"


def test_without_auth_unsigned_requests_are_served(tmp_path: Path) -> None:
    platform = make_platform(tmp_path)
    try:
        for url in serve(platform, None):
            reply = wire.post(url, b"{}", {"X-Amz-Target": LIST, "Content-Type": wire.JSON_TYPE})
            assert reply.status == 200
    finally:
        platform.close()


def test_first_start_creates_a_private_credentials_file_and_reuses_it(tmp_path: Path) -> None:
    first = load_credentials(tmp_path, environ={})
    mode = stat.S_IMODE(os.stat(credentials_path(tmp_path)).st_mode)
    assert mode == 0o600
    assert len(first.primary.access_key_id) == 20 and len(first.primary.secret_access_key) == 40
    assert load_credentials(tmp_path, environ={}).primary == first.primary


def test_the_environment_pair_is_accepted_beside_the_file_and_handed_out(tmp_path: Path) -> None:
    from_file = load_credentials(tmp_path, environ={}).primary
    env = {"TRAINPLANE_ACCESS_KEY_ID": "ENVKEY", "TRAINPLANE_SECRET_ACCESS_KEY": "envsecret"}
    both = load_credentials(tmp_path, environ=env)
    assert both.primary.access_key_id == "ENVKEY"
    assert both.secrets == {"ENVKEY": "envsecret", from_file.access_key_id: from_file.secret_access_key}


def test_half_an_environment_pair_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_credentials(tmp_path, environ={"TRAINPLANE_ACCESS_KEY_ID": "ENVKEY"})
