"""A running job's state changes, each one conditional UPDATE that only the worker owning the job
can win: defined once as Core statements, run as single autocommit statements on the raw pool."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Update, and_, bindparam, func, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from domain.jobs import IllegalTransitionError, JobStatus, can_transition
from repository.models import Job


@dataclass(frozen=True, slots=True)
class Heartbeat:
    still_owned: bool
    cancel_requested: bool


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """What the runner needs of a job it just claimed."""

    id: uuid.UUID
    kind: str
    organization_id: uuid.UUID | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    request_id: str | None


_jobs = Job.metadata.tables["jobs"]


def transition(source: JobStatus, target: JobStatus, entity: type[Job] | None = None) -> Update:
    """The one way to write a change of status: an UPDATE of the rows in `source` to `target`,
    refused when the domain's state machine does not allow it. `entity` is the ORM class for
    statements that return entities; by default the Core table. `version` and `updated_at` move
    by the table's trigger, whoever writes the row."""
    if not can_transition(source, target):
        raise IllegalTransitionError(f"{source} → {target}")
    status = _jobs.c.status if entity is None else entity.status
    return update(_jobs if entity is None else entity).where(status == source.value).values(status=target.value)


# The worker's state transitions run for every job: built once, on the Core table (no ORM bulk
# update machinery), parameters bound per call. All but the success run alone on the raw pool
# (JobStateRepository); the success runs in the body's session (`JobRepository.succeed`).
_THIS_JOB = _jobs.c.id == bindparam("job_id")
_OWNED = and_(_THIS_JOB, _jobs.c.claimed_by == bindparam("worker_id"))
_CLAIM = (
    transition(JobStatus.QUEUED, JobStatus.RUNNING)
    .where(_THIS_JOB, _jobs.c.cancel_requested_at.is_(None), _jobs.c.run_after <= func.now())
    .values(
        attempts=_jobs.c.attempts + 1,
        claimed_by=bindparam("worker_id"),
        heartbeat_at=func.now(),
        started_at=func.coalesce(_jobs.c.started_at, func.now()),
    )
    .returning(*(_jobs.c[name] for name in ClaimedJob.__slots__))
)
_RUNNING_HERE = and_(_OWNED, _jobs.c.status == JobStatus.RUNNING.value)
_HEARTBEAT = update(_jobs).where(_RUNNING_HERE).values(heartbeat_at=func.now()).returning(_jobs.c.cancel_requested_at)
_PROGRESS = (
    update(_jobs)
    .where(_RUNNING_HERE)
    .values(progress_percent=bindparam("percent"), progress_message=bindparam("message"), heartbeat_at=func.now())
    .returning(_jobs.c.id)
)
# The wall clock, not now(): the success commits in the body's session, whose transaction may have
# begun seconds before the job finished.
_FINISHED = {"finished_at": func.clock_timestamp(), "claimed_by": None}
SUCCEED = (
    transition(JobStatus.RUNNING, JobStatus.SUCCEEDED)
    .where(_OWNED)
    .values(
        result=bindparam("result", type_=JSONB),
        progress_percent=100,
        progress_message=None,
        error_code=None,
        error_message=None,
        **_FINISHED,
    )
    .returning(_jobs.c.id)
)
_FAIL = (
    transition(JobStatus.RUNNING, JobStatus.FAILED)
    .where(_OWNED)
    .values(error_code=bindparam("code"), error_message=bindparam("message"), **_FINISHED)
    .returning(_jobs.c.id)
)
_CANCELLED = transition(JobStatus.RUNNING, JobStatus.CANCELLED).where(_OWNED).values(**_FINISHED).returning(_jobs.c.id)
# Back to the queue only while nobody asked to cancel: a cancelled job re-queued would never be
# claimed again, never end, and hold its dedupe slot for ever.
_BACK_TO_QUEUE = transition(JobStatus.RUNNING, JobStatus.QUEUED).where(_OWNED, _jobs.c.cancel_requested_at.is_(None))
_REQUEUE = _BACK_TO_QUEUE.values(
    run_after=bindparam("run_after"),
    dispatched_at=None,
    claimed_by=None,
    heartbeat_at=None,
    error_code=bindparam("code"),
    error_message=bindparam("message"),
).returning(_jobs.c.id)
# The worker's own shutdown interrupted the job: not the job's fault, so the attempt is given back
# and the job is due at once.
_RELEASE = _BACK_TO_QUEUE.values(
    attempts=_jobs.c.attempts - 1, run_after=func.now(), dispatched_at=None, claimed_by=None, heartbeat_at=None
).returning(_jobs.c.id)


