"""Errors that only the wire can produce: protocol, authentication and routing failures.

Service errors (``ValidationException``, ``ResourceInUse``...) come from :mod:`trainplane.errors`; the
ones here are what AWS front ends answer before a request reaches a service. Codes and statuses are
AWS's, so botocore raises the same ``ClientError`` codes against trainplane as against AWS.
"""

from __future__ import annotations

from trainplane.errors import ApiError


class UnknownOperation(ApiError):
    code = "UnknownOperationException"
    status = 400


class SerializationError(ApiError):
    code = "SerializationException"
    status = 400


class RequestTooLarge(ApiError):
    code = "RequestEntityTooLargeException"
    status = 413


class MissingAuthenticationToken(ApiError):
    code = "MissingAuthenticationTokenException"
    status = 403


class IncompleteSignature(ApiError):
    code = "IncompleteSignatureException"
    status = 400


class InvalidSignature(ApiError):
    code = "InvalidSignatureException"
    status = 403


class UnrecognizedClient(ApiError):
    code = "UnrecognizedClientException"
    status = 403


class AccessDenied(ApiError):
    code = "AccessDenied"
    status = 403


class LogsResourceNotFound(ApiError):
    """CloudWatch Logs' spelling of "not found" differs from SageMaker's ``ResourceNotFound``."""

    code = "ResourceNotFoundException"
    status = 400


class LogsInvalidParameter(ApiError):
    code = "InvalidParameterException"
    status = 400


# The query protocol (STS, IAM) reports authentication failures under its own names.
QUERY_CODES = {
    InvalidSignature.code: "SignatureDoesNotMatch",
    UnrecognizedClient.code: "InvalidClientTokenId",
    MissingAuthenticationToken.code: "MissingAuthenticationToken",
    IncompleteSignature.code: "IncompleteSignature",
    UnknownOperation.code: "InvalidAction",
}
