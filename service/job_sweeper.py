"""The sweeper: the job table, not the broker, guarantees that accepted work runs.

Every few seconds (in the scheduler process, one sweeper at a time under a Redis lock):
- running jobs whose heartbeat went stale (their worker died) go back to queued, or fail when no
  attempts remain, or end cancelled when their cancel was requested;
- queued jobs whose cancel was requested end cancelled (no claim ever takes them), and queued jobs
  of a kind no worker runs fail (a message for them would be dropped, and re-sent for ever);
- queued jobs that are due and were never sent (the send after commit failed), retries whose
  `run_after` passed, and jobs sent so long ago that their message was probably lost, are sent.
Row locks with SKIP LOCKED keep concurrent sweepers (and the API) out of each other's way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio.lock import Lock
from redis.exceptions import RedisError

from core.database import unit_of_work
from core.logging import get_logger
from core.metrics import JOBS_SWEPT
from core.resources import Resources
from repository.job_queue import JobQueue
from repository.jobs import JobRepository
from service.job_kinds import KINDS

logger = get_logger(__name__)

BATCH_SIZE = 200
LOCK_KEY = "estate-bff:lock:job-sweeper"


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)


class JobSweeper:
    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._settings = resources.settings.jobs
        self._queue = JobQueue(resources.broker)

    async def sweep_once(self) -> SweepReport:
        report = SweepReport()
        async with unit_of_work(self._resources.session_factory) as session:
            jobs = JobRepository(session)
            requeued, failed = await jobs.requeue_stale(
                stale_after=timedelta(seconds=self._settings.stale_after_seconds), limit=BATCH_SIZE
            )
            # Whatever left a queued job with a cancel request (no claim takes such a job), end it.
            failed += await jobs.end_cancelled_queued(limit=BATCH_SIZE)
            failed += await jobs.fail_unrunnable(KINDS.kinds(), limit=BATCH_SIZE)
        for job_id in (*requeued, *failed):
            await self._resources.job_changes.announce(job_id)
        report.requeued = [str(job_id) for job_id in requeued]
        report.failed = [str(job_id) for job_id in failed]
        JOBS_SWEPT.labels(reason="stale_heartbeat").inc(len(requeued) + len(failed))
        async with unit_of_work(self._resources.session_factory) as session:
            repository = JobRepository(session)
            due = await repository.lock_due_for_dispatch(
                grace=timedelta(seconds=self._settings.dispatch_grace_seconds),
                redispatch_after=timedelta(seconds=self._settings.redispatch_after_seconds),
                limit=BATCH_SIZE,
            )
            for item in due:
                try:
                    await self._queue.send(item)
                except (RedisError, OSError, TimeoutError) as exc:
                    logger.warning("sweeper_send_failed", job_id=str(item.job_id), error=repr(exc))
                    break  # Redis is away: the rest waits for the next sweep
                report.sent.append(str(item.job_id))
            if report.sent:
                await repository.mark_dispatched([item.job_id for item in due if str(item.job_id) in report.sent])
        JOBS_SWEPT.labels(reason="dispatch").inc(len(report.sent))
        if report.requeued or report.failed or report.sent:
            logger.info("jobs_swept", requeued=report.requeued, failed=report.failed, sent=len(report.sent))
        return report

    async def run_forever(self) -> None:
        """Sweep every interval while holding the sweeper lock; any error waits for the next round."""
        interval = self._settings.sweep_interval_seconds
        while True:
            try:
                lock = self._resources.redis.lock(LOCK_KEY, timeout=max(10.0, interval * 5))
                if await lock.acquire(blocking=False):
                    try:
                        await self.sweep_once()
                    finally:
                        await _release(lock)
            except Exception as exc:  # the sweeper must outlive outages of Redis and PostgreSQL
                logger.warning("sweep_failed", error=repr(exc))
            await asyncio.sleep(interval)


async def _release(lock: Lock) -> None:
    try:
        await lock.release()
    except RedisError as exc:  # expired meanwhile or Redis went away: the timeout frees it
        logger.info("sweeper_lock_release_failed", error=repr(exc))