_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class _RawStatement:
    """A Core statement compiled once for asyncpg, to run on the raw pool without SQLAlchemy (one
    definition of each transition, whichever way it runs)."""

    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]

    @classmethod
    def of(cls, statement: Update) -> _RawStatement:
        compiled = statement.compile(dialect=_ASYNCPG)
        return cls(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))

    def args(self, **values: Any) -> list[Any]:
        return [values[name] if name in values else self.constants[name] for name in self.names]


_CONNECTION_LOST = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InterfaceError, OSError)

_RAW_CLAIM = _RawStatement.of(_CLAIM)
_RAW_HEARTBEAT = _RawStatement.of(_HEARTBEAT)
_RAW_PROGRESS = _RawStatement.of(_PROGRESS)
_RAW_SUCCEED = _RawStatement.of(SUCCEED)
_RAW_FAIL = _RawStatement.of(_FAIL)
_RAW_CANCELLED = _RawStatement.of(_CANCELLED)
_RAW_REQUEUE = _RawStatement.of(_REQUEUE)
_RAW_RELEASE = _RawStatement.of(_RELEASE)


class JobStateRepository:
    """A running job's single-statement state changes, each its own transaction on the raw pool.

    They run for every job (claim) or often (heartbeat, progress); a session, a BEGIN and a
    COMMIT around each cost more than the statement (see bench/RESULTS.md). Every change is
    conditional on this worker still owning the job, so a worker that lost it changes nothing.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, job_id: uuid.UUID, worker_id: str) -> ClaimedJob | None:
        """queued → running for this worker, or None when it is not claimable (taken, finished,
        cancelled, or a retry that is not yet due)."""
        row = await self._fetchrow(_RAW_CLAIM, job_id=job_id, worker_id=worker_id)
        return None if row is None else ClaimedJob(*row)

    async def heartbeat(self, job_id: uuid.UUID, worker_id: str) -> Heartbeat:
        row = await self._fetchrow(_RAW_HEARTBEAT, job_id=job_id, worker_id=worker_id)
        return Heartbeat(still_owned=row is not None, cancel_requested=row is not None and row[0] is not None)

    async def report_progress(self, job_id: uuid.UUID, worker_id: str, percent: int, message: str | None) -> bool:
        return await self._owned(_RAW_PROGRESS, job_id=job_id, worker_id=worker_id, percent=percent, message=message)

    async def succeed(self, job_id: uuid.UUID, worker_id: str, result: dict[str, Any]) -> bool:
        """running → succeeded on its own, for a body that wrote nothing through its session
        (otherwise `JobRepository.succeed` commits the success with the body's effects)."""
        return await self._owned(_RAW_SUCCEED, job_id=job_id, worker_id=worker_id, result=result)

    async def fail(self, job_id: uuid.UUID, worker_id: str, code: str, message: str) -> bool:
        return await self._owned(_RAW_FAIL, job_id=job_id, worker_id=worker_id, code=code, message=message)

    async def mark_cancelled(self, job_id: uuid.UUID, worker_id: str) -> bool:
        return await self._owned(_RAW_CANCELLED, job_id=job_id, worker_id=worker_id)

    async def requeue(self, job_id: uuid.UUID, worker_id: str, run_after: datetime, code: str, message: str) -> bool:
        """running → queued for a retry at `run_after` (the sweeper sends it when due); the last
        error is kept for operators. False when the job is not this worker's or its cancel was
        requested (the caller then ends it as cancelled)."""
        return await self._owned(
            _RAW_REQUEUE, job_id=job_id, worker_id=worker_id, run_after=run_after, code=code, message=message
        )

    async def release(self, job_id: uuid.UUID, worker_id: str) -> bool:
        """running → queued, due now, the attempt given back (this worker is shutting down). False
        as for `requeue`."""
        return await self._owned(_RAW_RELEASE, job_id=job_id, worker_id=worker_id)

    async def _owned(self, statement: _RawStatement, **values: Any) -> bool:
        return await self._fetchrow(statement, **values) is not None

    async def _fetchrow(self, statement: _RawStatement, **values: Any) -> asyncpg.Record | None:
        """One statement; once more on a fresh connection when the pooled one had died (a server
        restart), so an infrastructure blip does not cost the job an attempt. Every statement is
        conditional: if the lost one had committed, the second finds nothing to change."""
        args = statement.args(**values)
        try:
            return await self._pool.fetchrow(statement.sql, *args)
        except _CONNECTION_LOST:
            return await self._pool.fetchrow(statement.sql, *args)
