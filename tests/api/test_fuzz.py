"""Bad input at the wire: well over 1000 malformed requests (bodies, targets, headers, encodings, huge
values). None may get a 5xx, and none may change the store.

Requests that reach a real operation always carry an unknown member, so they are invalid by
construction (the validator rejects unknown members) while every other member still exercises the
model walk; that is what makes "the store did not change" a fair thing to require.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import wire
from api_rig import LiveApi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests_data import training_request

OPERATIONS = [
    "SageMaker.CreateTrainingJob",
    "SageMaker.DescribeTrainingJob",
    "SageMaker.ListTrainingJobs",
    "SageMaker.StopTrainingJob",
    "SageMaker.DeleteTrainingJob",
    "SageMaker.AddTags",
    "SageMaker.ListTags",
    "SageMaker.DeleteTags",
    "Logs_20140328.DescribeLogStreams",
    "Logs_20140328.GetLogEvents",
]
EXISTING = "fuzz-existing"
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from([EXISTING, "", "a" * 64, "ml.m5.large", "s3://b/k", "File", "Completed"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def _snapshot(api: LiveApi) -> Any:
    store = api.platform.store
    jobs = store.list_training_jobs(limit=1000)
    return [(j, store.list_tags(j.arn), store.log_streams(j.name)) for j in jobs]


@pytest.fixture(scope="module")
def fuzz_api(live_api: LiveApi) -> Iterator[LiveApi]:
    request = training_request(EXISTING)
    request["Tags"] = [{"Key": "team", "Value": "fuzz"}]
    live_api.platform.training.create_training_job(request)
    live_api.platform.store.append_log_events(EXISTING, f"{EXISTING}/algo-1-1", [(1.0, "hello")])
    before = _snapshot(live_api)
    yield live_api
    assert _snapshot(live_api) == before, "a malformed request changed the store"


class Sent:
    """Counts requests and checks each answer: a 4xx with AWS's error shape and a request id."""

    def __init__(self) -> None:
        self.count = 0

    def check(self, reply: wire.Reply) -> None:
        self.count += 1
        assert 400 <= reply.status < 500, (reply.status, reply.body[:300])
        assert reply.headers.get("x-amzn-requestid")
        if reply.headers.get("content-type", "").startswith(wire.JSON_TYPE):
            assert set(reply.json()) == {"__type", "message"}


def _run(examples: int, strategy: st.SearchStrategy[Any], send: Callable[[Any], wire.Reply]) -> int:
    sent = Sent()

    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=_SUPPRESSED)
    @given(strategy)
    def run(example: Any) -> None:
        sent.check(send(example))

    run()
    return sent.count


def test_malformed_bodies_for_every_operation(fuzz_api: LiveApi) -> None:
    bodies = st.tuples(
        st.sampled_from(OPERATIONS), st.dictionaries(st.text(max_size=20), json_values), json_values
    )

    def send(example: tuple[str, dict[str, Any], Any]) -> wire.Reply:
        target, body, poison = example
        body["__fuzz__"] = poison  # an unknown member: never a valid request
        return wire.call(fuzz_api.url, target, json.dumps(body).encode(), fuzz_api.key, fuzz_api.secret)

    assert _run(300, bodies, send) >= 300


def test_mutated_valid_create_requests(fuzz_api: LiveApi) -> None:
    paths = st.sampled_from(
        [
            ("TrainingJobName",),
            ("RoleArn",),
            ("HyperParameters",),
            ("AlgorithmSpecification", "TrainingImage"),
            ("AlgorithmSpecification", "TrainingInputMode"),
            ("ResourceConfig", "InstanceCount"),
            ("ResourceConfig", "InstanceType"),
            ("StoppingCondition", "MaxRuntimeInSeconds"),
            ("InputDataConfig",),
            ("OutputDataConfig", "S3OutputPath"),
        ]
    )

    def send(example: tuple[tuple[str, ...], Any]) -> wire.Reply:
        path, value = example
        request: dict[str, Any] = training_request("fuzz-new-job")
        request["Unknown"] = True  # never valid, whatever the mutation leaves
        target = request
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        body = json.dumps(request).encode()
        return wire.call(fuzz_api.url, "SageMaker.CreateTrainingJob", body, fuzz_api.key, fuzz_api.secret)

    assert _run(200, st.tuples(paths, json_values), send) >= 200


def test_arbitrary_targets(fuzz_api: LiveApi) -> None:
    targets = st.one_of(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        st.builds(lambda op: f"SageMaker.{op}", st.text(st.characters(min_codepoint=33, max_codepoint=126))),
        st.builds(lambda t: t + "x", st.sampled_from(OPERATIONS)),
    )

    def send(target: str) -> wire.Reply:
        return wire.call(fuzz_api.url, target.strip() or None, b"{}", fuzz_api.key, fuzz_api.secret)

    assert _run(150, targets, send) >= 150


