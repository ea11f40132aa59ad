"""Keyset pagination: a page of items and the key to continue after."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")
K = TypeVar("K")
# The sort key of the pages ordered by a moment, then the id (estates, documents, departments, ...).
TimeKey = tuple[datetime, UUID]


@dataclass(frozen=True, slots=True)
class Page(Generic[T, K]):
    """`items` in a stable order; `next_key` is the sort key of the last item when more follow."""

    items: list[T]
    next_key: K | None


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], K]) -> Page[T, K]:
    """A page from `rows` fetched as `limit + 1`: the first `limit`, and the key of the last of them
    when the extra row shows that more follow."""
    items = list(rows[:limit])
    return Page(items, key(items[-1]) if len(rows) > limit else None)
