"""Fixtures for tests that run real worker and scheduler processes against committed data."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.resources import Resources
from core.settings import Settings
from repository.models import Organization
from repository.organizations import OrganizationRepository
from repository.workers import live_workers
from service.job_sweeper import JobSweeper
from service.unit_of_work import transaction
from tests.worker.processes import ManagedProcess, eventually, start_scheduler, start_worker


@pytest.fixture(scope="module")
async def live(settings: Settings, migrated_database: str) -> AsyncIterator[Resources]:
    """Resources outside the per-test rollback: worker processes only see committed rows."""
    resources = Resources.build(settings)
    await resources.start_producer()
    async with resources.engine.begin() as connection:
        await connection.execute(text("CREATE SCHEMA IF NOT EXISTS test_support"))
        await connection.execute(
            text("CREATE TABLE IF NOT EXISTS test_support.effects (job_id uuid PRIMARY KEY, runs int NOT NULL)")
        )
    yield resources
    await resources.close()


@pytest.fixture(scope="module")
async def organization_id(live: Resources) -> uuid.UUID:
    async with transaction(live) as session:
        organization = await OrganizationRepository(session).add(
            Organization(name="Worker Tests AS", vitec_installation_id="WORKER" + uuid.uuid4().hex[:8].upper())
        )
    return organization.id


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("processes")


@pytest.fixture
async def sweeper(live: Resources) -> AsyncIterator[None]:
    """The sweeper, in-process (in production it runs in the scheduler process)."""
    task = asyncio.create_task(JobSweeper(live).run_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# Generous: it bounds a failure, it measures nothing; a worker imports the whole app and the Azure SDK
# before it registers, which takes long on a busy shared machine.
async def wait_registered(live: Resources, name: str, seconds: float = 60) -> None:
    async def registered() -> bool:
        return name in {worker_id for worker_id, _ in await live_workers(live.redis)}

    await eventually(registered, seconds, f"worker {name} registered itself")


Spawn = Callable[..., ManagedProcess]


@pytest.fixture
def processes(settings: Settings, log_dir: Path) -> Iterator[dict[str, Spawn]]:
    """Start workers and schedulers; every one still running is killed after the test, and the
    logs of all of them are printed (pytest shows them when the test failed)."""
    started: list[ManagedProcess] = []

    def worker(**env: str) -> ManagedProcess:
        process = start_worker(settings, f"w-{uuid.uuid4().hex[:8]}", log_dir, **env)
        started.append(process)
        return process

    def scheduler(**env: str) -> ManagedProcess:
        process = start_scheduler(settings, f"s-{uuid.uuid4().hex[:8]}", log_dir, **env)
        started.append(process)
        return process

    yield {"worker": worker, "scheduler": scheduler}
    for process in started:
        process.close()
        print(f"----- {process.name} -----\n{process.log()[-6000:]}")  # noqa: T201
