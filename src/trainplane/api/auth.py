"""SigV4 verification: recompute the client's signature with botocore's own signer and compare.

Using botocore's ``SigV4Auth`` rather than a second implementation means the canonical request (path
normalisation, query ordering, header folding) is built by the same code that signed it on the client.
Only the headers the client listed in ``SignedHeaders`` take part, exactly as on the client.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from trainplane.api.errors import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
)

MAX_SKEW_SECONDS = 15 * 60
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*"
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs from an HTTP request; headers keyed lower-case."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    region: str
    service: str


class SigV4Verifier:
    def __init__(self, secrets: Mapping[str, str], clock: Callable[[], float] = time.time) -> None:
        self._secrets = dict(secrets)
        self._clock = clock

    def verify(self, request: SignedRequest) -> Caller:
        """The authenticated caller, or an ApiError with AWS's code for what is wrong."""
        header = request.headers.get("authorization")
        if not header:
            raise MissingAuthenticationToken("Missing Authentication Token")
        match = _AUTHORIZATION.fullmatch(header.strip())
        if match is None:
            raise IncompleteSignature(
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters "
                "of the AWS4-HMAC-SHA256 scheme."
            )
        scope = match["credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise IncompleteSignature(f"Credential should be scoped correctly: {match['credential']!r}")
        key, _, region, service, _ = scope
        secret = self._secrets.get(key)
        if secret is None:
            raise UnrecognizedClient("The security token included in the request is invalid.")
        amz_date = request.headers.get("x-amz-date", "")
        self._check_time(amz_date)
        signed = match["headers"].split(";")
        missing = [name for name in signed if name not in request.headers]
        if missing:
            raise InvalidSignature(f"{_MISMATCH} (signed header {missing[0]!r} is absent)")
        expected = _signature(request, signed, amz_date, BotoCredentials(key, secret), region, service)
        if not hmac.compare_digest(expected, match["signature"]):
            raise InvalidSignature(_MISMATCH)
        return Caller(key, region, service)

    def _check_time(self, amz_date: str) -> None:
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise IncompleteSignature(
                "Authorization header requires existence of a valid 'X-Amz-Date' header."
            ) from None
        now = self._clock()
        if abs(now - signed_at.timestamp()) > MAX_SKEW_SECONDS:
            stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
            side = "earlier" if signed_at.timestamp() < now else "later"
            bound = "-" if side == "earlier" else "+"
            raise InvalidSignature(
                f"Signature expired: {amz_date} is now {side} than {stamp} ({stamp} {bound} 15 min.)"
            )


def _signature(
    request: SignedRequest,
    signed_headers: list[str],
    amz_date: str,
    credentials: BotoCredentials,
    region: str,
    service: str,
) -> str:
    prepared = AWSRequest(
        method=request.method,
        url=request.url,
        data=request.body,
        headers={name: request.headers[name] for name in signed_headers},
    )
    prepared.context["timestamp"] = amz_date
    signer = SigV4Auth(credentials, service, region)
    canonical = signer.canonical_request(prepared)
    return str(signer.signature(signer.string_to_sign(prepared, canonical), prepared))
