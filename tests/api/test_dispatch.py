"""Routing, protocols and error shapes of the one POST / endpoint."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import wire
from api_rig import LiveApi
from requests_data import training_request

from trainplane.api.app import MAX_BODY_BYTES

STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
IAM_NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"


def _call(api: LiveApi, target: str | None, body: bytes, **options: object) -> wire.Reply:
    return wire.call(api.url, target, body, api.key, api.secret, **options)  # type: ignore[arg-type]


def test_create_then_describe_round_trips_with_epoch_timestamps(live_api: LiveApi) -> None:
    body = json.dumps(training_request("dispatch-roundtrip")).encode()
    created = _call(live_api, "SageMaker.CreateTrainingJob", body)
    assert created.status == 200, created.body
    assert created.json()["TrainingJobArn"].endswith(":training-job/dispatch-roundtrip")
    described = _call(live_api, "SageMaker.DescribeTrainingJob", b'{"TrainingJobName": "dispatch-roundtrip"}')
    assert described.status == 200
    assert described.headers["content-type"].startswith(wire.JSON_TYPE)
    assert isinstance(described.json()["CreationTime"], int | float)
    assert described.json()["TrainingJobStatus"] == "InProgress"


def test_service_errors_keep_their_sagemaker_code(live_api: LiveApi) -> None:
    reply = _call(live_api, "SageMaker.DescribeTrainingJob", b'{"TrainingJobName": "no-such-job"}')
    assert reply.status == 400
    assert reply.json() == {"__type": "ValidationException", "message": "Requested resource not found."}


def test_unknown_targets_are_unknown_operations(live_api: LiveApi) -> None:
    for target in ("SageMaker.CreateEndpoint", "SageMaker.Nope", "Other.ListTrainingJobs", ""):
        reply = _call(live_api, target, b"{}")
        assert reply.status == 400, target
        assert reply.json()["__type"] == "UnknownOperationException", target


def test_malformed_json_is_a_serialization_error(live_api: LiveApi) -> None:
    for body in (b"{", b"[1, 2]", b'{"MaxResults": NaN}', b"\xff\xfe{", b'"text"'):
        reply = _call(live_api, "SageMaker.ListTrainingJobs", body)
        assert reply.status == 400, body
        assert reply.json()["__type"] == "SerializationException", body


def test_an_empty_body_means_no_input(live_api: LiveApi) -> None:
    assert _call(live_api, "SageMaker.ListTrainingJobs", b"").status == 200


def test_every_response_carries_a_distinct_request_id(live_api: LiveApi) -> None:
    replies = [
        _call(live_api, "SageMaker.ListTrainingJobs", b"{}"),
        _call(live_api, "SageMaker.Nope", b"{}"),
        wire.post(live_api.url, b"{}", {}),
    ]
    ids = [r.headers["x-amzn-requestid"] for r in replies]
    assert len(set(ids)) == 3 and all(ids)


def test_other_paths_and_methods_are_unknown_operations(live_api: LiveApi) -> None:
    import urllib3

    response = urllib3.request("GET", live_api.url + "dashboard", retries=False)
    assert response.status == 400
    assert json.loads(response.data)["__type"] == "UnknownOperationException"
    assert response.headers["x-amzn-RequestId"]


def test_sts_get_caller_identity_names_the_caller(live_api: LiveApi) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    reply = _call(live_api, None, body, content_type=wire.FORM_TYPE, service="sts")
    assert reply.status == 200
    result = ET.fromstring(reply.body).find(f"{STS_NS}GetCallerIdentityResult")
    assert result is not None
    assert result.findtext(f"{STS_NS}Account") == live_api.platform.settings.account_id
    assert result.findtext(f"{STS_NS}UserId") == live_api.key


def test_iam_calls_are_access_denied_in_xml(live_api: LiveApi) -> None:
    body = b"Action=GetRole&RoleName=x&Version=2010-05-08"
    reply = _call(live_api, None, body, content_type=wire.FORM_TYPE, service="iam")
    assert reply.status == 403
    error = ET.fromstring(reply.body).find(f"{IAM_NS}Error")
    assert error is not None and error.findtext(f"{IAM_NS}Code") == "AccessDenied"


def test_query_protocol_auth_failures_use_query_codes(live_api: LiveApi) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    reply = wire.call(
        live_api.url, None, body, live_api.key, "wrong", content_type=wire.FORM_TYPE, service="sts"
    )
    assert reply.status == 403
    assert ET.fromstring(reply.body).findtext(f"{STS_NS}Error/{STS_NS}Code") == "SignatureDoesNotMatch"


def test_bodies_over_the_limit_are_refused_before_reading(live_api: LiveApi) -> None:
    headers = {"X-Amz-Target": "SageMaker.ListTrainingJobs", "Content-Length": str(MAX_BODY_BYTES + 1)}
    import urllib3

    response = urllib3.request("POST", live_api.url, body=b"{}", headers=headers, retries=False)
    assert response.status == 413


def test_deeply_nested_json_is_a_serialization_error(live_api: LiveApi) -> None:
    body = b'{"NameContains": ' + b"[" * 500 + b"]" * 500 + b"}"
    reply = _call(live_api, "SageMaker.ListTrainingJobs", body)
    assert reply.status == 400
    assert reply.json()["__type"] == "SerializationException"