def test_hostile_headers(fuzz_api: LiveApi) -> None:
    header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120)
    headers = st.fixed_dictionaries(
        {},
        optional={
            "Authorization": st.one_of(
                header_text,
                st.builds(lambda s: "AWS4-HMAC-SHA256 Credential=" + s, header_text),
                st.builds(
                    lambda k, h: (
                        f"AWS4-HMAC-SHA256 Credential={k}/20240101/us-east-1/sagemaker/aws4_request, "
                        f"SignedHeaders={h}, Signature={'0' * 64}"
                    ),
                    st.sampled_from([fuzz_api.key, "AKIDUNKNOWN"]),
                    st.sampled_from(["host", "host;x-amz-date", "x-missing", ";;", "host;x-amz-target"]),
                ),
            ),
            "X-Amz-Date": header_text,
            "X-Amz-Target": st.sampled_from(OPERATIONS) | header_text,
            "Content-Type": header_text,
            "X-Amz-Content-SHA256": header_text,
        },
    )

    def send(extra: dict[str, str]) -> wire.Reply:
        return wire.post(fuzz_api.url, b'{"__fuzz__": 1}', extra)

    assert _run(150, headers, send) >= 150


def test_signed_requests_with_hostile_signed_headers(fuzz_api: LiveApi) -> None:
    value = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)

    def send(example: tuple[str, str]) -> wire.Reply:
        name, text = example
        headers = {"X-Amz-Target": "SageMaker.DescribeTrainingJob", f"X-Fuzz-{name}": text}
        body = b'{"TrainingJobName": "' + EXISTING.encode() + b'", "__fuzz__": 1}'
        return wire.post(
            fuzz_api.url, body, wire.sign_headers(fuzz_api.url, body, headers, fuzz_api.key, fuzz_api.secret)
        )

    names = st.text(
        st.characters(whitelist_categories=("Lu", "Ll", "Nd")).filter(str.isascii), min_size=1, max_size=8
    )
    assert _run(100, st.tuples(names, value), send) >= 100


def _could_be_valid(body: bytes) -> bool:
    """Empty bodies and bare JSON objects are well-formed input for the List operations."""
    try:
        value = json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and "__fuzz__" not in value


def test_byte_level_bodies_and_encodings(fuzz_api: LiveApi) -> None:
    encodings = st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1"])
    bodies = st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda s, e: json.dumps({"__fuzz__": s}, ensure_ascii=False).encode(e, "replace"),
            st.text(),
            encodings,
        ),
        st.builds(lambda b: b"{" + b, st.binary(max_size=50)),
    ).filter(lambda body: not _could_be_valid(body))
    content_types = st.sampled_from([wire.JSON_TYPE, wire.FORM_TYPE, "text/plain", "application/json"])

    def send(example: tuple[bytes, str, str]) -> wire.Reply:
        body, content_type, target = example
        is_form = content_type == wire.FORM_TYPE
        return wire.call(
            fuzz_api.url,
            None if is_form else target,
            body,
            fuzz_api.key,
            fuzz_api.secret,
            content_type=content_type,
            service="iam" if is_form else "sagemaker",
        )

    assert _run(200, st.tuples(bodies, content_types, st.sampled_from(OPERATIONS)), send) >= 200


def _nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


def test_huge_values(fuzz_api: LiveApi) -> None:
    huge = st.one_of(
        st.builds(lambda n: json.dumps({"TrainingJobName": "a" * n}), st.integers(64, 200_000)),
        st.builds(lambda n: '{"MaxResults": 1' + "0" * n + "}", st.integers(10, 6000)),
        st.builds(lambda n: '{"MaxResults": 1e' + str(n) + "}", st.integers(300, 5000)),
        st.builds(lambda n: '{"NameContains": ' + _nested(n, '"x"') + "}", st.integers(10, 50_000)),
        st.builds(lambda n: '{"HyperParameters": ' + _nested(n, "1") + "}", st.integers(500, 3000)),
        st.builds(lambda n: json.dumps({f"K{i}": i for i in range(n)}), st.integers(100, 20_000)),
        st.builds(lambda n: json.dumps({"Tags": [{"Key": "k", "Value": "v"}] * n}), st.integers(51, 5000)),
    )
    targets = st.sampled_from(OPERATIONS)

    def send(example: tuple[str, str]) -> wire.Reply:
        body, target = example
        return wire.call(fuzz_api.url, target, body.encode(), fuzz_api.key, fuzz_api.secret)

    assert _run(120, st.tuples(huge, targets), send) >= 120
