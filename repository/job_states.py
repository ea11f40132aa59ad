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

from domain.jobs import JobStatus
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


# The worker's state transitions run for every job: built once, on the Core table (no ORM bulk
# update machinery), parameters bound per call. All but the success run alone on the raw pool
# (JobStateRepository); the success runs in the body's session (`JobRepository.succeed`).
_jobs = Job.metadata.tables["jobs"]
_TICK = {"version": _jobs.c.version + 1, "updated_at": func.now()}
_OWNED = and_(
    _jobs.c.id == bindparam("job_id"),
    _jobs.c.claimed_by == bindparam("worker_id"),
    _jobs.c.status == JobStatus.RUNNING.value,
)
_CLAIM = (
    update(_jobs)
    .where(
        _jobs.c.id == bindparam("job_id"),
        _jobs.c.status == JobStatus.QUEUED.value,
        _jobs.c.cancel_requested_at.is_(None),
        _jobs.c.run_after <= func.now(),
    )
    .values(
        status=JobStatus.RUNNING.value,
        attempts=_jobs.c.attempts + 1,
        claimed_by=bindparam("worker_id"),
        heartbeat_at=func.now(),
        started_at=func.coalesce(_jobs.c.started_at, func.now()),
        **_TICK,
    )
    .returning(*(_jobs.c[name] for name in ClaimedJob.__slots__))
)
_HEARTBEAT = update(_jobs).where(_OWNED).values(heartbeat_at=func.now()).returning(_jobs.c.cancel_requested_at)
_PROGRESS = (
    update(_jobs)
    .where(_OWNED)
    .values(
        progress_percent=bindparam("percent"), progress_message=bindparam("message"), heartbeat_at=func.now(), **_TICK
    )
    .returning(_jobs.c.id)
)
_FINISHED = {"finished_at": func.now(), "claimed_by": None, **_TICK}
SUCCEED = (
    update(_jobs)
    .where(_OWNED)
    .values(
        status=JobStatus.SUCCEEDED.value,
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
    update(_jobs)
    .where(_OWNED)
    .values(
        status=JobStatus.FAILED.value, error_code=bindparam("code"), error_message=bindparam("message"), **_FINISHED
    )
    .returning(_jobs.c.id)
)
_CANCELLED = update(_jobs).where(_OWNED).values(status=JobStatus.CANCELLED.value, **_FINISHED).returning(_jobs.c.id)
_REQUEUE = (
    update(_jobs)
    .where(_OWNED)
    .values(
        status=JobStatus.QUEUED.value,
        run_after=bindparam("run_after"),
        dispatched_at=None,
        claimed_by=None,
        heartbeat_at=None,
        error_code=bindparam("code"),
        error_message=bindparam("message"),
        **_TICK,
    )
    .returning(_jobs.c.id)
)


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
        error is kept for operators."""
        return await self._owned(
            _RAW_REQUEUE, job_id=job_id, worker_id=worker_id, run_after=run_after, code=code, message=message
        )

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
