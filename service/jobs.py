"""Jobs as the frontend sees them: start (idempotently), read, list, cancel, retry, queue overview."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.logging import current_log_context
from core.resources import Resources
from domain.jobs import (
    IdempotencyKeyInUseError,
    IdempotencyKeyMismatchError,
    JobCreateRateLimitedError,
    JobKindNotRunnableError,
    JobNotCancellableError,
    JobNotFoundError,
    JobNotRetryableError,
    JobStatus,
)
from domain.pagination import Page, page_of
from domain.users import Principal
from repository.idempotency_keys import IdempotencyKeyRepository
from repository.job_queue import stream_stats
from repository.jobs import DispatchItem, JobRepository
from repository.models import IdempotencyKey, Job
from repository.workers import live_workers
from service.job_kinds import KINDS
from service.unit_of_work import enqueue_after_commit, notify_after_commit

IDEMPOTENCY_TTL = timedelta(hours=24)
JobKey = tuple[datetime, uuid.UUID]


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    """The `Idempotency-Key` header and a fingerprint of the request it came with."""

    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class JobStart:
    job: Job
    replayed: bool


@dataclass(frozen=True, slots=True)
class QueueOverview:
    counts: dict[str, dict[str, int]]
    oldest_queued_age_seconds: float | None
    stream_length: int
    stream_pending: int
    stream_lag: int | None
    workers: list[tuple[str, datetime]]


class JobService:
    """Starts and manages the jobs of the caller's organization."""

    def __init__(self, session: AsyncSession, resources: Resources) -> None:
        self._session = session
        self._resources = resources
        self._jobs = JobRepository(session)
        self._keys = IdempotencyKeyRepository(session)

    async def start(
        self,
        principal: Principal | None,
        kind: str,
        *,
        organization_id: uuid.UUID | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
        idempotency: IdempotencyRequest | None = None,
    ) -> JobStart:
        """Create a queued job (sent after commit). A replayed idempotency key answers its first job;
        an active job with the same dedupe key is answered instead of a second one."""
        if kind not in KINDS:
            raise JobKindNotRunnableError(kind)
        if principal is not None and idempotency is not None:
            earlier = await self._keys.get_live(principal.user_id, idempotency.key)
            if earlier is not None:
                if earlier.request_hash != idempotency.request_hash:
                    raise IdempotencyKeyMismatchError
                job = await self._jobs.get(earlier.job_id)
                if job is not None:
                    return JobStart(job, replayed=True)
        if principal is not None:
            await self._enforce_create_limit(principal)
        job, created = await self._jobs.create_unique(
            Job(
                organization_id=principal.organization_id if principal else organization_id,
                created_by=principal.user_id if principal else None,
                kind=kind,
                payload=payload or {},
                dedupe_key=dedupe_key,
                max_attempts=self._resources.settings.jobs.max_attempts,
                request_id=_request_id(),
            )
        )
        if created:
            enqueue_after_commit(self._session, DispatchItem(job.id, job.kind, job.request_id))
        if principal is not None and idempotency is not None:
            await self._keys.add(
                IdempotencyKey(
                    user_id=principal.user_id,
                    key=idempotency.key,
                    request_hash=idempotency.request_hash,
                    job_id=job.id,
                    expires_at=datetime.now(UTC) + IDEMPOTENCY_TTL,
                ),
                unique_errors={"uq_idempotency_keys_user_id_key": IdempotencyKeyInUseError},
            )
        return JobStart(job, replayed=False)

    async def get(self, principal: Principal, job_id: uuid.UUID) -> Job:
        job = await self._jobs.get_in_organization(principal.organization_id, job_id)
        if job is None:
            raise JobNotFoundError
        return job

    async def list(
        self, principal: Principal, *, statuses: list[JobStatus], kinds: list[str], limit: int, after: JobKey | None
    ) -> Page[Job, JobKey]:
        """The organization's jobs, newest first."""
        rows = await self._jobs.list_page(
            principal.organization_id,
            statuses=[status.value for status in statuses],
            kinds=kinds,
            limit=limit + 1,
            after=after,
        )
        return page_of(rows, limit, lambda job: (job.created_at, job.id))

    async def cancel(self, principal: Principal, job_id: uuid.UUID) -> Job:
        """A queued job never runs; a running one stops at its next checkpoint."""
        await self.get(principal, job_id)
        job = await self._jobs.cancel(job_id)
        if job is None:
            raise JobNotCancellableError
        notify_after_commit(self._session, job_id)
        return job

    async def retry(self, principal: Principal, job_id: uuid.UUID) -> Job:
        """Re-queue a failed job with a fresh attempt budget (admins)."""
        principal.require_admin()
        await self.get(principal, job_id)
        job = await self._jobs.retry_failed(job_id, self._resources.settings.jobs.max_attempts)
        if job is None:
            raise JobNotRetryableError
        notify_after_commit(self._session, job_id)
        enqueue_after_commit(self._session, DispatchItem(job.id, job.kind, job.request_id))
        return job

    async def overview(self, principal: Principal) -> QueueOverview:
        """Counts per kind and status for the organization; stream and worker health (admins)."""
        principal.require_admin()
        counts: dict[str, dict[str, int]] = {}
        for kind, status, count in await self._jobs.counts_by_kind_and_status(principal.organization_id):
            counts.setdefault(kind, {s.value: 0 for s in JobStatus})[status] = count
        oldest = await self._jobs.oldest_queued_created_at(principal.organization_id)
        stats = await stream_stats(self._resources.redis, self._resources.settings.jobs)
        return QueueOverview(
            counts=counts,
            oldest_queued_age_seconds=(datetime.now(UTC) - oldest).total_seconds() if oldest else None,
            stream_length=stats.length,
            stream_pending=stats.pending,
            stream_lag=stats.lag,
            workers=await live_workers(self._resources.redis),
        )

    async def _enforce_create_limit(self, principal: Principal) -> None:
        limiter = self._resources.rate_limiter
        limit = limiter.parse(self._resources.settings.jobs.create_rate_limit)
        decision = await limiter.hit(limit, "job-create", str(principal.user_id))
        if not decision.allowed:
            raise JobCreateRateLimitedError(decision.retry_after_seconds)


def _request_id() -> str | None:
    value = current_log_context().get("request_id")
    return str(value) if value is not None else None
