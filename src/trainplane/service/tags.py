"""Tag rules every tagged resource shares: AWS's reserved ``aws:`` key prefix and the limit of 50 tags
on one resource. The limit is also why ListTags never pages: its MaxResults is at least 50, so one
page always holds every tag of a resource."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from trainplane.errors import ValidationError

MAX_TAGS_PER_RESOURCE = 50


def check_tag_keys(keys: Iterable[str]) -> None:
    """AWS reserves keys starting with ``aws:`` in any case; SageMaker refuses to set or delete them."""
    for key in keys:
        if key.lower().startswith("aws:"):
            raise ValidationError(f"System prefix 'aws:' reserved for AWS usage in tag key: {key}")


def check_new_tags(existing: Iterable[str], tags: Sequence[Mapping[str, str]]) -> None:
    """Tags about to be added to a resource that holds ``existing`` keys (none for a new resource)."""
    check_tag_keys(t["Key"] for t in tags)
    keys = set(existing) | {t["Key"] for t in tags}
    if len(keys) > MAX_TAGS_PER_RESOURCE:
        raise ValidationError(
            f"The resource would have {len(keys)} tags; a resource can have at most {MAX_TAGS_PER_RESOURCE}."
        )
