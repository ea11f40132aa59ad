"""No state a job can get stuck in: cancel requests meeting retries, admin retries, the sweeper's
clean-up, per-kind time limits, and `version` moving with every visible change. The runner runs
in-process against committed rows (the subprocess paths are in test_durability.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.resources import Resources
from core.settings import Settings
from domain.jobs import JobStatus, TransientJobError
from repository.jobs import JobRepository
from repository.models import Job
from service.job_kinds import JobKindSpec
from service.job_runner import JobContext, JobRunner, RunOutcome
from service.job_sweeper import JobSweeper
from service.unit_of_work import transaction
from tests.worker.processes import eventually
from worker.broker import broker
from worker.tasks import register_job_task

HANG_KIND = "test.hang"
HANG_LIMIT_SECONDS = 0.5


@pytest.fixture(scope="module")
async def resources(settings: Settings, live: Resources) -> AsyncIterator[Resources]:
    """Resources with a short time limit for `test.hang`, and the raw pool the runner needs."""
    jobs = settings.jobs.model_copy(update={"time_limits_seconds": {HANG_KIND: HANG_LIMIT_SECONDS}})
    built = Resources.build(settings.model_copy(update={"jobs": jobs}))
    await built.start_raw_pool()
    yield built
    await built.close()


async def add_job(resources: Resources, organization_id: uuid.UUID, **values: Any) -> uuid.UUID:
    values.setdefault("kind", "test.effect")
    async with transaction(resources) as session:
        job = await JobRepository(session).add(Job(organization_id=organization_id, **values))
    return job.id


async def load(resources: Resources, job_id: uuid.UUID) -> Job:
    async with resources.session_factory() as session:
        job = await JobRepository(session).get(job_id)
    assert job is not None
    return job


async def request_cancel(resources: Resources, job_id: uuid.UUID) -> None:
    async with transaction(resources) as session:
        assert await JobRepository(session).cancel(job_id) is not None


async def succeed(context: JobContext) -> dict[str, Any]:
    return {"ran": True}


async def test_a_retryable_error_after_a_cancel_request_ends_the_job_cancelled(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    dedupe_key = f"test-{uuid.uuid4().hex}"
    job_id = await add_job(resources, organization_id, dedupe_key=dedupe_key)

    async def cancelled_then_flaky(context: JobContext) -> dict[str, Any]:
        await request_cancel(resources, context.job_id)
        raise TransientJobError("the network went away", code="test_flaky")

    outcome = await JobRunner(resources).run(job_id, "test.effect", cancelled_then_flaky)

    job = await load(resources, job_id)
    assert (outcome, job.status) == (RunOutcome.CANCELLED, "cancelled")
    assert job.finished_at is not None
    async with transaction(resources) as session:  # the dedupe slot is free again
        _, created = await JobRepository(session).create_unique(
            Job(organization_id=organization_id, kind="test.effect", dedupe_key=dedupe_key)
        )
    assert created


async def test_an_admin_retry_clears_a_cancel_request_so_the_job_runs(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    job_id = await add_job(
        resources, organization_id, status=JobStatus.FAILED.value, attempts=1, max_attempts=1,
        cancel_requested_at=text("now()"), error_code="test_permanent",
    )  # fmt: skip
    async with transaction(resources) as session:
        assert await JobRepository(session).retry_failed(job_id, max_attempts=3) is not None

    outcome = await JobRunner(resources).run(job_id, "test.effect", succeed)

    job = await load(resources, job_id)
    assert (outcome, job.status, job.result) == (RunOutcome.SUCCEEDED, "succeeded", {"ran": True})


async def test_the_sweeper_ends_queued_jobs_whose_cancel_was_requested(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    # What the old re-queue left behind: never claimable, never finished, holding its dedupe slot.
    job_id = await add_job(
        resources, organization_id, cancel_requested_at=text("now()"), dedupe_key=f"test-{uuid.uuid4().hex}"
    )

    await JobSweeper(resources).sweep_once()

    job = await load(resources, job_id)
    assert job.status == "cancelled"
    assert job.finished_at is not None


async def test_a_cancel_that_meets_the_sweepers_requeue_still_cancels_the_job(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    # The worker died; the sweeper puts its job back in the queue while a user cancels it.
    job_id = await add_job(
        resources, organization_id, status=JobStatus.RUNNING.value, attempts=1, claimed_by="gone",
        heartbeat_at=text("now() - interval '1 hour'"),
    )  # fmt: skip
    async with resources.session_factory() as sweeping:
        requeued, _ = await JobRepository(sweeping).requeue_stale(stale_after=timedelta(seconds=1), limit=10)
        assert requeued == [job_id]

        async def cancel() -> Job | None:
            async with transaction(resources) as session:
                return await JobRepository(session).cancel(job_id)

        cancelling = asyncio.create_task(cancel())
        await eventually(lambda: waits_for_a_lock(resources), 10, "the cancel waits for the sweeper's row lock")
        await sweeping.commit()
        cancelled = await asyncio.wait_for(cancelling, 10)

    assert cancelled is not None  # not answered as "already finished" (409)
    job = await load(resources, job_id)
    assert job.status == "cancelled"


async def waits_for_a_lock(resources: Resources) -> bool:
    async with resources.engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


async def hang(context: JobContext) -> dict[str, Any]:
    while True:  # alive and heartbeating, but never done
        await asyncio.sleep(0.05)
        await context.checkpoint()


register_job_task(broker, JobKindSpec(HANG_KIND, hang))


async def test_a_body_that_hangs_ends_after_its_kinds_time_limit_and_is_retried(
    resources: Resources, organization_id: uuid.UUID
) -> None:
    job_id = await add_job(resources, organization_id, kind=HANG_KIND, max_attempts=2)
    runner = JobRunner(resources)

    first = await asyncio.wait_for(runner.run(job_id, HANG_KIND, hang), timeout=10)
    retrying = await load(resources, job_id)
    await asyncio.sleep(max(0.0, (retrying.run_after - await db_now(resources)).total_seconds()))
    second = await asyncio.wait_for(runner.run(job_id, HANG_KIND, hang), timeout=10)

    assert (first, retrying.status, retrying.error_code) == (RunOutcome.RETRYING, "queued", "job_timeout")
    job = await load(resources, job_id)
    assert (second, job.status, job.error_code, job.attempts) == (RunOutcome.FAILED, "failed", "job_timeout", 2)


async def test_other_kinds_keep_the_default_time_limit(resources: Resources) -> None:
    assert resources.settings.jobs.time_limit_for(HANG_KIND) == HANG_LIMIT_SECONDS
    assert resources.settings.jobs.time_limit_for("vitec.sync") == 3600
    assert resources.settings.jobs.time_limit_for("no.such.kind") == resources.settings.jobs.time_limit_seconds


async def db_now(resources: Resources) -> Any:
    async with resources.engine.connect() as connection:
        return await connection.scalar(text("SELECT now()"))


@pytest.mark.parametrize(
    ("assignment", "moves"),
    [
        ("progress_message = 'halfway'", True),
        ("status = 'cancelled', finished_at = now()", True),
        ('payload = \'{"mode": "full"}\'', True),
        ("heartbeat_at = now()", False),  # bookkeeping a reader never sees
        ("dispatched_at = now()", False),
        ("version = 1", False),  # nobody sets the version by hand
    ],
)
async def test_version_moves_with_every_visible_change_whoever_writes_the_row(
    resources: Resources, organization_id: uuid.UUID, assignment: str, moves: bool
) -> None:
    job_id = await add_job(resources, organization_id)
    before = await load(resources, job_id)
    assert resources.raw_pool is not None

    await resources.raw_pool.execute(f"UPDATE jobs SET {assignment} WHERE id = $1", job_id)  # an operator's psql

    after = await load(resources, job_id)
    assert after.version == (before.version + 1 if moves else before.version)
    assert (after.updated_at > before.updated_at) is moves
