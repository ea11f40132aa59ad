"""`maintenance.cleanup`: purge what has outlived its use, so tables and the stream stay bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.jobs import JobKind
from domain.users import Principal
from repository.idempotency_keys import IdempotencyKeyRepository
from repository.job_queue import delete_dead_consumers
from repository.jobs import JobRepository
from repository.refresh_tokens import RefreshTokenRepository
from repository.workers import live_workers
from service.document_jobs import expire_pending_uploads
from service.job_runner import JobContext
from service.jobs import IdempotencyRequest, JobService, JobStart

# A consumer silent this long, and not registered as live, belonged to a worker that is gone.
DEAD_CONSUMER_IDLE = timedelta(minutes=10)


async def request_cleanup(jobs: JobService, principal: Principal, idempotency: IdempotencyRequest | None) -> JobStart:
    """Start `maintenance.cleanup` now (admins); while one is queued or running, that one answers."""
    principal.require_admin()
    return await jobs.start(
        principal, JobKind.MAINTENANCE_CLEANUP, dedupe_key=JobKind.MAINTENANCE_CLEANUP.value, idempotency=idempotency
    )


async def cleanup(context: JobContext) -> dict[str, Any]:
    """Expired refresh tokens and idempotency keys, finished jobs past retention, direct uploads never
    completed (and their blobs), dead consumers."""
    now = datetime.now(UTC)
    session, resources = context.session, context.resources
    retention = timedelta(days=resources.settings.jobs.retention_days)
    tokens = await RefreshTokenRepository(session).delete_expired(now)
    await context.progress(25, "refresh tokens purged")
    keys = await IdempotencyKeyRepository(session).delete_expired(now)
    await context.progress(50, "idempotency keys purged")
    jobs = await JobRepository(session).delete_finished_before(now - retention)
    await context.progress(70, "finished jobs purged")
    uploads = await expire_pending_uploads(session, resources)
    await context.progress(80, "abandoned direct uploads removed")
    live = {worker_id for worker_id, _ in await live_workers(resources.redis)}
    consumers = await delete_dead_consumers(
        resources.redis, resources.settings.jobs, live, int(DEAD_CONSUMER_IDLE.total_seconds() * 1000)
    )
    return {
        "refresh_tokens_deleted": tokens,
        "idempotency_keys_deleted": keys,
        "jobs_deleted": jobs,
        "stream_consumers_deleted": consumers,
        "pending_uploads_expired": uploads,
    }
