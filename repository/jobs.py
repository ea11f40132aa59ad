"""Jobs: every state change is one conditional UPDATE, so concurrent workers, sweepers and API
requests can never both win the same transition."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs import ACTIVE_STATUSES, JobStatus
from repository.base import UNIQUE_VIOLATION, Repository, violated_constraint
from repository.job_states import SUCCEED, transition
from repository.models import Job

_ACTIVE = [status.value for status in ACTIVE_STATUSES]


@dataclass(frozen=True, slots=True)
class DispatchItem:
    """What a broker message needs: the job id, its kind (the task name), the request id."""

    job_id: uuid.UUID
    kind: str
    request_id: str | None


class JobRepository(Repository[Job]):
    model = Job

    async def get_in_organization(self, organization_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
        return await self.one_or_none(self.select().where(Job.id == job_id, Job.organization_id == organization_id))

    async def get_fresh(self, job_id: uuid.UUID) -> Job | None:
        """The row as the database has it now, not as this session last saw it."""
        return await self.one_or_none(self.select().where(Job.id == job_id).execution_options(populate_existing=True))

    async def create_unique(self, job: Job) -> tuple[Job, bool]:
        """Insert; when an active job with the same (organization, dedupe key) exists, answer it
        instead. True when the job is new."""
        try:
            async with self.session.begin_nested():
                self.session.add(job)
        except IntegrityError as exc:
            sqlstate, constraint = violated_constraint(exc)
            if sqlstate != UNIQUE_VIOLATION or constraint != "uq_jobs_active_dedupe":
                raise
            existing = await self.one_or_none(
                self.select().where(
                    Job.organization_id.is_not_distinct_from(job.organization_id),
                    Job.dedupe_key == job.dedupe_key,
                    Job.status.in_(_ACTIVE),
                )
            )
            if existing is None:  # it finished in between: try once more
                return await self.create_unique(job)
            return existing, False
        return job, True

    async def create_for_tick(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Insert a scheduled job unless it would collide: its `schedule_key` exists (another
        scheduler got there first) or an active job has its dedupe key. Its id when inserted."""
        statement = insert(Job).values(**values).on_conflict_do_nothing().returning(Job.id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def succeed(self, job_id: uuid.UUID, worker_id: str, result: dict[str, Any]) -> bool:
        """running → succeeded, only while this worker still owns the job: in the session of the
        body, so the job's effects and its success commit together."""
        params = {"job_id": job_id, "worker_id": worker_id, "result": result}
        return (await self.session.execute(SUCCEED, params)).one_or_none() is not None

    async def cancel(self, job_id: uuid.UUID) -> Job | None:
        """queued → cancelled at once; running → cancellation requested (the task stops at its next
        checkpoint). None when the job had already finished."""
        # A job can move between the two statements (claimed, or re-queued by the sweeper): look
        # again while it is still active, so an active job is never answered as finished.
        for _ in range(3):
            job = await self._cancel_queued(job_id) or await self._request_cancel(job_id)
            if job is not None:
                return job
            current = await self.get_fresh(job_id)
            if current is None or current.status not in _ACTIVE:
                return None
        return None

    async def _cancel_queued(self, job_id: uuid.UUID) -> Job | None:
        statement = (
            transition(JobStatus.QUEUED, JobStatus.CANCELLED, Job)
            .where(Job.id == job_id)
            .values(finished_at=func.now(), cancel_requested_at=func.now())
            .returning(Job)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def _request_cancel(self, job_id: uuid.UUID) -> Job | None:
        statement = (
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
            .values(cancel_requested_at=func.coalesce(Job.cancel_requested_at, func.now()))
            .returning(Job)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def retry_failed(self, job_id: uuid.UUID, max_attempts: int) -> Job | None:
        """failed → queued with a fresh attempt budget (an admin's retry)."""
        statement = (
            transition(JobStatus.FAILED, JobStatus.QUEUED, Job)
            .where(Job.id == job_id)
            .values(
                max_attempts=Job.attempts + max_attempts,
                run_after=func.now(),
                dispatched_at=None,
                error_code=None,
                error_message=None,
                finished_at=None,
                progress_percent=0,
                progress_message=None,
                # A cancel requested before it failed must not keep the retried job from ever
                # being claimed.
                cancel_requested_at=None,
                claimed_by=None,
                heartbeat_at=None,
            )
            .returning(Job)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def mark_dispatched(self, job_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status == JobStatus.QUEUED.value)
            .values(dispatched_at=func.now())
        )

    async def lock_due_for_dispatch(
        self, *, grace: timedelta, redispatch_after: timedelta, limit: int
    ) -> list[DispatchItem]:
        """Queued jobs to (re-)send: never sent (past the after-commit grace), retries now due, or
        sent so long ago that the message was probably lost. Locked, so sweepers share the work."""
        now = func.now()
        statement = (
            select(Job.id, Job.kind, Job.request_id)
            .where(
                Job.status == JobStatus.QUEUED.value,
                Job.cancel_requested_at.is_(None),
                Job.run_after <= now,
                or_(
                    and_(Job.dispatched_at.is_(None), Job.updated_at <= now - grace),
                    Job.dispatched_at <= now - redispatch_after,
                ),
            )
            .order_by(Job.run_after)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [DispatchItem(row.id, row.kind, row.request_id) for row in await self.session.execute(statement)]

    async def requeue_stale(self, *, stale_after: timedelta, limit: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """Running jobs whose heartbeat went silent (their worker died): back to queued while
        attempts remain, else failed. Answers (requeued ids, failed ids)."""
        stale = (
            select(Job.id, Job.attempts, Job.max_attempts, Job.cancel_requested_at)
            .where(Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < func.now() - stale_after)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list(await self.session.execute(stale))
        cancelled = [row.id for row in rows if row.cancel_requested_at is not None]
        exhausted = [row.id for row in rows if row.cancel_requested_at is None and row.attempts >= row.max_attempts]
        retry = [row.id for row in rows if row.id not in cancelled and row.id not in exhausted]
        base = {"claimed_by": None, "heartbeat_at": None}
        if retry:
            await self.session.execute(
                transition(JobStatus.RUNNING, JobStatus.QUEUED)
                .where(Job.id.in_(retry))
                .values(run_after=func.now(), dispatched_at=None, **base)
            )
        if exhausted:
            await self.session.execute(
                transition(JobStatus.RUNNING, JobStatus.FAILED)
                .where(Job.id.in_(exhausted))
                .values(
                    finished_at=func.now(),
                    error_code="worker_lost",
                    error_message="The worker running this job stopped answering, and no attempts remain.",
                    **base,
                )
            )
        if cancelled:
            await self.session.execute(
                transition(JobStatus.RUNNING, JobStatus.CANCELLED)
                .where(Job.id.in_(cancelled))
                .values(finished_at=func.now(), **base)
            )
        return retry, exhausted + cancelled

    async def end_cancelled_queued(self, *, limit: int) -> list[uuid.UUID]:
        """Queued jobs whose cancel was requested (no claim ever takes them): cancelled."""
        due = (
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED.value, Job.cancel_requested_at.is_not(None))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            transition(JobStatus.QUEUED, JobStatus.CANCELLED)
            .where(Job.id.in_(due.scalar_subquery()))
            .values(finished_at=func.now(), claimed_by=None, heartbeat_at=None)
            .returning(Job.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def fail_unrunnable(self, runnable: Collection[str], *, limit: int) -> list[uuid.UUID]:
        """Queued jobs of a kind no worker runs (queued before their kind was dropped): failed, not
        re-sent for ever."""
        due = (
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED.value, Job.kind.not_in(list(runnable)))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            transition(JobStatus.QUEUED, JobStatus.FAILED)
            .where(Job.id.in_(due.scalar_subquery()))
            .values(
                finished_at=func.now(),
                error_code="job_kind_unknown",
                error_message="No worker can run jobs of this kind.",
            )
            .returning(Job.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def list_page(
        self,
        organization_id: uuid.UUID,
        *,
        statuses: Sequence[str],
        kinds: Sequence[str],
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[Job]:
        """Newest first, keyed by (created_at, id)."""
        statement = self.select().where(Job.organization_id == organization_id)
        if statuses:
            statement = statement.where(Job.status.in_(statuses))
        if kinds:
            statement = statement.where(Job.kind.in_(kinds))
        if after is not None:
            statement = statement.where(tuple_(Job.created_at, Job.id) < tuple_(*after))
        return await self.all(statement.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))

    async def counts_by_kind_and_status(self, organization_id: uuid.UUID | None) -> list[tuple[str, str, int]]:
        statement = select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
        if organization_id is not None:
            statement = statement.where(Job.organization_id == organization_id)
        return [(row[0], row[1], int(row[2])) for row in await self.session.execute(statement)]

    async def totals_by_kind_and_status(self) -> list[tuple[str, str, int, float]]:
        """Across organizations: jobs and their summed run time in seconds, per kind and status."""
        run = func.extract("epoch", Job.finished_at - Job.started_at)
        statement = select(Job.kind, Job.status, func.count(), func.coalesce(func.sum(run), 0)).group_by(
            Job.kind, Job.status
        )
        return [(row[0], row[1], int(row[2]), float(row[3])) for row in await self.session.execute(statement)]

    async def oldest_queued_created_at(self, organization_id: uuid.UUID | None) -> datetime | None:
        statement = select(func.min(Job.created_at)).where(Job.status == JobStatus.QUEUED.value)
        if organization_id is not None:
            statement = statement.where(Job.organization_id == organization_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def latest_of_kind(
        self, organization_id: uuid.UUID, kind: str, status: JobStatus | None = None
    ) -> Job | None:
        statement = self.select().where(Job.organization_id == organization_id, Job.kind == kind)
        if status is not None:
            statement = statement.where(Job.status == status.value)
        return await self.one_or_none(statement.order_by(Job.created_at.desc(), Job.id.desc()).limit(1))

    async def active_with_dedupe_key(self, organization_id: uuid.UUID, dedupe_key: str) -> Job | None:
        return await self.one_or_none(
            self.select().where(
                Job.organization_id == organization_id, Job.dedupe_key == dedupe_key, Job.status.in_(_ACTIVE)
            )
        )

    async def delete_finished_before(self, cutoff: datetime) -> int:
        statement = delete(Job).where(Job.finished_at < cutoff).returning(Job.id)
        return len((await self.session.execute(statement)).all())


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """A job as the frontend sees it, read with one primary-key lookup (the polling hot path)."""

    id: uuid.UUID
    organization_id: uuid.UUID | None
    kind: str
    status: str
    progress_percent: int
    progress_message: str | None
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    attempts: int
    run_after: datetime
    version: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


_SNAPSHOT_COLUMNS = [getattr(Job, name) for name in JobSnapshot.__slots__]


async def read_snapshot(session: AsyncSession, organization_id: uuid.UUID, job_id: uuid.UUID) -> JobSnapshot | None:
    statement = select(*_SNAPSHOT_COLUMNS).where(Job.id == job_id, Job.organization_id == organization_id)
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else JobSnapshot(*row)


_SNAPSHOT_SQL = f"SELECT {', '.join(JobSnapshot.__slots__)} FROM jobs WHERE id = $1 AND organization_id = $2"


async def read_snapshot_from_pool(
    pool: asyncpg.Pool, organization_id: uuid.UUID, job_id: uuid.UUID
) -> JobSnapshot | None:
    """The same read as `read_snapshot`, on the raw pool: one prepared statement, no ORM."""
    row = await pool.fetchrow(_SNAPSHOT_SQL, job_id, organization_id)
    return None if row is None else JobSnapshot(*row)


def snapshot_of(job: Job) -> JobSnapshot:
    return JobSnapshot(*(getattr(job, name) for name in JobSnapshot.__slots__))
