"""Keyset pagination: a page of items and the key to continue after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Page(Generic[T, K]):
    """`items` in a stable order; `next_key` is the sort key of the last item when more follow."""

    items: list[T]
    next_key: K | None
