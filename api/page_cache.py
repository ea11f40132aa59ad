"""Rendered read-model pages of this process (the estate list), kept until the organization's read
model changes.

The read model changes only when a sync commits, and the sync then announces the organization on
the read-model channel (`service.dispatch.notify_read_model_after_commit`); this process's listener
calls `invalidate`. A TTL bounds how long a page can outlive a lost notification, and a size in
bytes bounds the memory it takes.
"""

from __future__ import annotations

import uuid

from cachetools import TTLCache

PageKey = tuple[uuid.UUID, str, bytes]


class PageCache:
    """JSON bodies keyed by (organization, path, raw query string).

    Only answers that were validated and rendered by their route are stored, so a hit always
    repeats what the route itself would answer to the same organization for the same query.
    """

    def __init__(self, ttl_seconds: float, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.enabled = ttl_seconds > 0
        self._pages: TTLCache[PageKey, bytes] = TTLCache(maxsize=max_bytes, ttl=max(ttl_seconds, 1), getsizeof=len)
        # Moves on every invalidation: a read that raced one must not store what it read.
        self.epoch = 0

    def get(self, organization_id: uuid.UUID, path: str, query: bytes) -> bytes | None:
        return self._pages.get((organization_id, path, query))

    def holds(self, organization_id: uuid.UUID) -> bool:
        """Whether any page of the organization is cached."""
        return any(key[0] == organization_id for key in list(self._pages.keys()))

    def put(self, organization_id: uuid.UUID, path: str, query: bytes, body: bytes, epoch: int) -> None:
        if self.enabled and epoch == self.epoch and len(body) <= self._pages.maxsize:
            self._pages[(organization_id, path, query)] = body

    def invalidate(self, organization_id: uuid.UUID | None) -> None:
        """Forget one organization's pages, or every page (None) when changes may have been missed."""
        self.epoch += 1
        if organization_id is None:
            self._pages.clear()
            return
        for key in [key for key in self._pages.keys() if key[0] == organization_id]:
            self._pages.pop(key, None)
