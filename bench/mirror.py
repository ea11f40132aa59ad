"""Mirror benchmark: 1 000 estate images of 10 KiB copied from the simulator into Blob Storage by one
`blobs.mirror` job, under a known Vitec request budget (run from bench/__main__.py).

The target is the share of the budget the mirror uses: requests to Vitec per second of the job's
wall time, over the budget (>= 0.8). Blob Storage is the test suite's: AZURE_STORAGE_CONNECTION_STRING,
else an Azurite on the default port, else a private Azurite (scripts/azurite.sh), stopped at the end.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select, update

from bench.vitec import start_simulator
from core.resources import Resources
from core.settings import AzureSettings, Settings, VitecSettings
from repository.models import Estate, EstateImage, Job, Organization
from repository.organizations import OrganizationRepository
from service.blobs import blob_store, prepare_blob_storage
from service.image_mirror import mirror
from service.job_runner import JobRunner
from service.jobs import JobService
from service.unit_of_work import transaction
from service.vitec_sync import sync
from tests.azurite import start_blob_endpoint

IMAGES = int(os.environ.get("BENCH_MIRROR_IMAGES", "1000"))
IMAGE_BYTES = 10 * 1024
# Vitec requests per second we allow ourselves: by default VITEC_RATE_LIMIT's own default.
BUDGET = int(os.environ.get("BENCH_MIRROR_BUDGET", "20"))
INSTALLATION = "BENCHMIRROR"
IMAGE_ROUTE = "GET /{inst}/Estates/{estateId}/Images/{imageId}"


def _vitec(url: str, budget: int) -> VitecSettings:
    return VitecSettings(
        base_url=url, rate_limit=f"{budget}/second", max_concurrency=16, max_connections=16, mirror_concurrency=32,
        cache_ttl_seconds=0, mirror_images=False,
    )  # fmt: skip


async def _resources(settings: Settings, vitec: VitecSettings, azure: AzureSettings) -> Resources:
    resources = Resources.build(settings.model_copy(update={"vitec": vitec, "azure": azure}))
    await resources.start_producer()
    await resources.start_raw_pool()
    return resources


async def mirror_benchmark(settings: Settings, root: str, port: int) -> dict[str, Any]:
    """Sync enough estates for IMAGES images (unthrottled), leave exactly IMAGES unmirrored, and time
    one mirror job under the budget."""
    # The simulator gives an estate three images on average: these estates hold about 1.2 times IMAGES.
    simulator = start_simulator(port, root, installation=INSTALLATION, estates=IMAGES * 2 // 5, image_bytes=IMAGE_BYTES)
    endpoint = await asyncio.to_thread(start_blob_endpoint, root)
    url = f"http://127.0.0.1:{port}"
    azure = AzureSettings(connection_string=endpoint.connection_string, container=f"bench-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    syncing = await _resources(settings, _vitec(url, 1000), azure)
    resources = await _resources(settings, _vitec(url, BUDGET), azure)
    await prepare_blob_storage(resources)
    try:
        return await _measure(syncing, resources, url)
    finally:
        await blob_store(resources).delete_container()
        await syncing.close()
        await resources.close()
        endpoint.stop()
        simulator.terminate()
        simulator.wait(10)


async def _measure(syncing: Resources, resources: Resources, url: str) -> dict[str, Any]:
    async with transaction(resources) as session:
        organization = await OrganizationRepository(session).add(
            Organization(name="Bench Mirror AS", vitec_installation_id=INSTALLATION)
        )
    await _run(syncing, organization.id, "vitec.sync", {"mode": "full"})
    waiting = await _leave_unmirrored(resources, organization.id, IMAGES)
    async with httpx.AsyncClient(base_url=url) as control:
        before = await _image_requests(control)
        cpu_before = _cpu_seconds()
        job, seconds = await _run(resources, organization.id, "blobs.mirror", {})
        cpu = _cpu_seconds() - cpu_before
        requests = await _image_requests(control) - before
        rerun, rerun_seconds = await _run(resources, organization.id, "blobs.mirror", {})
        rerun_requests = await _image_requests(control) - before - requests
    assert job.result is not None
    assert rerun.result == {"mirrored": 0, "skipped": 0, "failed": 0}, rerun.result
    return {
        "images": waiting,
        "image_bytes": IMAGE_BYTES,
        "budget_requests_per_second": BUDGET,
        "seconds": seconds,
        "requests": requests,
        "images_per_second": job.result["mirrored"] / seconds,
        "budget_used": requests / seconds / BUDGET,
        "process_cpu_seconds": cpu,
        "result": job.result,
        "rerun_requests": rerun_requests,
        "rerun_seconds": rerun_seconds,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(
    resources: Resources, organization_id: uuid.UUID, kind: str, payload: dict[str, Any]
) -> tuple[Job, float]:
    async with transaction(resources) as session:
        started = await JobService(session, resources).start(None, kind, organization_id=organization_id,
                                                             payload=payload)  # fmt: skip
    began = time.monotonic()
    await JobRunner(resources).run(started.job.id, kind, sync if kind == "vitec.sync" else mirror)
    elapsed = time.monotonic() - began
    async with resources.session_factory() as session:
        job = await session.get(Job, started.job.id)
    assert job is not None
    assert job.status == "succeeded", job.error_message
    return job, elapsed


async def _leave_unmirrored(resources: Resources, organization_id: uuid.UUID, count: int) -> int:
    """Mark every image but `count` as mirrored already (the job then has exactly `count` to do)."""
    async with transaction(resources) as session:
        ids = list(
            await session.scalars(
                select(EstateImage.id)
                .join(Estate, Estate.id == EstateImage.estate_id)
                .where(Estate.organization_id == organization_id)
                .order_by(EstateImage.id)
            )
        )
        assert len(ids) >= count, f"the simulator gave {len(ids)} images, fewer than {count}"
        await session.execute(
            update(EstateImage).where(EstateImage.id.in_(ids[count:])).values(mirrored_at=EstateImage.created_at)
        )
    return min(count, len(ids))


async def _image_requests(control: httpx.AsyncClient) -> int:
    stats: dict[str, Any] = (await control.get("/_control/stats")).json()
    return int(stats["routes"].get(IMAGE_ROUTE, 0))


def mirror_lines(result: dict[str, Any]) -> list[str]:
    return [
        f"mirror of {result['images']} images of {result['image_bytes'] // 1024} KiB at a budget of "
        f"{result['budget_requests_per_second']} requests/s: {result['seconds']:.1f} s, "
        f"{result['images_per_second']:.0f} images/s, {result['requests']} requests, "
        f"{result['budget_used']:.2f} of the budget used (target >= 0.8); this process used "
        f"{result['process_cpu_seconds']:.1f} CPU-s",
        f"re-run with nothing changed: {result['rerun_requests']} requests, {result['rerun_seconds']:.2f} s",
    ]
