"""Smithy RPC v2 CBOR: the protocol botocore speaks to CloudWatch (``monitoring``).

A call is ``POST /service/<service>/operation/<operation>`` with a CBOR map as its body and the header
``smithy-protocol: rpc-v2-cbor``; the answer is a CBOR map too, errors ``{"__type", "message"}`` with the
error's status. Timestamps travel as CBOR tag 1 (epoch seconds) both ways.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

import cbor2
from starlette.responses import Response

from trainplane.api.errors import SerializationError
from trainplane.errors import ApiError

CBOR_TYPE = "application/cbor"
_PATH = re.compile(r"/service/(?P<service>[A-Za-z0-9_]+)/operation/(?P<operation>[A-Za-z0-9_]+)")


def target_of(path: str) -> str | None:
    """``<service>.<operation>`` of an RPC v2 path, the key of the handler table; None for other paths."""
    match = _PATH.fullmatch(path)
    return f"{match['service']}.{match['operation']}" if match else None


def decode(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = cbor2.loads(body)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
        raise SerializationError(f"The request body is not valid CBOR: {exc}") from None
    if not isinstance(value, dict):
        raise SerializationError("The request body must be a CBOR map.")
    return value


def answer(status: int, payload: dict[str, Any], request_id: str) -> Response:
    body = cbor2.dumps(payload, datetime_as_timestamp=True, timezone=UTC)
    headers = {"x-amzn-RequestId": request_id, "smithy-protocol": "rpc-v2-cbor"}
    return Response(body, status, headers=headers, media_type=CBOR_TYPE)


def error(error: ApiError, request_id: str) -> Response:
    return answer(error.status, error.to_wire(), request_id)
