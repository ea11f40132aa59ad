"""`reports.render` end to end: the API queues it, a real worker process renders the estate synced
from the simulator (images fetched from it over HTTP), stores the PDF in Azurite and records a
document of kind `report`; an unchanged estate's second report answers the first document."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pypdf import PdfReader
from sqlalchemy import select, update

from api.main import create_app
from core.resources import Resources
from core.settings import Settings, VitecSettings
from domain.documents import blob_name_for
from domain.reports import ReportData, ReportTemplate
from domain.vitec import VitecEstate
from repository.blob_store import BlobStore
from repository.models import Document, Estate, EstateImage, Job, Organization
from repository.organizations import OrganizationRepository
from repository.vitec.client import VitecClient
from repository.vitec_read_model import VitecReadModelRepository
from service import report_jobs
from service.blobs import blob_store, prepare_blob_storage
from service.job_runner import JobRunner, RunOutcome
from service.job_sweeper import JobSweeper
from service.jobs import JobService
from service.report_jobs import report_document_id
from service.reports import ImageBytes
from service.unit_of_work import transaction
from tests.factories.reports import photo
from tests.factories.users import committed_broker_headers
from tests.worker.conftest import Spawn, wait_registered
from tests.worker.processes import ManagedProcess, eventually, start_simulator

ESTATES = 12
# Camera-sized photos of a long report: preparing and rendering them outlasts a stale threshold of 1 s.
PHOTOS = 40


@dataclass
class Synced:
    url: str
    organization_id: uuid.UUID
    estates: dict[uuid.UUID, VitecEstate]  # our id → what the simulator holds

    def pick(self, images: int) -> uuid.UUID:
        """An estate with at least `images` images and a heading (the prospectus shows both)."""
        return next(key for key, estate in self.estates.items() if len(estate.images) >= images and estate.heading)


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[str, str]]:
    installation = "REPORT" + uuid.uuid4().hex[:8].upper()
    process, url = start_simulator(SIMULATOR_INSTALLATIONS=installation, SIMULATOR_ESTATES=str(ESTATES))
    yield url, installation
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
async def synced(live: Resources, simulator: tuple[str, str]) -> Synced:
    """The simulator's installation as an organization, its read model synced and committed."""
    url, installation = simulator
    client = VitecClient(VitecSettings(base_url=url, rate_limit="1000/second"), live.redis, live.rate_limiter)
    try:
        async with transaction(live) as session:
            organization = await OrganizationRepository(session).add(
                Organization(name="Rapport Eiendom AS", vitec_installation_id=installation)
            )
            read_model = VitecReadModelRepository(session)
            await read_model.upsert_departments(organization.id, await client.list_departments(installation))
            await read_model.upsert_employees(organization.id, await client.list_employees(installation))
            summaries = await client.list_estate_summaries(installation)
            estates = [await client.get_estate(installation, summary.vitec_id) for summary in summaries]
            await read_model.upsert_estates(
                organization.id, estates, await read_model.department_ids(organization.id),
                await read_model.employee_ids(organization.id),
            )  # fmt: skip
            rows = (await session.execute(select(Estate.id, Estate.vitec_id))).all()
    finally:
        await client.close()
    by_vitec_id = {estate.vitec_id: estate for estate in estates}
    ours = {row.id: by_vitec_id[row.vitec_id] for row in rows if row.vitec_id in by_vitec_id}
    return Synced(url, organization.id, ours)


