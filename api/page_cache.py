"""Rendered read-model pages of this process (the estate list), kept until the organization's read
model changes.

The read model changes only when a sync commits, and the sync then announces the organization on
the read-model channel (`service.dispatch.notify_read_model_after_commit`); this process's listener
calls `invalidate`. A TTL bounds how long a page can outlive a lost notification.
"""

from __future__ import annotations

import uuid

from cachetools import TTLCache

PageKey = tuple[str, bytes]


class PageCache:
    """JSON bodies keyed by (organization, path, raw query string).

    Only answers that were validated and rendered by their route are stored, so a hit always
    repeats what the route itself would answer to the same organization for the same query.
    """

    def __init__(self, ttl_seconds: float, maxsize_per_organization: int = 2_000) -> None:
        self.enabled = ttl_seconds > 0
        self._ttl = ttl_seconds
        self._maxsize = maxsize_per_organization
        self._pages: dict[uuid.UUID, TTLCache[PageKey, bytes]] = {}
        # Moves on every invalidation: a read that raced one must not store what it read.
        self.epoch = 0

    def get(self, organization_id: uuid.UUID, path: str, query: bytes) -> bytes | None:
        pages = self._pages.get(organization_id)
        return None if pages is None else pages.get((path, query))

    def holds(self, organization_id: uuid.UUID) -> bool:
        """Whether any page of the organization is cached."""
        return bool(self._pages.get(organization_id))

    def put(self, organization_id: uuid.UUID, path: str, query: bytes, body: bytes, epoch: int) -> None:
        if not self.enabled or epoch != self.epoch:
            return
        pages = self._pages.get(organization_id)
        if pages is None:
            pages = self._pages[organization_id] = TTLCache(maxsize=self._maxsize, ttl=self._ttl)
        pages[(path, query)] = body

    def invalidate(self, organization_id: uuid.UUID | None) -> None:
        """Forget one organization's pages, or every page (None) when changes may have been missed."""
        self.epoch += 1
        if organization_id is None:
            self._pages.clear()
        else:
            self._pages.pop(organization_id, None)
