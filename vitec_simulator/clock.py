"""Vitec's date quirks: ISO 8601 values that are sometimes naive (Europe/Oslo) and sometimes `Z`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S"


class DateFormatError(ValueError):
    """A `changedAfter` value that is not an ISO 8601 date-time."""


def render(timestamp: int, naive: bool) -> str:
    """Format a UTC epoch second as Vitec does: naive Oslo local time, or UTC with a `Z`.

    A local time in the repeated hour of the autumn change is ambiguous, so it is sent with `Z`.
    """
    utc = datetime.fromtimestamp(timestamp, UTC)
    if naive:
        local = utc.astimezone(OSLO)
        if local.fold == 0 and not _is_ambiguous(local):
            return local.strftime(NAIVE_FORMAT)
    return utc.strftime(NAIVE_FORMAT) + "Z"


def _is_ambiguous(local: datetime) -> bool:
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


def parse(value: str) -> float:
    """Read an ISO 8601 date-time as a UTC epoch; a value without a zone is Europe/Oslo local time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise DateFormatError(f"not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=OSLO)
    return parsed.timestamp()


def now_seconds() -> int:
    """The current time as whole UTC epoch seconds (Vitec's dates carry no fractions)."""
    return int(time.time())
