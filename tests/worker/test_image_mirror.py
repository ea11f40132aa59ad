"""`blobs.mirror` against the simulator over HTTP and a real Azurite, run by the real job runner;
the estate routes that serve the mirrored images, and the read-through route for the others."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from PIL import Image
from sqlalchemy import select

from api.main import create_app
from core.logging import bind_log_context, clear_log_context
from core.metrics import MIRROR_IMAGES
from core.resources import Resources
from core.settings import Settings, VitecSettings
from repository.models import Estate, EstateImage, Job, Organization
from repository.organizations import OrganizationRepository
from service.blobs import blob_store, prepare_blob_storage
from service.image_mirror import image_blob_name, mirror
from service.job_runner import JobRunner
from service.jobs import JobService
from service.print_images import PRINT_SIZES, print_blob_name
from service.unit_of_work import transaction
from service.vitec_sync import sync
from tests.factories.users import committed_broker_headers
from tests.worker.processes import eventually, start_simulator

ESTATES = 12
IMAGE_ROUTE = "GET /{inst}/Estates/{estateId}/Images/{imageId}"


@dataclass
class Hub:
    resources: Resources
    url: str
    installation: str
    control: httpx.AsyncClient
    organization_id: uuid.UUID

    async def image_requests(self) -> int:
        stats: dict[str, Any] = (await self.control.get("/_control/stats")).json()
        return int(stats["routes"].get(IMAGE_ROUTE, 0))

    async def vitec_bytes(self, estate_vitec_id: str, image_vitec_id: str) -> bytes:
        async with httpx.AsyncClient(base_url=self.url, auth=("estate-bff", "simulator-access-key")) as vitec:
            response = await vitec.get(f"/{self.installation}/Estates/{estate_vitec_id}/Images/{image_vitec_id}")
        response.raise_for_status()
        return response.content


@pytest.fixture(scope="module")
def simulator_process() -> Iterator[tuple[str, list[str]]]:
    installations = ["MIRROR" + uuid.uuid4().hex[:8].upper() for _ in range(12)]
    process, url = start_simulator(SIMULATOR_INSTALLATIONS=",".join(installations), SIMULATOR_ESTATES=str(ESTATES))
    yield url, installations
    process.terminate()
    process.wait(10)


def vitec_settings(url: str, **changes: object) -> VitecSettings:
    values: dict[str, object] = {
        "base_url": url, "rate_limit": "1000/second", "retry_base_seconds": 0.01, "retry_cap_seconds": 0.1,
        "cache_ttl_seconds": 0, "max_concurrency": 8, **changes,
    }  # fmt: skip
    return VitecSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def hub(
    settings: Settings, simulator_process: tuple[str, list[str]], migrated_database: str
) -> AsyncIterator[Hub]:
    url, installations = simulator_process
    resources = Resources.build(settings.model_copy(update={"vitec": vitec_settings(url)}))
    await resources.start_producer()
    await resources.start_raw_pool()
    await prepare_blob_storage(resources)  # what a worker's start-up does
    installation = installations.pop()
    async with transaction(resources) as session:
        organization = await OrganizationRepository(session).add(
            Organization(name="Mirror AS", vitec_installation_id=installation)
        )
    async with httpx.AsyncClient(base_url=url) as control:
        await control.delete("/_control/faults")
        yield Hub(resources, url, installation, control, organization.id)
        await control.delete("/_control/faults")
    await resources.close()


async def run_job(hub: Hub, job_id: uuid.UUID, kind: str) -> Job:
    handler = sync if kind == "vitec.sync" else mirror
    await JobRunner(hub.resources).run(job_id, kind, handler)
    async with hub.resources.session_factory() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def run_sync(hub: Hub, mode: str = "full") -> Job:
    async with transaction(hub.resources) as session:
        started = await JobService(session, hub.resources).start(
            None, "vitec.sync", organization_id=hub.organization_id, payload={"mode": mode}
        )
    job = await run_job(hub, started.job.id, "vitec.sync")
    assert job.status == "succeeded", job.error_message
    return job


async def active_mirror(hub: Hub) -> Job | None:
    async with hub.resources.session_factory() as session:
        statement = select(Job).where(
            Job.organization_id == hub.organization_id, Job.kind == "blobs.mirror", Job.status == "queued"
        )
        return (await session.execute(statement)).scalars().one_or_none()


async def sync_and_mirror(hub: Hub, mode: str = "full") -> Job:
    """A sync, then the mirror job it started (which must exist)."""
    await run_sync(hub, mode)
    started = await active_mirror(hub)
    assert started is not None, "the sync started no mirror"
    job = await run_job(hub, started.id, "blobs.mirror")
    assert job.status == "succeeded", job.error_message
    return job


async def images(hub: Hub) -> list[tuple[str, EstateImage]]:
    async with hub.resources.session_factory() as session:
        rows = await session.execute(
            select(Estate.vitec_id, EstateImage)
            .join(Estate, Estate.id == EstateImage.estate_id)
            .where(Estate.organization_id == hub.organization_id)
            .order_by(EstateImage.id)
        )
        return [(estate_vitec_id, image) for estate_vitec_id, image in rows]


async def blob_bytes(resources: Resources, name: str) -> bytes:
    download = await blob_store(resources).read(name)
    assert download is not None, name
    return b"".join([chunk async for chunk in download.chunks])


def mirrored_count(outcome: str) -> float:
    return float(MIRROR_IMAGES.labels(outcome=outcome)._value.get())


async def test_a_sync_starts_a_mirror_that_copies_every_image_once(hub: Hub) -> None:
    before_requests, before_metric = await hub.image_requests(), mirrored_count("mirrored")

    job = await sync_and_mirror(hub)

    stored = await images(hub)
    assert stored, "the simulator's estates have images"
    assert job.result == {"mirrored": len(stored), "skipped": 0, "failed": 0}
    assert await hub.image_requests() - before_requests == len(stored)
    assert mirrored_count("mirrored") - before_metric == len(stored)
    estate_vitec_id, image = stored[0]
    vitec = await hub.vitec_bytes(estate_vitec_id, image.vitec_id)
    assert image.mirrored_at is not None
    assert (image.content_type, image.size_bytes) == ("image/png", len(vitec))
    assert image.sha256 is not None
    assert image.blob_name == image_blob_name(hub.organization_id, image.sha256)
    assert await blob_bytes(hub.resources, image.blob_name) == vitec
    for longest in PRINT_SIZES:  # what a report embeds, stored beside the original
        copy = await blob_bytes(hub.resources, print_blob_name(image.blob_name, longest))
        with Image.open(io.BytesIO(copy)) as picture:
            assert (picture.format, picture.size) == ("JPEG", (32, 24))  # the simulator's size: never enlarged


async def test_a_rerun_fetches_nothing_and_a_sync_without_changes_starts_no_mirror(hub: Hub) -> None:
    await sync_and_mirror(hub)
    before = await hub.image_requests()
    async with transaction(hub.resources) as session:
        again = await JobService(session, hub.resources).start(
            None, "blobs.mirror", organization_id=hub.organization_id
        )

    rerun = await run_job(hub, again.job.id, "blobs.mirror")
    await run_sync(hub)

    assert rerun.result == {"mirrored": 0, "skipped": 0, "failed": 0}
    assert await hub.image_requests() == before
    assert await active_mirror(hub) is None


async def test_only_a_changed_image_is_fetched_again(hub: Hub) -> None:
    await sync_and_mirror(hub)
    before = {image.id: image for _, image in await images(hub)}
    estates = {vitec_id for vitec_id, _ in await images(hub)}
    changed, untouched = sorted(estates)[:2]
    route = f"/_control/estates/{hub.installation}"
    await hub.control.post(f"{route}/{untouched}/mutate")  # heading and price only: images unchanged
    await hub.control.post(f"{route}/{changed}/mutate", params={"images": "true"})
    requests = await hub.image_requests()

    job = await sync_and_mirror(hub, "incremental")

    after = await images(hub)
    refetched = [image for vitec_id, image in after if vitec_id == changed]
    assert job.result == {"mirrored": len(refetched), "skipped": 0, "failed": 0}
    assert await hub.image_requests() - requests == len(refetched)
    assert {image.id for _, image in after} == set(before)  # rows (and their URLs) survived the sync
    for image in refetched:
        assert image.sha256 != before[image.id].sha256
        assert image.blob_name != before[image.id].blob_name
    for vitec_id, image in after:
        if vitec_id != changed:
            assert (image.sha256, image.mirrored_at) == (before[image.id].sha256, before[image.id].mirrored_at)


async def test_the_mirror_carries_the_request_id_of_the_sync_that_started_it(hub: Hub) -> None:
    bind_log_context(request_id="req-mirror-test")
    try:
        async with transaction(hub.resources) as session:
            started = await JobService(session, hub.resources).start(
                None, "vitec.sync", organization_id=hub.organization_id, payload={"mode": "full"}
            )
    finally:
        clear_log_context()

    await run_job(hub, started.job.id, "vitec.sync")

    mirror_job = await active_mirror(hub)
    assert mirror_job is not None
    assert mirror_job.request_id == started.job.request_id == "req-mirror-test"


@pytest.fixture
async def api(hub: Hub, settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Resources]]:
    app = create_app(settings.model_copy(update={"vitec": vitec_settings(hub.url, image_deadline_seconds=3)}))
    async with LifespanManager(app):
        headers = await committed_broker_headers(app.state.resources, hub.organization_id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            yield client, app.state.resources


async def estate_with_images(client: httpx.AsyncClient) -> dict[str, Any]:
    listed = (await client.get("/api/v1/estates", params={"limit": 100})).json()["items"]
    first = next(estate for estate in listed if estate["thumbnail_url"])
    detail: dict[str, Any] = (await client.get(f"/api/v1/estates/{first['id']}")).json()
    return {"listed": first, "detail": detail}


async def test_mirrored_images_answer_sas_urls_that_download_the_same_bytes(
    hub: Hub, api: tuple[httpx.AsyncClient, Resources]
) -> None:
    client, _ = api
    await sync_and_mirror(hub)
    found = await estate_with_images(client)
    detail, listed = found["detail"], found["listed"]
    first = detail["images"][0]

    async with httpx.AsyncClient() as browser:
        downloaded = await browser.get(first["url"])
        thumbnail = await browser.get(listed["thumbnail_url"])
    redirected = await client.get(f"/api/v1/estates/{detail['id']}/images/{first['id']}")

    vitec = await hub.vitec_bytes(detail["vitec_estate_id"], await image_vitec_id(hub, first["id"]))
    assert "sig=" in first["url"]
    assert not first["url"].startswith("/api/")
    assert (downloaded.status_code, downloaded.content) == (200, vitec)
    assert downloaded.headers["content-type"] == "image/png"
    assert (thumbnail.status_code, thumbnail.content) == (200, vitec)
    assert redirected.status_code == 307
    assert "sig=" in redirected.headers["location"]


async def image_vitec_id(hub: Hub, image_id: str) -> str:
    async with hub.resources.session_factory() as session:
        image = await session.get(EstateImage, uuid.UUID(image_id))
    assert image is not None
    return image.vitec_id


async def test_a_page_whose_sas_urls_would_expire_too_soon_is_not_cached(hub: Hub, settings: Settings) -> None:
    await sync_and_mirror(hub)
    # SAS URLs valid 30 s: less than the margin a cached page must leave its reader.
    short = settings.azure.model_copy(update={"sas_ttl_seconds": 30})
    app = create_app(settings.model_copy(update={"vitec": vitec_settings(hub.url), "azure": short}))
    async with LifespanManager(app):
        headers = await committed_broker_headers(app.state.resources, hub.organization_id)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
        ) as client:
            page = await client.get("/api/v1/estates", params={"limit": 100})
            assert any("sig=" in (item["thumbnail_url"] or "") for item in page.json()["items"])
            assert not app.state.page_cache.holds(hub.organization_id)


async def in_flight(hub: Hub) -> int:
    return int(await hub.resources.redis.zcard(f"estate-bff:vitec:in-flight:{hub.installation}"))


async def test_the_read_through_route_holds_no_database_connection_while_vitec_answers(
    hub: Hub, api: tuple[httpx.AsyncClient, Resources]
) -> None:
    client, resources = api
    await run_sync(hub)  # not mirrored: the route reads through
    found = await estate_with_images(client)
    first = found["detail"]["images"][0]
    assert first["url"].startswith("/api/v1/")
    await hub.control.put("/_control/faults", json={"latency_ms": 1500, "paths": [f"/{hub.installation}/Estates/"]})

    request = asyncio.create_task(client.get(first["url"]))

    async def waiting_on_vitec() -> bool:
        return await in_flight(hub) > 0

    await eventually(waiting_on_vitec, 5, "the image request never reached Vitec")
    checked_out = resources.engine.pool.checkedout()  # type: ignore[attr-defined]
    response = await request
    assert checked_out == 0
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")


async def test_the_read_through_route_answers_504_past_its_deadline_and_502_past_its_size_cap(
    hub: Hub, settings: Settings
) -> None:
    await run_sync(hub)
    await hub.control.put("/_control/faults", json={"latency_ms": 2000, "paths": [f"/{hub.installation}/Estates/"]})
    vitec = vitec_settings(hub.url, image_deadline_seconds=0.3, image_max_bytes=64)
    app = create_app(settings.model_copy(update={"vitec": vitec}))
    async with LifespanManager(app):
        headers = await committed_broker_headers(app.state.resources, hub.organization_id)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
        ) as client:
            url = (await estate_with_images(client))["detail"]["images"][0]["url"]
            late = await client.get(url)
            await hub.control.delete("/_control/faults")
            large = await client.get(url)

    assert late.status_code == 504
    assert late.json()["internal_code"] == "estate_image_timeout"
    assert large.status_code == 502
    assert large.json()["internal_code"] == "estate_image_too_large"
    assert await in_flight(hub) == 0  # the abandoned request gave its Vitec slot back
