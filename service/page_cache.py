"""Rendered estate-list pages of this process, kept until the organization's read model changes.

The service consults it after the request was validated, keyed by the organization and the
*normalized* filters, page size and position (so two spellings of one query share an entry, and
what a client sends cannot grow the key space beyond the valid queries). A missing page is filled
by one request while the others asking for it wait for that one (no stampede when an entry ends).

The read model changes only when a sync commits, and the sync then announces the organization on
the read-model channel (`service.unit_of_work.notify_read_model_after_commit`); this process's
listener calls `invalidate`. A TTL bounds how long a page can outlive a lost notification, and a
size in bytes bounds the memory it takes. A page holding SAS URLs (mirrored thumbnails) also ends a
margin before the first of them expires.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cachetools import TTLCache

from domain.jobs import JobKind, JobStatus

PageKey = tuple[uuid.UUID, Hashable]
# What a page's reader is left, at the least, to use the SAS URLs in a page served from the cache.
SAS_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page's JSON, and when the first SAS URL in it expires (None: it holds none)."""

    body: bytes
    urls_expire_at: datetime | None = None


class PageCache:
    """JSON bodies keyed by (organization, a hashable key of the validated, normalized query)."""

    def __init__(self, ttl_seconds: float, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.enabled = ttl_seconds > 0
        # Each page with its own deadline (monotonic) besides the TTL: the expiry of the SAS URLs in it.
        self._pages: TTLCache[PageKey, tuple[bytes, float]] = TTLCache(
            maxsize=max_bytes, ttl=max(ttl_seconds, 1), getsizeof=lambda page: len(page[0])
        )
        # The fills in flight: the requests that miss the same page wait for the one that reads it.
        self._filling: dict[PageKey, asyncio.Task[bytes]] = {}
        # Moves on every invalidation: a read that raced one must not store what it read.
        self.epoch = 0

    async def page(
        self, organization_id: uuid.UUID, key: Hashable, fill: Callable[[], Awaitable[RenderedPage]]
    ) -> bytes:
        """The cached page, or the one `fill` renders: once, however many ask for it meanwhile."""
        if not self.enabled:
            return (await fill()).body
        page_key = (organization_id, key)
        body = self.get(organization_id, key)
        if body is not None:
            return body
        task = self._filling.get(page_key)
        if task is None:
            # A task of its own: a waiter (or the first asker) that goes away does not cancel the
            # read the others wait for.
            task = asyncio.create_task(self._fill(page_key, fill, self.epoch))
            self._filling[page_key] = task
            task.add_done_callback(lambda done: self._forget_fill(page_key, done))
        return await asyncio.shield(task)

    async def _fill(self, page_key: PageKey, fill: Callable[[], Awaitable[RenderedPage]], epoch: int) -> bytes:
        page = await fill()
        self.put(page_key[0], page_key[1], page.body, epoch, page.urls_expire_at)
        return page.body

    def _forget_fill(self, page_key: PageKey, task: asyncio.Task[bytes]) -> None:
        if self._filling.get(page_key) is task:
            del self._filling[page_key]
        if not task.cancelled():
            task.exception()  # retrieved: a failed fill is its askers' error, not an unhandled one

    def get(self, organization_id: uuid.UUID, key: Hashable) -> bytes | None:
        page_key = (organization_id, key)
        page = self._pages.get(page_key)
        if page is None:
            return None
        if time.monotonic() >= page[1]:
            self._pages.pop(page_key, None)
            return None
        return page[0]

    def holds(self, organization_id: uuid.UUID) -> bool:
        """Whether any page of the organization is cached."""
        return any(key[0] == organization_id for key in list(self._pages.keys()))

    def put(
        self,
        organization_id: uuid.UUID,
        key: Hashable,
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
            self._pages[(organization_id, key)] = (body, deadline)

    def invalidate(self, organization_id: uuid.UUID | None) -> None:
        """Forget one organization's pages, or every page (None) when changes may have been missed.

        A fill in flight still answers those already waiting for it, but no later request joins it.
        """
        self.epoch += 1
        for page_key in [k for k in self._filling if organization_id is None or k[0] == organization_id]:
            del self._filling[page_key]
        if organization_id is None:
            self._pages.clear()
            return
        for page_key in [k for k in self._pages.keys() if k[0] == organization_id]:
            self._pages.pop(page_key, None)


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
