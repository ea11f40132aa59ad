"""Following a job with Server-Sent Events: every state once and in order, resumable, one read per
change for all the streams of one process, nothing left behind by clients that went away.

Tests that open streams work on committed rows of an organization of their own (deleted after the
test): a stream's feed reads the job in sessions of its own while other streams and the test read
and write, which one shared, rolled-back test connection cannot serve at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy import delete, event, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.routes import jobs as jobs_routes
from core.change_events import JOB_CHANNEL, publish_change
from core.resources import Resources
from domain.jobs import JobStatus
from domain.users import UserRole
from repository.models import Job, Organization
from service.job_events import JobFeeds
from tests.api.sse import SseStream
from tests.conftest import random_client_address
from tests.factories.jobs import create_job
from tests.factories.users import SignedIn, create_organization, create_user, login, signed_in


def open_streams() -> float:
    """The process's gauge of open job event streams, as /metrics shows it."""
    value = REGISTRY.get_sample_value("estate_bff_job_event_streams")
    assert value is not None
    return value


def events_url(job_id: uuid.UUID) -> str:
    return f"/api/v1/jobs/{job_id}/events"


@pytest.fixture
def feeds(app: FastAPI) -> JobFeeds:
    value: JobFeeds = app.state.job_feeds
    return value


@pytest.fixture
def job_reads(resources: Resources) -> Iterator[list[str]]:
    """Every statement that reads the jobs table, as the database receives it."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM jobs" in statement:
            seen.append(statement)

    event.listen(resources.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(resources.engine.sync_engine, "before_cursor_execute", record)


@dataclass
class Tenant:
    """A committed organization with a signed-in admin, whose jobs the test creates and changes."""

    resources: Resources
    app: FastAPI
    organization_id: uuid.UUID
    headers: dict[str, str]

    async def add_job(self, status: JobStatus = JobStatus.QUEUED, **values: Any) -> uuid.UUID:
        job_id = uuid.uuid4()
        async with self.resources.session_factory() as session:
            session.add(
                Job(id=job_id, organization_id=self.organization_id, kind="maintenance.cleanup", status=status.value,
                    **values)
            )  # fmt: skip
            await session.commit()
        return job_id

    async def change(self, job_id: uuid.UUID, **values: Any) -> None:
        """What a worker does: change the row, commit, then announce it on the channel."""
        async with self.resources.session_factory() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(version=Job.version + 1, **values))
            await session.commit()
        await publish_change(self.resources.redis, JOB_CHANNEL, job_id)

    async def get(self, path: str) -> httpx.Response:
        transport = ASGITransport(app=self.app, client=(random_client_address(), 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get(path, headers=self.headers)


@pytest.fixture
async def tenant(app: FastAPI, resources: Resources) -> AsyncIterator[Tenant]:
    async with resources.session_factory() as session:
        organization = await create_organization(session)
        user = await create_user(session, resources, organization, role=UserRole.ADMIN)
        await session.commit()
    transport = ASGITransport(app=app, client=(random_client_address(), 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        tokens = await login(http, user.email)
    await resources.job_changes.wait_until_subscribed()
    yield Tenant(resources, app, organization.id, {"Authorization": f"Bearer {tokens['access_token']}"})
    async with resources.session_factory() as session:
        await session.execute(delete(Organization).where(Organization.id == organization.id))
        await session.commit()


class Opener(Protocol):
    def __call__(self, job_id: uuid.UUID, headers: dict[str, str], *, broken_after: int | None = None) -> SseStream: ...


@pytest.fixture
async def open_stream(app: FastAPI, tenant: Tenant) -> AsyncIterator[Opener]:
    """Opens streams, and disconnects whatever a test left open, failed or not, before its
    organization is deleted."""
    opened: list[SseStream] = []

    def opener(job_id: uuid.UUID, headers: dict[str, str], *, broken_after: int | None = None) -> SseStream:
        stream = SseStream(app, events_url(job_id), headers, broken_after=broken_after).open()
        opened.append(stream)
        return stream

    yield opener
    for stream in opened:
        if not stream.ended:
            with contextlib.suppress(Exception):
                await stream.disconnect()


async def test_a_thousand_streams_see_every_state_once_for_one_read_per_change(
    open_stream: Opener,
    tenant: Tenant,
    resources: Resources,
    feeds: JobFeeds,
    job_reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reads through the engine, where the statements are counted, not the raw pool.
    monkeypatch.setattr(resources, "raw_pool", None)
    monkeypatch.setattr(feeds, "recheck_seconds", 3600)  # only changes read, however slow the box
    job_id = await tenant.add_job()
    streams = [open_stream(job_id, tenant.headers) for _ in range(1000)]
    for stream in streams:
        await stream.wait_for(lambda s: s.versions == [1], seconds=60)  # bounds a failure on a busy box
    assert feeds.followers(job_id) == 1000
    reads_before = len(job_reads)

    for step in range(1, 11):
        status = JobStatus.SUCCEEDED if step == 10 else JobStatus.RUNNING
        await tenant.change(job_id, status=status.value, progress_percent=step * 10)
        for stream in streams:
            await stream.wait_for(lambda s, version=step + 1: s.versions[-1] == version, seconds=60)

    assert len(job_reads) - reads_before == 10
    for stream in streams:
        await stream.until_ended(seconds=60)
        assert stream.status == 200
        assert stream.versions == list(range(1, 12))
        assert [event.data["status"] for event in stream.events] == ["queued"] + ["running"] * 9 + ["succeeded"]
        assert [event.data["progress"]["percent"] for event in stream.events] == [s * 10 for s in range(11)]
    assert feeds.open_feeds == 0


async def test_the_current_state_comes_at_once_with_the_stream_headers(open_stream: Opener, tenant: Tenant) -> None:
    job_id = await tenant.add_job(JobStatus.RUNNING, progress_percent=30)
    polled = await tenant.get(f"/api/v1/jobs/{job_id}")

    stream = open_stream(job_id, tenant.headers)
    await stream.wait_for(lambda s: len(s.events) == 1)

    assert stream.status == 200
    assert stream.response_headers["content-type"].startswith("text/event-stream")
    assert stream.response_headers["cache-control"] == "no-store"
    assert stream.response_headers["x-accel-buffering"] == "no"  # nginx must not buffer it
    assert "x-request-id" in stream.response_headers
    assert stream.events[0].data == polled.json()
    assert stream.events[0].id == "1"
    await stream.disconnect()


async def test_keep_alive_comments_flow_while_nothing_changes(
    open_stream: Opener, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_routes, "KEEP_ALIVE_SECONDS", 0.05)
    job_id = await tenant.add_job()

    stream = open_stream(job_id, tenant.headers)
    await stream.wait_for(lambda s: len(s.comments) >= 2)

    assert stream.versions == [1]
    await stream.disconnect()


async def test_last_event_id_resumes_without_a_repeated_or_missed_state(open_stream: Opener, tenant: Tenant) -> None:
    job_id = await tenant.add_job()
    first = open_stream(job_id, tenant.headers)
    await first.wait_for(lambda s: s.versions == [1])
    await first.disconnect()

    # Nothing happened since the client's last event: nothing is repeated, the next change comes.
    resumed = open_stream(job_id, {**tenant.headers, "Last-Event-ID": "1"})
    await tenant.change(job_id, status=JobStatus.RUNNING.value, progress_percent=20)
    await resumed.wait_for(lambda s: len(s.events) == 1)
    assert resumed.versions == [2]
    await resumed.disconnect()

    # Two changes while the client was away: it gets the state they led to, then the rest.
    await tenant.change(job_id, progress_percent=40)
    await tenant.change(job_id, progress_percent=60)
    later = open_stream(job_id, {**tenant.headers, "Last-Event-ID": "2"})
    await later.wait_for(lambda s: s.versions == [4])
    await tenant.change(job_id, status=JobStatus.SUCCEEDED.value, progress_percent=100)
    await later.until_ended()
    assert later.versions == [4, 5]


@pytest.mark.parametrize("last_event_id", ["99", "later", "null", "-1", "١٢"])
async def test_a_last_event_id_from_nowhere_starts_over(
    open_stream: Opener, tenant: Tenant, last_event_id: str
) -> None:
    job_id = await tenant.add_job()

    stream = open_stream(job_id, {**tenant.headers, "Last-Event-ID": last_event_id})
    await stream.wait_for(lambda s: s.versions == [1])
    await stream.disconnect()


async def test_a_finished_job_sends_one_event_and_closes(open_stream: Opener, tenant: Tenant, feeds: JobFeeds) -> None:
    job_id = await tenant.add_job(JobStatus.SUCCEEDED, progress_percent=100, result={"n": 1})

    stream = open_stream(job_id, tenant.headers)
    await stream.until_ended()

    assert stream.status == 200
    assert stream.versions == [1]
    assert stream.events[0].data["result"] == {"n": 1}
    assert feeds.followers(job_id) == 0


async def test_resuming_after_the_final_state_is_a_204(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization, status=JobStatus.FAILED, error_code="x", version=3)
    await session.commit()

    response = await client.get(events_url(job.id), headers={**admin.headers, "Last-Event-ID": "3"})

    assert response.status_code == 204
    assert response.content == b""


async def test_another_organizations_job_is_a_404_before_any_stream(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization, resources: Resources
) -> None:
    job = await create_job(session, organization)
    await session.commit()
    stranger = await signed_in(client, session, resources, await create_organization(session, "Other AS"))

    response = await client.get(events_url(job.id), headers=stranger.headers)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["internal_code"] == "job_not_found"


async def test_without_a_token_it_is_a_401(client: AsyncClient) -> None:
    response = await client.get(events_url(uuid.uuid4()))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_overlong_last_event_id_is_a_422(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.get(events_url(uuid.uuid4()), headers={**admin.headers, "Last-Event-ID": "9" * 65})

    assert response.status_code == 422


async def test_clients_that_go_away_leave_no_task_or_subscription(
    open_stream: Opener, tenant: Tenant, feeds: JobFeeds
) -> None:
    job_id = await tenant.add_job()
    # The first stream starts the SSE library's one shutdown watcher for the loop; it stays.
    warm_up = open_stream(job_id, tenant.headers)
    await warm_up.wait_for(lambda s: len(s.events) == 1)
    await warm_up.disconnect()
    before = asyncio.all_tasks()
    open_before = open_streams()

    streams = [open_stream(job_id, tenant.headers) for _ in range(50)]
    for stream in streams:
        await stream.wait_for(lambda s: len(s.events) == 1)
    assert feeds.followers(job_id) == 50
    assert open_streams() == open_before + 50
    for stream in streams:
        await stream.disconnect()

    assert feeds.followers(job_id) == 0
    assert feeds.open_feeds == 0
    assert open_streams() == open_before
    # The last stream cancels the feed's task without awaiting it: give it a moment to unwind.
    left = asyncio.all_tasks() - before
    if left:
        await asyncio.wait(left, timeout=2)
    assert {task.get_name() for task in left if not task.done()} == set()


async def test_a_connection_that_breaks_while_sending_leaves_no_subscription(
    open_stream: Opener, tenant: Tenant, feeds: JobFeeds
) -> None:
    job_id = await tenant.add_job()
    stream = open_stream(job_id, tenant.headers, broken_after=1)
    await stream.wait_for(lambda s: len(s.events) == 1)

    await tenant.change(job_id, progress_percent=50)

    with pytest.raises(OSError, match="reset"):
        await stream.until_ended()
    assert feeds.followers(job_id) == 0
    assert feeds.open_feeds == 0
