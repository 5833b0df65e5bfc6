"""Raw HTTP against the API: requests signed with botocore's SigV4 signer at a chosen time, sent with
urllib3, so that tests control every byte, header and timestamp a real client would send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

JSON_TYPE = "application/x-amz-json-1.1"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
_HTTP = urllib3.PoolManager(retries=False, timeout=30)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def sign_headers(
    url: str,
    body: bytes,
    headers: dict[str, str],
    key: str,
    secret: str,
    *,
    service: str = "sagemaker",
    region: str = "us-east-1",
    when: datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus Host, X-Amz-Date and an Authorization header for them, signed at ``when``."""
    request = AWSRequest(method="POST", url=url, data=body, headers={"Host": urlsplit(url).netloc, **headers})
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = stamp
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(key, secret), service, region)
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={signed}, Signature={signature}"
    )
    return dict(request.headers.items())


def post(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    response = _HTTP.request("POST", url, body=body, headers=headers)
    return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.data)


def call(
    url: str,
    target: str | None,
    body: bytes,
    key: str,
    secret: str,
    *,
    content_type: str = JSON_TYPE,
    **sign_options: Any,
) -> Reply:
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    return post(url, body, sign_headers(url, body, headers, key, secret, **sign_options))
