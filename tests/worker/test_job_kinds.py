"""No kind without a handler: a job nobody can run is never queued, and the worker, the scheduler
and creation share one registry of kinds."""

from __future__ import annotations

import ast
import subprocess
import sys
import uuid

import pytest

import worker.tasks  # noqa: F401 - the worker's tasks, as the worker process registers them
from core.resources import Resources
from domain.jobs import JobKind, JobKindNotRunnableError
from repository.jobs import JobRepository
from repository.models import Job
from service.job_kinds import KINDS
from service.job_sweeper import JobSweeper
from service.jobs import JobService
from service.unit_of_work import transaction
from tests.conftest import ROOT
from worker.broker import broker


async def test_a_job_of_a_kind_no_worker_runs_is_refused_at_creation(
    live: Resources, organization_id: uuid.UUID
) -> None:
    with pytest.raises(JobKindNotRunnableError):
        async with transaction(live) as session:
            await JobService(session, live).start(None, "no.such.kind", organization_id=organization_id)

    async with live.session_factory() as session:
        assert await JobRepository(session).latest_of_kind(organization_id, "no.such.kind") is None


async def test_the_sweeper_fails_a_queued_job_of_a_kind_no_worker_runs(
    live: Resources, organization_id: uuid.UUID
) -> None:
    # Queued before its kind lost its handler: without this it would be re-sent every two minutes.
    async with transaction(live) as session:
        job = await JobRepository(session).add(Job(organization_id=organization_id, kind="retired.kind"))

    await JobSweeper(live).sweep_once()

    async with live.session_factory() as session:
        swept = await JobRepository(session).get(job.id)
    assert swept is not None
    assert (swept.status, swept.error_code) == ("failed", "job_kind_unknown")


def test_the_worker_runs_every_registered_kind_and_the_production_ones() -> None:
    tasks = set(broker.get_all_tasks())
    assert KINDS.kinds() <= tasks
    assert {JobKind.VITEC_SYNC.value, JobKind.MAINTENANCE_CLEANUP.value} <= KINDS.kinds()


def test_the_benchmark_registers_nothing_on_the_production_broker() -> None:
    script = (
        "import bench.tasks, worker.broker; "
        "print(sorted(worker.broker.broker.get_all_tasks())); print(sorted(bench.tasks.broker.get_all_tasks()))"
    )
    output = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    production, bench = output.stdout.splitlines()
    assert "bench" not in production
    assert {"'bench.noop'", "'bench.plain'", "'vitec.sync'"} <= set(bench.strip("[]").split(", "))


def test_a_process_that_imports_no_handler_still_knows_the_production_kinds() -> None:
    # The benchmark's process imports only `service.vitec_sync`; its sync was refused as unrunnable.
    script = "from service.jobs import JobService; from service.job_kinds import KINDS; print(sorted(KINDS.kinds()))"
    output = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert {"maintenance.cleanup", "vitec.sync"} <= set(ast.literal_eval(output.stdout))
