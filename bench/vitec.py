"""Vitec benchmarks: a full sync of 10 000 estates under a request budget, an incremental sync with 1 %
changed, and the estate list against the hello baseline (run from bench/__main__.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from core.resources import Resources
from core.settings import Settings, VitecSettings
from repository.models import Job, Organization
from repository.organizations import OrganizationRepository
from service.job_runner import JobRunner
from service.jobs import JobService
from service.unit_of_work import transaction
from service.vitec_sync import sync

ESTATES = int(os.environ.get("BENCH_VITEC_ESTATES", "10000"))
BUDGET = int(os.environ.get("BENCH_VITEC_BUDGET", "200"))  # requests per second we allow ourselves
INSTALLATION = "BENCHVITEC"


def start_simulator(
    port: int, root: str, *, installation: str = INSTALLATION, estates: int = ESTATES, image_bytes: int = 0
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SIMULATOR_INSTALLATIONS": installation, "SIMULATOR_ESTATES": str(estates),
           "SIMULATOR_IMAGE_BYTES": str(image_bytes)}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "vitec_simulator.app:app", "--port", str(port), "--log-level", "warning"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_control/stats", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the simulator did not start")


async def _run_sync(resources: Resources, organization_id: uuid.UUID, mode: str) -> tuple[Job, float]:
    async with transaction(resources) as session:
        started = await JobService(session, resources).start(
            None, "vitec.sync", organization_id=organization_id, payload={"mode": mode}
        )
    began = time.monotonic()
    await JobRunner(resources).run(started.job.id, "vitec.sync", sync)
    elapsed = time.monotonic() - began
    async with resources.session_factory() as session:
        job = await session.get(Job, started.job.id)
    assert job is not None
    assert job.status == "succeeded", job.error_message
    return job, elapsed


@asynccontextmanager
async def _organization_to_sync(
    settings: Settings, url: str, installation: str, budget: int
) -> AsyncIterator[tuple[Resources, uuid.UUID]]:
    """Resources whose Vitec client talks to the simulator at `url` within `budget` requests/s, and a
    new organization of `installation` to sync into."""
    vitec = VitecSettings(base_url=url, rate_limit=f"{budget}/second", max_concurrency=16, max_connections=16,
                          cache_ttl_seconds=0, mirror_images=False)  # fmt: skip
    resources = Resources.build(settings.model_copy(update={"vitec": vitec}))
    await resources.start_producer()
    await resources.start_raw_pool()
    try:
        async with transaction(resources) as session:
            organization = await OrganizationRepository(session).add(
                Organization(name=f"Bench {installation} AS", vitec_installation_id=installation)
            )
        yield resources, organization.id
    finally:
        await resources.close()


async def synced_organization(settings: Settings, url: str, installation: str, budget: int) -> uuid.UUID:
    """A new organization whose estates came in through one full sync from the simulator at `url`:
    the read benchmarks serve what a real sync wrote, not hand-made rows."""
    async with _organization_to_sync(settings, url, installation, budget) as (resources, organization_id):
        await _run_sync(resources, organization_id, "full")
    return organization_id


async def sync_benchmarks(settings: Settings, url: str) -> dict[str, Any]:
    async with _organization_to_sync(settings, url, INSTALLATION, BUDGET) as (resources, organization_id):
        async with httpx.AsyncClient(base_url=url) as control:
            before = (await control.get("/_control/stats")).json()["total"]
            _, full_seconds = await _run_sync(resources, organization_id, "full")
            full_requests = (await control.get("/_control/stats")).json()["total"] - before
            changed = max(1, ESTATES // 100)
            await control.post(f"/_control/estates/{INSTALLATION}/mutate-random", params={"count": changed})
            before = (await control.get("/_control/stats")).json()["total"]
            incremental, incremental_seconds = await _run_sync(resources, organization_id, "incremental")
            incremental_requests = (await control.get("/_control/stats")).json()["total"] - before
    assert incremental.result is not None
    return {
        "estates": ESTATES,
        "budget_requests_per_second": BUDGET,
        "full_seconds": full_seconds,
        "full_estates_per_second": ESTATES / full_seconds,
        "full_requests": full_requests,
        "full_budget_used": full_requests / full_seconds / BUDGET,
        "incremental_changed": changed,
        "incremental_fetched": incremental.result["estates"]["fetched"],
        "incremental_requests": incremental_requests,
        "incremental_requests_per_changed_estate": incremental_requests / changed,
        "incremental_seconds": incremental_seconds,
    }
