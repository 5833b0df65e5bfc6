"""The HTTP application: one ``POST /`` speaking AWS JSON 1.1 (by ``X-Amz-Target``) and the query protocol.

Every request gets an ``x-amzn-RequestId``. The order of checks is AWS's: the body is read (bounded),
the signature verified, the operation looked up, the JSON parsed; then the handler runs in a worker
thread (the service and store are synchronous) and its result is serialised with the operation's output
shape. Failures become ``{"__type", "message"}`` (JSON) or ``<ErrorResponse>`` (query) with the error's
own status; anything unexpected is logged and answered 500 ``InternalFailure``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trainplane.api import cbor_rpc, query
from trainplane.api.auth import Caller, SignedRequest, SigV4Verifier
from trainplane.api.errors import RequestTooLarge, SerializationError, UnknownOperation
from trainplane.api.handlers import Operation
from trainplane.errors import ApiError
from trainplane.service.validation import serialize_output

log = logging.getLogger("trainplane.api")

JSON_TYPE = "application/x-amz-json-1.1"
MAX_BODY_BYTES = 8 * 1024 * 1024  # far above any modelled request; keeps a hostile body out of memory
# No modelled input nests deeper than about 10; deeper JSON is refused before recursive code sees it.
MAX_DEPTH = 64
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class InternalFailure(ApiError):
    code = "InternalFailure"
    status = 500


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")  # NaN/Infinity would otherwise reach the store


def parse_json_body(body: bytes) -> dict[str, Any]:
    """The request object; an empty body means ``{}`` (as for operations without input)."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise SerializationError(f"The request body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(value, dict):
        raise SerializationError("The request body must be a JSON object.")
    if _too_deep(value):
        raise SerializationError(f"The request body nests deeper than {MAX_DEPTH} levels.")
    return value


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestTooLarge(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _signed_request(request: Request, headers: dict[str, str], body: bytes) -> SignedRequest:
    path = request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0]
    query_string = request.scope.get("query_string", b"").decode("latin-1")
    url = f"http://{headers.get('host', 'localhost')}{path}" + (f"?{query_string}" if query_string else "")
    return SignedRequest(request.method, url, headers, body)


def _signing_service(headers: Mapping[str, str]) -> str | None:
    parts = headers.get("authorization", "").split("Credential=", 1)[-1].split("/")
    return parts[3] if len(parts) >= 5 else None


class ApiApplication:
    """Holds the handler table and the verifier (None: ``--auth none``); ``app`` is the ASGI app.

    Handlers run on ``workers`` threads. With SQLite one is best: concurrent writers in one process only
    meet SQLite's lock and its sleeping busy handler (seconds of tail latency under load), while a single
    thread runs them back to back; PostgreSQL callers pass more.
    """

    def __init__(
        self,
        operations: Mapping[str, Operation],
        *,
        verifier: SigV4Verifier | None,
        account_id: str,
        region: str,
        workers: int = 1,
    ) -> None:
        self.operations = dict(operations)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trainplane-api")
        self.verifier = verifier
        self.account_id = account_id
        self.region = region
        self.app = Starlette(routes=[Route("/{path:path}", self.endpoint, methods=_METHODS)])

    async def endpoint(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        headers = _headers(request)
        target = headers.get("x-amz-target")
        is_query = not target and headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        service = _signing_service(headers) or "sts"
        rpc_target = cbor_rpc.target_of(request.url.path) if request.method == "POST" else None
        if rpc_target is not None:
            return await self._rpc_v2_cbor(request, headers, rpc_target, request_id)
        try:
            if request.method != "POST" or request.url.path != "/":
                raise UnknownOperation(f"No operation is served at {request.method} {request.url.path}.")
            body = await _read_body(request)
            caller = self._authenticate(_signed_request(request, headers, body))
            if is_query:
                call = query.parse_query(body, _signing_service(headers) if self.verifier else None)
                service = call.service
                status, xml = query.answer(
                    call, account_id=self.account_id, user_id=caller.access_key_id, request_id=request_id
                )
                return _xml(status, xml, request_id)
            operation = self.operations.get(target or "")
            if operation is None:
                raise UnknownOperation(
                    f"Unknown operation {target!r}." if target else "No X-Amz-Target header."
                )
            params = parse_json_body(body)
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, self._call, operation, params)
            return _json(200, result, request_id)
        except ApiError as error:
            return self._error(error, is_query, service, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return self._error(InternalFailure("An internal error occurred."), is_query, service, request_id)

    async def _rpc_v2_cbor(
        self, request: Request, headers: dict[str, str], target: str, request_id: str
    ) -> Response:
        """A Smithy RPC v2 CBOR call (CloudWatch): same checks, CBOR in and out."""
        try:
            body = await _read_body(request)
            self._authenticate(_signed_request(request, headers, body))
            operation = self.operations.get(target)
            if operation is None:
                raise UnknownOperation(f"Unknown operation {target!r}.")
            params = cbor_rpc.decode(body)
            loop = asyncio.get_running_loop()
            # Handlers return timestamps as datetimes, which CBOR carries as they are (tag 1).
            result = await loop.run_in_executor(self._executor, operation.call, params)
            return cbor_rpc.answer(200, result, request_id)
        except ApiError as error:
            return cbor_rpc.error(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return cbor_rpc.error(InternalFailure("An internal error occurred."), request_id)

    def _authenticate(self, request: SignedRequest) -> Caller:
        if self.verifier is None:
            return Caller("anonymous", self.region, "")
        return self.verifier.verify(request)

    @staticmethod
    def _call(operation: Operation, params: dict[str, Any]) -> dict[str, Any]:
        return serialize_output(operation.name, operation.call(params), service=operation.service)

    @staticmethod
    def _error(error: ApiError, is_query: bool, service: str, request_id: str) -> Response:
        if is_query:
            return _xml(error.status, query.error_xml(error, service, request_id), request_id)
        return _json(error.status, error.to_wire(), request_id)


def _json(status: int, payload: dict[str, Any], request_id: str) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status, headers={"x-amzn-RequestId": request_id}, media_type=JSON_TYPE)


def _xml(status: int, text: str, request_id: str) -> Response:
    return Response(text.encode(), status, headers={"x-amzn-RequestId": request_id}, media_type="text/xml")
