"""The services' unit of work, `transaction`: one database transaction, and what must only happen
once it committed — the changes it made announced to the other processes, the jobs it wrote sent
to the broker (enqueue after commit).

A failed send never fails the caller: the job row stays undispatched and the sweeper sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import single_statements as read_statements
from core.database import unit_of_work
from core.logging import get_logger
from core.resources import Resources
from domain.errors import AppError
from repository.job_queue import JobQueue
from repository.jobs import DispatchItem, JobRepository

logger = get_logger(__name__)

_OUTBOX = "estate-bff.outbox"
_CHANGED = "estate-bff.changed-jobs"
_READ_MODEL = "estate-bff.changed-read-models"
_ACCESS = "estate-bff.changed-access"


def enqueue_after_commit(session: AsyncSession, item: DispatchItem) -> None:
    """Remember a job to send once this session's transaction has committed."""
    session.info.setdefault(_OUTBOX, []).append(item)


def notify_after_commit(session: AsyncSession, job_id: uuid.UUID) -> None:
    """Announce a job's change once it is committed: announced earlier, a poller could re-read and
    cache the old row."""
    session.info.setdefault(_CHANGED, set()).add(job_id)


def notify_read_model_after_commit(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Tell the API processes, once this transaction committed, that the organization's read model
    changed, so they drop its cached pages (announced earlier, they could re-cache the old rows)."""
    session.info.setdefault(_READ_MODEL, set()).add(organization_id)


def notify_access_after_commit(session: AsyncSession, changed_id: uuid.UUID) -> None:
    """Tell every API process, once this transaction committed, that the access of a session or a
    user changed (announced earlier, a process could re-read and keep the old state)."""
    session.info.setdefault(_ACCESS, set()).add(changed_id)


def _pending(session: AsyncSession) -> list[DispatchItem]:
    items: list[DispatchItem] = session.info.pop(_OUTBOX, [])
    return items


async def send_jobs(resources: Resources, items: list[DispatchItem]) -> list[DispatchItem]:
    """Send each job; mark the sent ones dispatched. Answers what was sent."""
    queue = JobQueue(resources.broker)
    sent: list[DispatchItem] = []
    for item in items:
        try:
            await queue.send(item)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("job_send_failed", job_id=str(item.job_id), kind=item.kind, error=repr(exc))
            continue
        sent.append(item)
    if sent:
        async with unit_of_work(resources.session_factory) as session:
            await JobRepository(session).mark_dispatched([item.job_id for item in sent])
    return sent


async def _announce_access(resources: Resources, session: AsyncSession) -> None:
    for changed_id in session.info.pop(_ACCESS, set()):
        await resources.access_changes.announce(changed_id)


@asynccontextmanager
async def transaction(resources: Resources) -> AsyncIterator[AsyncSession]:
    """A unit of work whose new jobs are sent to the workers after it committed."""
    try:
        async with unit_of_work(resources.session_factory) as session:
            yield session
    except AppError as exc:
        if exc.persist_changes:  # committed although it failed: a revoked session must be heard of
            await _announce_access(resources, session)
        raise
    await _announce_access(resources, session)
    for organization_id in session.info.pop(_READ_MODEL, set()):
        await resources.read_model_changes.announce(organization_id)
    for job_id in session.info.pop(_CHANGED, set()):
        await resources.job_changes.announce(job_id)
    items = _pending(session)
    if items:
        try:
            await send_jobs(resources, items)
        except Exception as exc:  # the commit stands; the sweeper sends whatever was missed
            logger.warning("job_dispatch_failed", error=repr(exc), jobs=[str(item.job_id) for item in items])


def single_statements(resources: Resources) -> AbstractAsyncContextManager[Any]:
    """A read of single statements, outside any unit of work (see `core.database.single_statements`):
    nothing to commit, so nothing to begin."""
    return read_statements(resources.raw_pool, resources.session_factory)
