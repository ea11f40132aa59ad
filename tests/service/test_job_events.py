"""The feeds behind job event streams: where a stream resumes, lost notifications, retried jobs."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, update

from core.resources import Resources
from domain.jobs import JobStatus
from repository.jobs import JobSnapshot
from repository.models import Job, Organization
from service.job_events import JobFeeds, nothing_left, resume_after
from service.job_polling import JobPoller
from tests.factories.users import create_organization
from tests.service.test_job_polling import snapshot


def test_a_stream_resumes_after_the_clients_last_version_if_the_job_has_reached_it() -> None:
    job = snapshot(version=5)

    assert resume_after(job, None) == 0
    assert resume_after(job, 3) == 3
    assert resume_after(job, 5) == 5
    assert resume_after(job, 6) == 0  # not a version this job has had: start over


def test_nothing_is_left_once_the_client_has_the_final_state() -> None:
    assert nothing_left(snapshot(status="succeeded", version=4), 4)
    assert not nothing_left(snapshot(status="succeeded", version=4), 3)
    assert not nothing_left(snapshot(status="running", version=4), 4)


@pytest.fixture
async def organization_id(resources: Resources) -> AsyncIterator[uuid.UUID]:
    """A committed organization (deleted after the test, its jobs with it): a feed reads in its own
    sessions while the test changes rows, which one shared test connection cannot serve at once."""
    async with resources.session_factory() as session:
        organization = await create_organization(session)
        await session.commit()
    yield organization.id
    async with resources.session_factory() as session:
        await session.execute(delete(Organization).where(Organization.id == organization.id))
        await session.commit()


async def add_job(resources: Resources, organization_id: uuid.UUID, **values: Any) -> JobSnapshot:
    async with resources.session_factory() as session:
        job = Job(id=uuid.uuid4(), organization_id=organization_id, kind="maintenance.cleanup", **values)
        session.add(job)
        await session.commit()
    current = await JobPoller(resources).current(organization_id, job.id)
    assert current is not None
    return current


async def bump(resources: Resources, job_id: uuid.UUID, **values: object) -> None:
    """A change nobody announces (as when publishing it failed)."""
    async with resources.session_factory() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(version=Job.version + 1, **values))
        await session.commit()


class Follower:
    """A stream's side of `JobFeeds.follow`: what it received, and a way to wait for more."""

    def __init__(self, states: AsyncIterator[JobSnapshot]) -> None:
        self.seen: list[JobSnapshot] = []
        self._moved = asyncio.Event()
        self.task = asyncio.create_task(self._collect(states))

    async def _collect(self, states: AsyncIterator[JobSnapshot]) -> None:
        async for job in states:
            self.seen.append(job)
            self._moved.set()

    async def wait_for(self, count: int, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while len(self.seen) < count:
                self._moved.clear()
                await self._moved.wait()


async def test_a_change_whose_notification_was_lost_arrives_at_the_next_recheck(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    job = await add_job(resources, organization_id)
    feeds = JobFeeds(resources, None, recheck_seconds=0.2)
    # Handed a state older than the row's, the stream starts with what the feed read: once that
    # is there, only the recheck can see the next change.
    follower = Follower(feeds.follow(dataclasses.replace(job, version=0)))
    await follower.wait_for(1)

    await bump(resources, job.id, status=JobStatus.CANCELLED.value)

    async with asyncio.timeout(5):
        await follower.task
    assert [(state.version, state.status) for state in follower.seen] == [(1, "queued"), (2, "cancelled")]
    assert feeds.open_feeds == 0


async def test_a_retried_job_gets_a_fresh_feed_while_the_finished_one_drains(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    failed = await add_job(resources, organization_id, status=JobStatus.FAILED.value, version=2)
    feeds = JobFeeds(resources, None, recheck_seconds=0.2)
    running = dataclasses.replace(failed, status="running", version=1)
    draining = Follower(feeds.follow(running))
    await draining.wait_for(1)  # its feed read `failed`, the final state

    await bump(resources, failed.id, status=JobStatus.QUEUED.value)
    retried = await JobPoller(resources).current(organization_id, failed.id)
    assert retried is not None
    follower = Follower(feeds.follow(retried))
    await follower.wait_for(1)
    await bump(resources, failed.id, status=JobStatus.SUCCEEDED.value)

    async with asyncio.timeout(5):
        await asyncio.gather(draining.task, follower.task)
    assert [state.status for state in draining.seen] == ["failed"]  # newer than the `running` it was handed
    assert [(state.version, state.status) for state in follower.seen] == [(3, "queued"), (4, "succeeded")]
