"""The system-wide metrics every process exports: jobs by kind and status, queue depth and lag."""

from __future__ import annotations

from datetime import UTC, datetime

from core.logging import get_logger
from core.metrics import (
    JOBS,
    JOBS_RUN_SECONDS,
    QUEUE_OLDEST_QUEUED_AGE,
    QUEUE_STREAM_LAG,
    QUEUE_STREAM_LENGTH,
    QUEUE_STREAM_PENDING,
)
from core.outages import is_outage
from core.resources import Resources
from repository.job_queue import stream_stats
from repository.jobs import JobRepository

logger = get_logger(__name__)


async def refresh_queue_metrics(resources: Resources) -> None:
    """Read the job table and the stream into the gauges; during an outage the last values stay."""
    try:
        async with resources.session_factory() as session:
            repository = JobRepository(session)
            totals = await repository.totals_by_kind_and_status()
            oldest = await repository.oldest_queued_created_at(None)
        stats = await stream_stats(resources.redis, resources.settings.jobs)
    except Exception as exc:
        if not is_outage(exc):
            raise
        logger.warning("queue_metrics_unavailable", error=repr(exc))
        return
    JOBS.clear()
    JOBS_RUN_SECONDS.clear()
    for kind, status, count, run_seconds in totals:
        JOBS.labels(kind=kind, status=status).set(count)
        JOBS_RUN_SECONDS.labels(kind=kind, status=status).set(run_seconds)
    QUEUE_OLDEST_QUEUED_AGE.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0)
    QUEUE_STREAM_LENGTH.set(stats.length)
    QUEUE_STREAM_PENDING.set(stats.pending)
    QUEUE_STREAM_LAG.set(stats.lag or 0)
