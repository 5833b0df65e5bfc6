"""List operations' NextToken and time filters, shared by every List* operation.

A token holds the position of the last item of its page (its sort value and name, the order's
tiebreak) together with the filters it was made for, opaque to clients: the next page starts after
that item, so jobs created or deleted between pages neither repeat an item nor skip one (an offset
would), and a token cannot be replayed against a different query.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from trainplane.errors import ValidationError

Position = tuple[Any, ...]  # the sort key of a page's last item


def encode_token(position: Position, filters: dict[str, Any]) -> str:
    payload = json.dumps({"p": list(position), "f": filters}, sort_keys=True, default=str)
    return base64.urlsafe_b64encode(payload.encode()).decode()


def decode_token(token: str | None, filters: dict[str, Any]) -> Position | None:
    """The position a token continues after; None without a token."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = tuple(payload["p"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError("Invalid NextToken.") from exc
    if payload.get("f") != json.loads(json.dumps(filters, sort_keys=True, default=str)):
        raise ValidationError("The NextToken does not match the request's filters.")
    return position


def list_filters(request: dict[str, Any], default_sort: str) -> dict[str, Any]:
    """The filters every List* request shares, as the store's list functions take them."""
    return {
        "name_contains": request.get("NameContains"),
        "status_equals": request.get("StatusEquals"),
        "creation_after": epoch(request.get("CreationTimeAfter")),
        "creation_before": epoch(request.get("CreationTimeBefore")),
        "modified_after": epoch(request.get("LastModifiedTimeAfter")),
        "modified_before": epoch(request.get("LastModifiedTimeBefore")),
        "sort_by": request.get("SortBy", default_sort),
        "ascending": request.get("SortOrder", "Ascending") == "Ascending",
    }


def epoch(value: datetime | None) -> float | None:
    """A request time filter as stored times are: epoch seconds at millisecond precision."""
    return None if value is None else round(value.timestamp(), 3)
