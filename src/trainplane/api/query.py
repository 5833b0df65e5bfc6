"""The AWS query protocol (form-encoded POST, XML answers) for the two services SDKs touch: STS and IAM.

STS ``GetCallerIdentity`` names the authenticated caller in this installation's account. IAM calls
(SDK v3 validates its execution role with ``GetRole`` / ``SimulatePrincipalPolicy``) are all refused
with ``AccessDenied``: trainplane has no IAM, and an SDK that is told "not allowed to check" proceeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from trainplane.api.errors import QUERY_CODES, AccessDenied, SerializationError, UnknownOperation
from trainplane.errors import ApiError

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
_STS_VERSION = "2011-06-15"


@dataclass(frozen=True)
class QueryCall:
    action: str
    version: str
    service: str  # "sts" or "iam"


def parse_query(body: bytes, signed_service: str | None) -> QueryCall:
    """Which query-protocol call a form body makes; the signing scope tells STS from IAM when present."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SerializationError(f"The form-encoded request body is malformed: {exc}") from None
    action = form.get("Action", [""])[0]
    version = form.get("Version", [""])[0]
    if not action:
        raise UnknownOperation("The request names no operation (no X-Amz-Target header or Action).")
    service = signed_service if signed_service in ("sts", "iam") else None
    if service is None:
        service = "sts" if version == _STS_VERSION or action == "GetCallerIdentity" else "iam"
    return QueryCall(action, version, service)


def answer(call: QueryCall, *, account_id: str, user_id: str, request_id: str) -> tuple[int, str]:
    """(status, XML body) for a query call: STS's identity, or AccessDenied for everything else."""
    if call.service == "sts" and call.action == "GetCallerIdentity":
        arn = f"arn:aws:iam::{account_id}:user/trainplane"
        return 200, (
            f'<GetCallerIdentityResponse xmlns="{STS_NAMESPACE}">'
            "<GetCallerIdentityResult>"
            f"<Arn>{escape(arn)}</Arn><UserId>{escape(user_id)}</UserId><Account>{account_id}</Account>"
            "</GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>"
        )
    denied = AccessDenied(
        f"User: arn:aws:iam::{account_id}:user/trainplane is not authorized to perform: "
        f"{call.service}:{call.action} (trainplane has no IAM; roles are not checked)"
    )
    return denied.status, error_xml(denied, call.service, request_id)


def error_xml(error: ApiError, service: str, request_id: str) -> str:
    namespace = STS_NAMESPACE if service == "sts" else IAM_NAMESPACE
    kind = "Receiver" if error.status >= 500 else "Sender"
    code = QUERY_CODES.get(error.code, error.code)
    return (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
