"""At-least-once execution for real: worker processes killed mid-task, duplicate and late
deliveries, retries, cancellation, graceful stop, Redis down at enqueue, and two schedulers."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from typing import Any

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text

from api.main import create_app
from core.resources import Resources
from core.settings import RedisSettings, Settings
from domain.jobs import JobStatus
from domain.users import UserRole
from repository.job_queue import JobQueue
from repository.jobs import DispatchItem, JobRepository
from repository.models import Job
from service.job_sweeper import JobSweeper
from service.jobs import JobService
from service.unit_of_work import transaction
from service.users import UserService
from tests.factories.users import committed_broker_headers
from tests.worker.conftest import Spawn, wait_registered
from tests.worker.processes import PrivateRedis, eventually
from tests.worker.support import EFFECT_KIND, TICK_KIND, ends_key, starts_key

FINISHED = {JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value}


async def start_job(live: Resources, organization_id: uuid.UUID, **payload: Any) -> uuid.UUID:
    async with transaction(live) as session:
        started = await JobService(session, live).start(
            None, EFFECT_KIND, organization_id=organization_id, payload=payload
        )
    return started.job.id


async def load(live: Resources, job_id: uuid.UUID) -> Job:
    async with live.session_factory() as session:
        job = await JobRepository(session).get(job_id)
    assert job is not None
    return job


async def wait_finished(live: Resources, job_id: uuid.UUID, seconds: float = 30) -> Job:
    async def finished() -> bool:
        return (await load(live, job_id)).status in FINISHED

    await eventually(finished, seconds, f"job {job_id} finished")
    return await load(live, job_id)


async def starts(live: Resources, job_id: uuid.UUID) -> list[str]:
    return list(await live.redis.lrange(starts_key(job_id), 0, -1))


async def effect_runs(live: Resources, job_id: uuid.UUID) -> int:
    async with live.engine.connect() as connection:
        runs = await connection.scalar(text("SELECT runs FROM test_support.effects WHERE job_id = :id"), {"id": job_id})
    return int(runs or 0)


async def wait_started(live: Resources, job_id: uuid.UUID, count: int = 1, seconds: float = 20) -> None:
    async def started() -> bool:
        return len(await starts(live, job_id)) >= count

    await eventually(started, seconds, f"job {job_id} started {count} time(s)")


async def test_a_job_runs_in_a_real_worker(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    worker = processes["worker"]()
    await wait_registered(live, worker.name)

    job_id = await start_job(live, organization_id, steps=3, step_seconds=0.05)
    job = await wait_finished(live, job_id)

    assert job.status == "succeeded"
    assert (job.progress_percent, job.attempts) == (100, 1)
    assert job.result == {"steps": 3, "attempt": 1}
    assert await effect_runs(live, job_id) == 1


async def test_a_job_that_writes_nothing_succeeds_with_its_result(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    # Its success is one statement of its own (no body transaction to join): same visible end.
    worker = processes["worker"]()
    await wait_registered(live, worker.name)
    async with transaction(live) as session:
        started = await JobService(session, live).start(None, TICK_KIND, organization_id=organization_id,
                                                        payload={"tick": 7})  # fmt: skip

    job = await wait_finished(live, started.job.id)

    assert (job.status, job.progress_percent, job.attempts) == ("succeeded", 100, 1)
    assert job.result == {"tick": 7}
    assert (job.claimed_by, job.error_code) == (None, None)
    assert job.finished_at is not None


async def test_a_long_poll_wakes_when_a_worker_starts_and_finishes_the_job(
    live: Resources, settings: Settings, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        api_resources: Resources = app.state.resources
        await api_resources.job_changes.wait_until_subscribed()
        headers = await committed_broker_headers(api_resources, organization_id)
        job_id = await start_job(live, organization_id, steps=5, step_seconds=0.2)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t", headers=headers) as api:
            queued = await api.get(f"/api/v1/jobs/{job_id}")
            worker = processes["worker"]()
            await wait_registered(live, worker.name)
            running = await api.get(f"/api/v1/jobs/{job_id}", params={"wait": 20},
                                    headers={"If-None-Match": queued.headers["etag"]})  # fmt: skip
            woke_at = time.monotonic()
            latest = running
            while latest.json()["status"] == "running":  # each progress step wakes the long-poll
                latest = await api.get(f"/api/v1/jobs/{job_id}", params={"wait": 20},
                                       headers={"If-None-Match": latest.headers["etag"]})  # fmt: skip
            finished_after = time.monotonic() - woke_at

    assert queued.json()["status"] == "queued"
    assert running.json()["status"] == "running"
    assert latest.json()["status"] == "succeeded"
    # Five 0.2 s steps: woken by the job's own changes, not by the 20 s deadline.
    assert finished_after < 5


async def test_kill_9_mid_task_on_an_idle_queue_still_succeeds_once(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn], sweeper: None
) -> None:
    doomed = processes["worker"]()
    await wait_registered(live, doomed.name)
    job_id = await start_job(live, organization_id, steps=20, step_seconds=0.1)
    await wait_started(live, job_id)

    doomed.kill_all()
    successor = processes["worker"]()
    job = await wait_finished(live, job_id, seconds=40)

    assert job.status == "succeeded"
    assert job.attempts == 2
    runs = await starts(live, job_id)
    assert [entry.split("|")[0] for entry in runs] == [doomed.name, successor.name]
    assert await effect_runs(live, job_id) == 1


async def test_a_task_longer_than_the_idle_timeout_never_runs_twice_at_once(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    # Deliveries idle for 1 s are auto-claimed by the next worker that reads anything.
    workers = [processes["worker"](JOB_STREAM_IDLE_TIMEOUT_SECONDS="1") for _ in range(2)]
    for worker in workers:
        await wait_registered(live, worker.name)
    long_job = await start_job(live, organization_id, steps=30, step_seconds=0.1)
    await wait_started(live, long_job)

    # Unrelated traffic while the long job runs past the idle timeout triggers the auto-claim.
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        await wait_finished(live, await start_job(live, organization_id), seconds=10)

    job = await wait_finished(live, long_job)
    assert job.status == "succeeded"
    assert len(await starts(live, long_job)) == 1
    assert await effect_runs(live, long_job) == 1
    redelivered = [w for w in workers if "job_delivery_skipped" in w.log() and str(long_job) in w.log()]
    assert redelivered, "the long job was never redelivered, so this test proved nothing"


async def test_a_duplicated_message_runs_once(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    worker = processes["worker"]()
    await wait_registered(live, worker.name)
    job_id = await start_job(live, organization_id, steps=5, step_seconds=0.05)

    await JobQueue(live.broker).send(DispatchItem(job_id, EFFECT_KIND, None))
    await JobQueue(live.broker).send(DispatchItem(job_id, EFFECT_KIND, None))
    job = await wait_finished(live, job_id)

    assert job.status == "succeeded"
    assert len(await starts(live, job_id)) == 1
    assert await effect_runs(live, job_id) == 1

    async def both_duplicates_skipped() -> bool:
        return worker.log().count("job_delivery_skipped") >= 2

    await eventually(both_duplicates_skipped, 10, "both duplicate deliveries were skipped")


async def test_transient_failures_retry_then_succeed(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn], sweeper: None
) -> None:
    worker = processes["worker"]()
    await wait_registered(live, worker.name)

    job_id = await start_job(live, organization_id, fail_attempts=2)
    job = await wait_finished(live, job_id)

    assert job.status == "succeeded"
    assert job.attempts == 3
    assert [int(entry.split("|")[1]) for entry in await starts(live, job_id)] == [1, 2, 3]
    assert await effect_runs(live, job_id) == 1


async def test_permanent_errors_fail_at_once_and_exhausted_attempts_fail(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn], sweeper: None
) -> None:
    worker = processes["worker"]()
    await wait_registered(live, worker.name)

    permanent = await start_job(live, organization_id, permanent=True)
    exhausted = await start_job(live, organization_id, fail_attempts=99)
    permanent_job = await wait_finished(live, permanent)
    exhausted_job = await wait_finished(live, exhausted, seconds=40)

    assert (permanent_job.status, permanent_job.attempts, permanent_job.error_code) == ("failed", 1, "test_permanent")
    assert len(await starts(live, permanent)) == 1
    assert (exhausted_job.status, exhausted_job.error_code) == ("failed", "test_flaky")
    assert exhausted_job.attempts == exhausted_job.max_attempts == live.settings.jobs.max_attempts
    assert await effect_runs(live, permanent) == await effect_runs(live, exhausted) == 0


async def test_cancel_stops_a_running_job_and_a_queued_one_never_runs(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    worker = processes["worker"]()
    await wait_registered(live, worker.name)
    running = await start_job(live, organization_id, steps=100, step_seconds=0.1)
    await wait_started(live, running)

    async with transaction(live) as session:
        await JobRepository(session).cancel(running)
        queued = await JobService(session, live).start(None, EFFECT_KIND, organization_id=organization_id)
        await JobRepository(session).cancel(queued.job.id)  # sent after commit, already cancelled

    stopped = await wait_finished(live, running, seconds=5)
    assert stopped.status == "cancelled"
    assert stopped.progress_percent < 100
    assert await effect_runs(live, running) == 0
    assert await live.redis.llen(ends_key(running)) == 0

    async def queued_delivery_skipped() -> bool:
        return "job_delivery_skipped" in worker.log() and str(queued.job.id) in worker.log()

    await eventually(queued_delivery_skipped, 10, "the cancelled job's delivery was skipped")
    assert await starts(live, queued.job.id) == []
    assert (await load(live, queued.job.id)).status == "cancelled"


async def test_sigterm_finishes_the_running_job_and_exits_in_time(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    worker = processes["worker"]()
    await wait_registered(live, worker.name)
    job_id = await start_job(live, organization_id, steps=15, step_seconds=0.1)
    await wait_started(live, job_id)

    stopped_at = time.monotonic()
    worker.signal(signal.SIGTERM)
    exit_code = worker.wait_exit(15)

    assert exit_code is not None, "the worker did not exit within its grace period"
    assert time.monotonic() - stopped_at < 10
    job = await load(live, job_id)
    assert job.status == "succeeded"
    assert job.attempts == 1


async def test_a_job_cut_off_by_the_shutdown_grace_is_queued_again_at_once_without_losing_an_attempt(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn], sweeper: None
) -> None:
    stopping = processes["worker"]()
    await wait_registered(live, stopping.name)
    job_id = await start_job(live, organization_id, steps=100, step_seconds=0.1)  # 10 s; the grace is 5 s
    await wait_started(live, job_id)

    stopping.signal(signal.SIGTERM)
    exit_code = stopping.wait_exit(20)

    assert exit_code is not None, "the worker did not exit"
    released = await load(live, job_id)  # no sweeper round needed: the worker said so itself
    assert (released.status, released.attempts, released.claimed_by) == ("queued", 0, None)
    next_worker = processes["worker"]()
    await wait_registered(live, next_worker.name)
    job = await wait_finished(live, job_id, seconds=40)
    assert (job.status, job.attempts) == ("succeeded", 1)
    assert len(await starts(live, job_id)) == 2
    assert await effect_runs(live, job_id) == 1


async def test_redis_down_at_enqueue_still_answers_202_and_the_job_runs_later(
    settings: Settings, live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn], tmp_path: Any
) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    private = settings.model_copy(update={"redis": RedisSettings(url=redis.url)})
    private_live = Resources.build(private)
    await private_live.start_producer()
    try:
        async with transaction(live) as session:
            admin = await UserService(session, live.password_hasher).create_in_organization(
                organization_id,
                email=f"ops-{uuid.uuid4().hex[:8]}@example.com",
                full_name="Ops",
                password="long enough password",
                role=UserRole.ADMIN,
            )
        worker = processes["worker"](REDIS_URL=redis.url)
        await wait_registered(private_live, worker.name)
        app = create_app(private)
        async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            token = (
                await http.post(
                    "/api/v1/auth/token", data={"username": admin.email, "password": "long enough password"}
                )
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}

            redis.stop()
            response = await http.post("/api/v1/admin/maintenance/cleanup", headers=headers)

            assert response.status_code == 202
            job_id = uuid.UUID(response.json()["id"])
            assert (await load(live, job_id)).dispatched_at is None
            redis.start()  # a new, empty Redis: no stream, no consumer group

            sweeper = asyncio.create_task(JobSweeper(private_live).run_forever())
            try:
                job = await wait_finished(live, job_id, seconds=40)
            finally:
                sweeper.cancel()
        assert job.status == "succeeded"
        assert job.attempts == 1
    finally:
        await private_live.close()
        redis.stop()


async def test_two_schedulers_create_one_job_per_tick(live: Resources, processes: dict[str, Spawn]) -> None:
    first, second = processes["scheduler"](), processes["scheduler"]()
    fired = '"schedule_id": "test.tick"'

    async def both_fired_twice() -> bool:
        return first.log().count(fired) >= 2 and second.log().count(fired) >= 2

    await eventually(both_fired_twice, 30, "both schedulers fired at least twice")
    first.signal(signal.SIGTERM)
    second.signal(signal.SIGTERM)
    first.wait_exit(10)
    second.wait_exit(10)

    async with live.session_factory() as session:
        # Scheduled ticks only: another test of this module starts a tick job by hand.
        scheduled = (Job.kind == TICK_KIND, Job.schedule_key.is_not(None))
        keys = (await session.execute(select(Job.schedule_key).where(*scheduled))).scalars().all()
        per_key = await session.execute(
            select(Job.schedule_key, func.count()).where(*scheduled).group_by(Job.schedule_key)
        )
    firings = first.log().count(fired) + second.log().count(fired)
    assert all(count == 1 for _, count in per_key)
    assert len(keys) == len(set(keys)) >= 2
    # The schedulers' lifetimes overlap, so some ticks were fired by both: those made one job, not two.
    assert firings > len(keys)
    assert '"jobs": 0' in first.log() + second.log()