@pytest.fixture
async def api(settings: Settings, synced: Synced) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app):
        headers = await committed_broker_headers(app.state.resources, synced.organization_id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            yield client


@pytest.fixture
async def worker(live: Resources, processes: dict[str, Spawn], synced: Synced) -> ManagedProcess:
    process = processes["worker"](VITEC_BASE_URL=synced.url, VITEC_RATE_LIMIT="1000/second")
    await wait_registered(live, process.name)
    return process


async def finished(api: httpx.AsyncClient, job_id: str, seconds: float = 60) -> dict[str, Any]:
    body: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal body
        body = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        return body["status"] in {"succeeded", "failed", "cancelled"}

    await eventually(done, seconds, f"job {job_id} finished")
    return body


async def report(api: httpx.AsyncClient, estate_id: uuid.UUID, template: str) -> dict[str, Any]:
    accepted = await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": template})
    assert accepted.status_code == 202, accepted.text
    job = await finished(api, accepted.json()["id"])
    assert job["status"] == "succeeded", job
    return job


async def pdf_of(api: httpx.AsyncClient, document_id: object) -> PdfReader:
    download = await api.get(f"/api/v1/documents/{document_id}/download", params={"inline": "1"})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    return PdfReader(io.BytesIO(download.content))


async def test_a_prospectus_is_rendered_stored_as_a_document_and_reused_while_the_estate_is_unchanged(
    api: httpx.AsyncClient, synced: Synced, worker: ManagedProcess
) -> None:
    estate_id = synced.pick(images=2)
    estate = synced.estates[estate_id]
    headers = {"Idempotency-Key": f"report-{uuid.uuid4()}"}
    accepted = await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": "prospectus"}, headers=headers)
    replayed = await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": "prospectus"}, headers=headers)

    assert (accepted.status_code, accepted.json()["kind"]) == (202, "reports.render")
    assert accepted.headers["location"] == f"/api/v1/jobs/{accepted.json()['id']}"
    assert (replayed.status_code, replayed.json()["id"]) == (202, accepted.json()["id"])
    assert replayed.headers["idempotent-replayed"] == "true"
    job = await finished(api, accepted.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"]["percent"] == 100
    result = job["result"]
    assert result["reused"] is False
    listed = (await api.get(f"/api/v1/estates/{estate_id}/documents")).json()["items"]
    document = next(item for item in listed if item["id"] == result["document_id"])
    assert (document["kind"], document["status"], document["content_type"]) == (
        "report",
        "available",
        "application/pdf",
    )
    assert document["filename"] == f"Salgsoppgave {estate.street}.pdf"
    pdf = await pdf_of(api, document["id"])
    assert len(pdf.pages) > 1
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert " ".join(str(estate.heading).split()) in " ".join(text.split())

    again = await report(api, estate_id, "prospectus")
    assert again["result"] == {"document_id": document["id"], "reused": True}
    summary = await report(api, estate_id, "summary")
    summary_result = summary["result"]
    assert summary_result["reused"] is False
    assert summary_result["document_id"] != document["id"]
    assert len((await pdf_of(api, summary_result["document_id"])).pages) == 1


async def test_a_changed_estate_is_rendered_again(
    api: httpx.AsyncClient, live: Resources, synced: Synced, worker: ManagedProcess
) -> None:
    estate_id = synced.pick(images=0)
    first = (await report(api, estate_id, "summary"))["result"]
    async with transaction(live) as session:
        await session.execute(
            update(Estate).where(Estate.id == estate_id).values(heading="Nyoppusset", content_hash="f" * 64)
        )
    second = (await report(api, estate_id, "summary"))["result"]

    assert second["reused"] is False
    assert second["document_id"] != first["document_id"]
    assert "Nyoppusset" in (await pdf_of(api, second["document_id"])).pages[0].extract_text()


async def test_a_report_whose_stored_bytes_are_gone_is_rendered_again(
    api: httpx.AsyncClient, live: Resources, synced: Synced, worker: ManagedProcess
) -> None:
    estate_id = synced.pick(images=0)
    first = (await report(api, estate_id, "summary"))["result"]
    async with live.session_factory() as session:
        document = await session.get(Document, uuid.UUID(first["document_id"]))
    assert document is not None
    assert await blob_store(live).delete(document.blob_name)
    second = (await report(api, estate_id, "summary"))["result"]

    assert second["reused"] is False
    assert second["document_id"] != first["document_id"]
    assert len((await pdf_of(api, second["document_id"])).pages) == 1


async def test_the_render_keeps_heartbeating_past_a_short_stale_threshold(
    settings: Settings, api: httpx.AsyncClient, live: Resources, synced: Synced, processes: dict[str, Spawn]
) -> None:
    """Forty camera-sized photos take longer to prepare and render than the stale threshold; a
    worker whose event loop stalled meanwhile would have its job re-queued by the sweeper."""
    estate_id = await _estate_with_images(live, synced.organization_id, PHOTOS)
    worker = processes["worker"](TEST_REPORT_PHOTOS="1")
    await wait_registered(live, worker.name)
    stale = 1.0
    sweeper = Resources.build(
        settings.model_copy(update={"jobs": settings.jobs.model_copy(update={"stale_after_seconds": stale})})
    )
    try:
        sweeping = JobSweeper(sweeper)
        accepted = await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": "prospectus"})
        job_id = accepted.json()["id"]
        started = time.monotonic()

        async def done() -> bool:
            await sweeping.sweep_once()
            return (await api.get(f"/api/v1/jobs/{job_id}")).json()["status"] in {"succeeded", "failed"}

        await eventually(done, 120, "the long report finished")
        took = time.monotonic() - started
    finally:
        await sweeper.close()
    async with transaction(live) as session:
        row = await session.get(Job, uuid.UUID(job_id))
    assert row is not None
    assert (row.status, row.attempts) == ("succeeded", 1), row.error_message
    assert took > 2 * stale  # else the test proves nothing
    pdf = await pdf_of(api, row.result["document_id"])
    assert sum(len(page.images) for page in pdf.pages) >= PHOTOS


async def test_a_report_cancelled_while_it_renders_stops_before_the_upload(
    api: httpx.AsyncClient, live: Resources, synced: Synced, processes: dict[str, Spawn]
) -> None:
    estate_id = await _estate_with_images(live, synced.organization_id, PHOTOS)
    worker = processes["worker"](TEST_REPORT_PHOTOS="1")
    await wait_registered(live, worker.name)
    job_id = (await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": "prospectus"})).json()["id"]

    async def busy() -> bool:
        progress = (await api.get(f"/api/v1/jobs/{job_id}")).json()["progress"]
        return progress["message"] in {"images", "render"}

    await eventually(busy, 60, "the report is fetching images or rendering")
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
    assert (await finished(api, job_id))["status"] == "cancelled"
    assert (await api.get(f"/api/v1/estates/{estate_id}/documents")).json()["items"] == []
    blob = blob_name_for(synced.organization_id, estate_id, report_document_id(uuid.UUID(job_id)))
    assert await blob_store(live).properties(blob) is None


async def test_an_estate_deleted_before_its_render_fails_the_job_for_good(
    api: httpx.AsyncClient, live: Resources, synced: Synced, processes: dict[str, Spawn]
) -> None:
    estate_id = await _estate_with_images(live, synced.organization_id, 0)
    job_id = (await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": "summary"})).json()["id"]
    async with transaction(live) as session:
        await session.execute(update(Estate).where(Estate.id == estate_id).values(deleted_at=datetime.now(UTC)))
    worker = processes["worker"]()
    await wait_registered(live, worker.name)

    job = await finished(api, job_id)
    assert (job["status"], job["attempts"]) == ("failed", 1)
    assert job["error"]["internal_code"] == "report_estate_gone"


async def test_a_report_holds_no_database_connection_while_it_fetches_images_renders_and_uploads(
    settings: Settings, live: Resources, synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's pool has a few connections for all its jobs: a report that held one through
    seconds of downloads and rendering would starve the others. The pool's checked-out count is read
    in each of those phases of a job run by the real job runner."""
    estate_id = await _estate_with_images(live, synced.organization_id, 3)
    resources = Resources.build(settings)
    await resources.start_raw_pool()
    await prepare_blob_storage(resources)
    checked_out: dict[str, int] = {}

    def seen(phase: str) -> None:
        checked_out[phase] = max(checked_out.get(phase, 0), resources.engine.pool.checkedout())  # type: ignore[attr-defined]

    class CountingImages:
        async def fetch(self, installation: str, estate: Estate, image: EstateImage, longest: int) -> ImageBytes:
            seen("images")
            return ImageBytes(photo(image.sequence, (640, 480)))

    render_in_thread, upload_bytes = report_jobs.render_report_in_thread, BlobStore.upload_bytes

    async def rendering(template: ReportTemplate, data: ReportData) -> bytes:
        seen("render")
        return await render_in_thread(template, data)

    async def uploading(store: BlobStore, name: str, content: bytes, content_type: str | None = None) -> None:
        seen("upload")
        await upload_bytes(store, name, content, content_type)

    monkeypatch.setattr(report_jobs, "image_source", lambda _: CountingImages())
    monkeypatch.setattr(report_jobs, "render_report_in_thread", rendering)
    monkeypatch.setattr(BlobStore, "upload_bytes", uploading)
    try:
        async with transaction(resources) as session:
            payload = {"estate_id": str(estate_id), "template": "prospectus"}
            started = await JobService(session, resources).start(
                None, "reports.render", organization_id=synced.organization_id, payload=payload
            )
        outcome = await JobRunner(resources).run(started.job.id, "reports.render", report_jobs.render)
        async with transaction(resources) as session:
            document = await session.get(Document, report_document_id(started.job.id))
    finally:
        await resources.close()

    assert outcome == RunOutcome.SUCCEEDED
    assert document is not None
    assert document.job_id == started.job.id
    assert checked_out == {"images": 0, "render": 0, "upload": 0}


async def _estate_with_images(live: Resources, organization_id: uuid.UUID, images: int) -> uuid.UUID:
    async with transaction(live) as session:
        estate = Estate(
            organization_id=organization_id, vitec_id=f"P{uuid.uuid4().hex[:10]}", status="for_sale",
            estate_type="detached", raw={}, content_hash=uuid.uuid4().hex * 2, street="Bjørkeløkkveien 12",
            heading="Enebolig med tjue bilder", vitec_changed_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(estate)
        await session.flush()
        session.add_all(
            EstateImage(estate_id=estate.id, vitec_id=f"I{n}", sequence=n, category="Stue") for n in range(images)
        )
    return estate.id


@pytest.mark.parametrize(
    "body", [{"template": "brochure"}, {}, {"template": "summary", "color": "red"}, {"template": 1}]
)
async def test_a_bad_body_is_422(api: httpx.AsyncClient, synced: Synced, body: dict[str, object]) -> None:
    answer = await api.post(f"/api/v1/estates/{synced.pick(images=0)}/reports", json=body)
    assert answer.status_code == 422, answer.text


async def test_an_unknown_deleted_or_foreign_estate_is_404(
    api: httpx.AsyncClient, live: Resources, synced: Synced
) -> None:
    deleted, foreign = uuid.uuid4(), uuid.uuid4()
    async with transaction(live) as session:
        other = await OrganizationRepository(session).add(
            Organization(name="Andre AS", vitec_installation_id="OTHER" + uuid.uuid4().hex[:8].upper())
        )
        for estate_id, organization_id, gone in ((deleted, synced.organization_id, True), (foreign, other.id, False)):
            session.add(
                Estate(
                    id=estate_id, organization_id=organization_id, vitec_id=f"X{uuid.uuid4().hex[:10]}",
                    status="for_sale", estate_type="detached", raw={}, content_hash="0" * 64,
                    deleted_at=datetime.now(UTC) if gone else None,
                )
            )  # fmt: skip
    for estate_id in (deleted, foreign, uuid.uuid4()):
        answer = await api.post(f"/api/v1/estates/{estate_id}/reports", json={"template": "summary"})
        assert (answer.status_code, answer.json()["internal_code"]) == (404, "estate_not_found")
