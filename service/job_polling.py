"""Polling a job: the frontend's hot path. One primary-key read per answer, a short session per
read (a 30-second long-poll holds no database connection while it waits), and an ETag that
changes exactly when the job does."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import TTLCache

from core.resources import Resources
from domain.jobs import FINISHED_STATUSES, JobNotFoundError, JobStatus
from domain.users import Principal
from repository.jobs import JobSnapshot, read_snapshot, read_snapshot_from_pool

MAX_WAIT_SECONDS = 30


def etag_of(job: JobSnapshot) -> str:
    return f'"{job.id.hex}.{job.version}"'


def is_finished(job: JobSnapshot) -> bool:
    return JobStatus(job.status) in FINISHED_STATUSES


def retry_after_seconds(job: JobSnapshot, now: datetime | None = None) -> int | None:
    """When to poll again (1-10 s), or None once the job has finished."""
    if is_finished(job):
        return None
    if job.status == JobStatus.RUNNING.value:
        return 1
    wait = (job.run_after - (now or datetime.now(UTC))).total_seconds()
    return max(1, min(10, math.ceil(wait)))


@dataclass(frozen=True, slots=True)
class PollAnswer:
    job: JobSnapshot
    etag: str
    not_modified: bool


class JobSnapshotCache:
    """The jobs this process served lately: dropped the moment a job changes (the process's job
    change subscription calls `invalidate`) and after `ttl` seconds in any case, which bounds how
    stale an answer can be should a notification be lost.

    Thousands of tabs polling the same few jobs then cost a dictionary lookup, not a query.
    """

    def __init__(
        self,
        ttl_seconds: float = 2.0,
        maxsize: int = 100_000,
        on_read: Callable[[JobSnapshot], None] | None = None,
    ) -> None:
        self._items: TTLCache[uuid.UUID, JobSnapshot] = TTLCache(maxsize=maxsize, ttl=ttl_seconds)
        # Called with every snapshot read from the database (at most once per job and TTL).
        self._on_read = on_read
        # Moves on every invalidation: a read that raced one must not store what it read.
        self.epoch = 0
        self._loading: dict[tuple[uuid.UUID, uuid.UUID, int], asyncio.Task[JobSnapshot | None]] = {}

    def get(self, job_id: uuid.UUID) -> JobSnapshot | None:
        return self._items.get(job_id)

    async def load(
        self, organization_id: uuid.UUID, job_id: uuid.UUID, read: Callable[[], Awaitable[JobSnapshot | None]]
    ) -> JobSnapshot | None:
        """`read()` the job and keep it; concurrent misses of one job share one read.

        Without this, every tab polling a job whose entry just expired would query at once (and
        the poll's tail latency is those bursts). A read joins only a load begun in the current
        epoch: one begun before an invalidation may return the state the invalidation replaced.
        """
        key = (organization_id, job_id, self.epoch)
        task = self._loading.get(key)
        if task is None:
            task = self._loading[key] = asyncio.create_task(self._load(key, read))
        # Shielded: one caller going away must not cancel the read the others wait for.
        return await asyncio.shield(task)

    async def _load(
        self, key: tuple[uuid.UUID, uuid.UUID, int], read: Callable[[], Awaitable[JobSnapshot | None]]
    ) -> JobSnapshot | None:
        try:
            job = await read()
            if job is not None:
                self.put(job, key[2])
                if self._on_read is not None:
                    self._on_read(job)
            return job
        finally:
            self._loading.pop(key, None)

    def put(self, job: JobSnapshot, epoch: int) -> None:
        if epoch == self.epoch:
            self._items[job.id] = job

    def invalidate(self, job_id: uuid.UUID | None) -> None:
        """Forget one job, or every job (None) when changes may have been missed."""
        self.epoch += 1
        if job_id is None:
            self._items.clear()
        else:
            self._items.pop(job_id, None)


class JobPoller:
    def __init__(self, resources: Resources, cache: JobSnapshotCache | None = None) -> None:
        self._resources = resources
        self._cache = cache

    async def read(self, principal: Principal, job_id: uuid.UUID) -> JobSnapshot:
        job = await self.current(principal.organization_id, job_id)
        if job is None:
            raise JobNotFoundError
        return job

    async def current(self, organization_id: uuid.UUID, job_id: uuid.UUID) -> JobSnapshot | None:
        """The organization's job as this process knows it: from the cache until it changes."""
        if self._cache is None:
            job = await self._load(organization_id, job_id)
        else:
            job = self._cache.get(job_id) or await self._cache.load(
                organization_id, job_id, lambda: self._load(organization_id, job_id)
            )
        return job if job is not None and job.organization_id == organization_id else None

    async def _load(self, organization_id: uuid.UUID, job_id: uuid.UUID) -> JobSnapshot | None:
        pool = self._resources.raw_pool
        if pool is not None:
            return await read_snapshot_from_pool(pool, organization_id, job_id)
        # Processes without the raw pool (and tests inside one rolled-back transaction).
        async with self._resources.session_factory() as session:
            return await read_snapshot(session, organization_id, job_id)

    async def poll(
        self, principal: Principal, job_id: uuid.UUID, *, if_none_match: str | None, wait_seconds: float
    ) -> PollAnswer:
        """Answer at once, or with `wait_seconds` > 0 as soon as the job's ETag differs from
        `if_none_match` (or from its state on arrival); a finished job answers at once."""
        if wait_seconds <= 0:
            job = await self.read(principal, job_id)
            return self._answer(job, if_none_match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait_seconds, MAX_WAIT_SECONDS)
        async with self._resources.job_changes.watch(job_id) as changed:
            job = await self.read(principal, job_id)
            reference = if_none_match or etag_of(job)
            while not is_finished(job) and etag_of(job) == reference:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        await changed.wait()
                except TimeoutError:
                    break
                changed.clear()
                job = await self.read(principal, job_id)
        return self._answer(job, if_none_match)

    @staticmethod
    def _answer(job: JobSnapshot, if_none_match: str | None) -> PollAnswer:
        etag = etag_of(job)
        return PollAnswer(job, etag, not_modified=if_none_match is not None and _matches(if_none_match, etag))


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates
