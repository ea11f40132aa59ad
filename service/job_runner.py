"""The execution wrapper every task runs in.

claim (one conditional UPDATE) → heartbeat while running → the body in a unit of work that also
records success (so a job's effects and its `succeeded` commit together, once) → on failure:
cancelled, failed for good, or back to queued with backoff. A delivery of a job that is not
claimable (running elsewhere, finished, cancelled, not yet due) is acknowledged and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.logging import bind_log_context, get_logger
from core.metrics import JOB_DURATION, JOBS_FINISHED, JOBS_RETRIED
from core.resources import Resources
from domain.jobs import JobCancelled, JobError, PermanentJobError, RetryPolicy, TransientJobError
from repository.job_states import ClaimedJob, JobStateRepository
from repository.jobs import JobRepository
from service.unit_of_work import transaction

logger = get_logger(__name__)

# A job still running after this long is announced as running (see `_Lease.beat_forever`).
RUNNING_ANNOUNCE_DELAY_SECONDS = 0.05


class JobLost(Exception):
    """This worker no longer owns the job (the sweeper gave it to another): stop, change nothing."""


class RunOutcome(StrEnum):
    SKIPPED = "skipped"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETRYING = "retrying"
    LOST = "lost"


@dataclass
class JobContext:
    """What a task body gets: its job, one session (committed once, with the job's success),
    progress reporting, and cancellation checkpoints."""

    job_id: uuid.UUID
    kind: str
    organization_id: uuid.UUID | None
    payload: dict[str, Any]
    attempt: int
    session: AsyncSession
    resources: Resources
    _lease: _Lease

    async def progress(self, percent: int, message: str | None = None) -> None:
        """Report progress (throttled); also a cancellation checkpoint."""
        await self._lease.progress(max(0, min(100, percent)), message)
        await self.checkpoint()

    async def checkpoint(self) -> None:
        """Raise JobCancelled once cancellation was requested (JobLost if the job was taken away)."""
        await self._lease.checkpoint()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[AsyncSession]:
        """A unit of work of its own, committed when the block ends, for a long body that keeps what
        it did so far when a later step fails (its writes must be idempotent: a retry redoes them).
        What must commit with the job's success goes through `session`."""
        await self.checkpoint()  # nothing is written for a job that was cancelled or taken away
        async with transaction(self.resources) as batch_session:
            yield batch_session


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]


@dataclass
class _Lease:
    """This worker's hold on a running job: heartbeats, throttled progress, cancellation flag."""

    job_id: uuid.UUID
    worker_id: str
    resources: Resources
    states: JobStateRepository
    cancel_requested: bool = False
    lost: bool = False
    _last_progress: float = 0.0
    _last_check: float = field(default_factory=time.monotonic)

    async def beat_forever(self) -> None:
        """Heartbeat until cancelled (the job ended); first, tell the pollers the job is running.

        That announcement waits `RUNNING_ANNOUNCE_DELAY_SECONDS`: a job that ends sooner is
        announced once, by its end, so its long-pollers wake once and the worker publishes once.
        """
        interval = self.resources.settings.jobs.heartbeat_seconds
        await asyncio.sleep(min(RUNNING_ANNOUNCE_DELAY_SECONDS, interval))
        try:
            await self.resources.job_changes.announce(self.job_id)
        except Exception as exc:  # a failed announcement must not end the heartbeat
            logger.warning("job_running_announcement_failed", error=repr(exc))
        while not self.lost:
            await asyncio.sleep(interval)
            try:
                await self.beat()
            except Exception as exc:  # a database hiccup must not silence the job's heartbeat for good
                logger.warning("job_heartbeat_failed", error=repr(exc))

    async def beat(self) -> None:
        heartbeat = await self.states.heartbeat(self.job_id, self.worker_id)
        self.lost = not heartbeat.still_owned
        self.cancel_requested = heartbeat.cancel_requested
        self._last_check = time.monotonic()

    async def progress(self, percent: int, message: str | None) -> None:
        now = time.monotonic()
        if percent < 100 and now - self._last_progress < self.resources.settings.jobs.progress_min_interval_seconds:
            return
        self._last_progress = now
        self.lost = not await self.states.report_progress(self.job_id, self.worker_id, percent, message)
        await self.resources.job_changes.announce(self.job_id)

    async def checkpoint(self) -> None:
        # The heartbeat refreshes the flags; between beats, look at the row at most this often.
        if time.monotonic() - self._last_check >= self.resources.settings.jobs.progress_min_interval_seconds:
            await self.beat()
        if self.lost:
            raise JobLost
        if self.cancel_requested:
            raise JobCancelled


