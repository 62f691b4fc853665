"""The template's S3 event filters: which functions a key triggers, what a prefix reaches.

The one place that decides routing from the template; the local runner's uploads and
backfills and the real backfill's jobs (``operations``) all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stack_model.template import BucketSpec, FunctionSpec, Stack


def upload_bucket(stack: Stack) -> BucketSpec:
    """The bucket the functions listen to: where inputs are uploaded."""
    listened = {event.bucket_logical_id for fn in stack.functions() for event in fn.events}
    if len(listened) != 1:
        raise ValueError(f"expected one bucket with S3 events, found {sorted(listened)}")
    (logical_id,) = listened
    return next(bucket for bucket in stack.buckets() if bucket.logical_id == logical_id)


def _event_name_matches(pattern: str, name: str) -> bool:
    return pattern == name or (pattern.endswith("*") and name.startswith(pattern[:-1]))


def triggered_functions(
    functions: Iterable[FunctionSpec],
    bucket_logical_id: str,
    key: str,
    event_name: str = "s3:ObjectCreated:Put",
) -> tuple[str, ...]:
    """Logical ids of the functions whose S3 events fire for this object, per the template."""
    return tuple(
        fn.logical_id
        for fn in functions
        if any(
            event.bucket_logical_id == bucket_logical_id
            and event.matches(key)
            and any(_event_name_matches(p, event_name) for p in event.events)
            for event in fn.events
        )
    )


@dataclass(frozen=True)
class FilterReach:
    """A template S3 event filter that some key under a prefix can match."""

    function: str  # logical id
    prefix: str  # the narrower of the filter's prefix and the one asked for
    suffix: str


def filters_reached(
    functions: Iterable[FunctionSpec], bucket_logical_id: str, prefix: str
) -> list[FilterReach]:
    """The S3 event filters of the bucket that can match a key starting with prefix.

    S3 refuses overlapping filters on one bucket, so each key matches at most one of them:
    a backfill per filter reaches every routed key once. Raises ValueError, with the filters
    there are, when none can: a backfill of that prefix would invoke nothing.
    """
    functions = list(functions)
    reaches = [
        FilterReach(fn.logical_id, max(prefix, event.prefix, key=len), event.suffix)
        for fn in functions
        for event in fn.events
        if event.bucket_logical_id == bucket_logical_id
        and (prefix.startswith(event.prefix) or event.prefix.startswith(prefix))
    ]
    if not reaches:
        listened = ", ".join(f"{e.prefix}*{e.suffix}" for fn in functions for e in fn.events)
        raise ValueError(
            f"--prefix {prefix!r}: no S3 event filter of template.yaml matches a key under it "
            f"(the functions listen to {listened})"
        )
    return reaches
