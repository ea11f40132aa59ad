"""Rendered read-model pages of this process (the estate list), kept until the organization's read
model changes.

The read model changes only when a sync commits, and the sync then announces the organization on
the read-model channel (`service.unit_of_work.notify_read_model_after_commit`); this process's listener
calls `invalidate`. A TTL bounds how long a page can outlive a lost notification, and a size in
bytes bounds the memory it takes. A page holding SAS URLs (mirrored thumbnails) also ends a margin
before the first of them expires.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cachetools import TTLCache

from domain.jobs import JobKind, JobStatus

PageKey = tuple[uuid.UUID, str, bytes]
# What a page's reader is left, at the least, to use the SAS URLs in a page served from the cache.
SAS_MARGIN = timedelta(seconds=60)


class PageCache:
    """JSON bodies keyed by (organization, path, raw query string).

    Only answers that were validated and rendered by their route are stored, so a hit always
    repeats what the route itself would answer to the same organization for the same query.
    """

    def __init__(self, ttl_seconds: float, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.enabled = ttl_seconds > 0
        # Each page with its own deadline (monotonic) besides the TTL: the expiry of the SAS URLs in it.
        self._pages: TTLCache[PageKey, tuple[bytes, float]] = TTLCache(
            maxsize=max_bytes, ttl=max(ttl_seconds, 1), getsizeof=lambda page: len(page[0])
        )
        # Moves on every invalidation: a read that raced one must not store what it read.
        self.epoch = 0

    def get(self, organization_id: uuid.UUID, path: str, query: bytes) -> bytes | None:
        key = (organization_id, path, query)
        page = self._pages.get(key)
        if page is None:
            return None
        if time.monotonic() >= page[1]:
            self._pages.pop(key, None)
            return None
        return page[0]

    def holds(self, organization_id: uuid.UUID) -> bool:
        """Whether any page of the organization is cached."""
        return any(key[0] == organization_id for key in list(self._pages.keys()))

    def put(
        self,
        organization_id: uuid.UUID,
        path: str,
        query: bytes,
        body: bytes,
        epoch: int,
        urls_expire_at: datetime | None = None,
    ) -> None:
        """Keep a page; one holding SAS URLs only until `SAS_MARGIN` before the first of them
        expires, so a page from the cache always leaves its reader that long to fetch its images."""
        deadline = math.inf
        if urls_expire_at is not None:
            deadline = time.monotonic() + (urls_expire_at - datetime.now(UTC) - SAS_MARGIN).total_seconds()
        stale = deadline <= time.monotonic()
        if self.enabled and not stale and epoch == self.epoch and len(body) <= self._pages.maxsize:
            self._pages[(organization_id, path, query)] = (body, deadline)

    def invalidate(self, organization_id: uuid.UUID | None) -> None:
        """Forget one organization's pages, or every page (None) when changes may have been missed."""
        self.epoch += 1
        if organization_id is None:
            self._pages.clear()
            return
        for key in [key for key in self._pages.keys() if key[0] == organization_id]:
            self._pages.pop(key, None)


class PolledJob(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def organization_id(self) -> uuid.UUID | None: ...


def forget_pages_after_syncs(cache: PageCache) -> Callable[[PolledJob], None]:
    """A hook for the job snapshot cache's database reads: a succeeded sync drops its
    organization's pages here too.

    The read-model announcement and the job's own travel on two channels, so a poll can read a
    sync's success from the database before this process heard that the estates changed; the
    frontend's next list must not be the page from before the sync.
    """

    def forget(job: PolledJob) -> None:
        if job.kind == JobKind.VITEC_SYNC and job.status == JobStatus.SUCCEEDED and job.organization_id is not None:
            cache.invalidate(job.organization_id)

    return forget
