"""A job's `finished_at` is when it finished, not when the transaction that finished it began: a
body that works for seconds inside its session commits its success with the right run time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs import JobStatus
from repository.jobs import JobRepository
from repository.models import Job
from tests.factories.jobs import create_job
from tests.factories.users import create_organization


async def test_finished_at_is_the_moment_of_the_success_not_the_start_of_its_transaction(
    session: AsyncSession,
) -> None:
    organization = await create_organization(session)
    started = datetime.now(UTC)
    job = await create_job(session, organization, status=JobStatus.RUNNING, claimed_by="w-1", started_at=started)
    await session.execute(text("SELECT pg_sleep(0.3)"))  # the body's work, inside its transaction

    assert await JobRepository(session).succeed(job.id, "w-1", {"done": True})

    finished_at = (await session.execute(select(Job.finished_at).where(Job.id == job.id))).scalar_one()
    assert finished_at is not None
    assert finished_at - started >= timedelta(seconds=0.3)