class JobRunner:
    """Runs one delivery of one job through its whole lifecycle."""

    def __init__(self, resources: Resources, policy: RetryPolicy | None = None) -> None:
        self._resources = resources
        settings = resources.settings.jobs
        self._policy = policy or RetryPolicy(settings.retry_base_seconds, settings.retry_cap_seconds)
        self.worker_id = resources.identity
        if resources.raw_pool is None:
            raise RuntimeError("the job runner needs the raw pool: await resources.start_raw_pool() first")
        self._states = JobStateRepository(resources.raw_pool)
        # The tasks running a job here, so that a shutdown can release their jobs.
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, job_id: uuid.UUID, kind: str, handler: JobHandler) -> RunOutcome:
        bind_log_context(job_id=str(job_id), job_kind=kind)
        job = await self._states.claim(job_id, self.worker_id)
        if job is None:
            logger.info("job_delivery_skipped")
            return RunOutcome.SKIPPED
        if job.request_id:
            bind_log_context(request_id=job.request_id)
        lease = _Lease(job_id, self.worker_id, self._resources, self._states)
        heartbeat = asyncio.create_task(lease.beat_forever(), name=f"heartbeat-{job_id}")
        started = time.monotonic()
        current = asyncio.current_task()
        if current is not None:
            self._running.add(current)
        try:
            outcome = await self._execute(job, handler, lease)
        finally:
            if current is not None:
                self._running.discard(current)
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        JOBS_FINISHED.labels(kind=kind, status=outcome.value).inc()
        JOB_DURATION.labels(kind=kind, status=outcome.value).observe(time.monotonic() - started)
        await self._resources.job_changes.announce(job_id)
        logger.info("job_run_ended", outcome=outcome.value, attempt=job.attempts)
        return outcome

    async def _execute(self, job: ClaimedJob, handler: JobHandler, lease: _Lease) -> RunOutcome:
        job_id, attempt = job.id, job.attempts
        try:
            async with transaction(self._resources) as session:
                context = JobContext(
                    job_id, job.kind, job.organization_id, job.payload, attempt, session, self._resources, lease
                )
                result = await self._within_time_limit(handler, context)
                if _wrote_through(session):  # the body's effects and its success commit together
                    owned = await JobRepository(session).succeed(job_id, self.worker_id, result)
                else:  # nothing to commit with it: one statement, no transaction around it
                    owned = await self._states.succeed(job_id, self.worker_id, result)
                if not owned:
                    raise JobLost
            return RunOutcome.SUCCEEDED
        except JobLost:
            logger.warning("job_lost_to_another_worker")
            return RunOutcome.LOST
        except JobCancelled:
            await self._states.mark_cancelled(job_id, self.worker_id)
            return RunOutcome.CANCELLED
        except PermanentJobError as exc:
            await self._fail(job_id, exc.code, exc.message)
            return RunOutcome.FAILED
        except asyncio.CancelledError:
            await asyncio.shield(self._release(job_id))
            raise
        except Exception as exc:  # transient by default: a bug or an outage gets its bounded retries
            return await self._retry_or_fail(job, exc)

    async def _within_time_limit(self, handler: JobHandler, context: JobContext) -> dict[str, Any]:
        """The body, ended after its kind's time limit: heartbeats prove the worker lives, not that
        the body makes progress."""
        limit = self._resources.settings.jobs.time_limit_for(context.kind)
        try:
            async with asyncio.timeout(limit) as deadline:
                return await handler(context) or {}
        except TimeoutError as exc:
            if deadline.expired():
                raise TransientJobError(f"The job ran longer than its {limit:g} s limit.", code="job_timeout") from exc
            raise

    async def _retry_or_fail(self, job: ClaimedJob, exc: Exception) -> RunOutcome:
        code, message = _describe(exc)
        logger.warning("job_attempt_failed", error_code=code, error=repr(exc), exc_info=not isinstance(exc, JobError))
        if job.attempts >= job.max_attempts:
            await self._fail(job.id, code, message)
            return RunOutcome.FAILED
        run_after = datetime.now(UTC) + timedelta(seconds=self._policy.delay(job.attempts))
        if not await self._states.requeue(job.id, self.worker_id, run_after, code, message):
            return await self._end_unqueued(job.id)
        JOBS_RETRIED.labels(kind=job.kind).inc()
        return RunOutcome.RETRYING

    async def _release(self, job_id: uuid.UUID) -> None:
        """This worker stops before the job ended (its shutdown grace ran out): back to the queue at
        once, the attempt not charged, so the next worker starts it without waiting for the sweeper."""
        if await self._states.release(job_id, self.worker_id):
            logger.info("job_released_at_shutdown")
        else:
            await self._end_unqueued(job_id)

    async def _end_unqueued(self, job_id: uuid.UUID) -> RunOutcome:
        """The job could not go back to the queue: its cancel was requested (so it ends cancelled),
        or it is no longer this worker's."""
        if await self._states.mark_cancelled(job_id, self.worker_id):
            return RunOutcome.CANCELLED
        return RunOutcome.LOST

    async def _fail(self, job_id: uuid.UUID, code: str, message: str) -> None:
        await self._states.fail(job_id, self.worker_id, code, message)

    async def release_all(self) -> None:
        """Interrupt the jobs still running here and give each back to the queue (worker shutdown)."""
        running = [task for task in self._running if not task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def _wrote_through(session: AsyncSession) -> bool:
    """Whether the body used its session: a transaction began, or objects wait to be flushed."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def _describe(exc: Exception) -> tuple[str, str]:
    """A stable code and a message safe to show; unexpected errors say nothing of their internals."""
    if isinstance(exc, JobError):
        return exc.code, exc.message
    return "internal_error", "The job failed unexpectedly; it is retried while attempts remain."


__all__ = ["JobContext", "JobHandler", "JobRunner", "RunOutcome", "TransientJobError"]
