"""Document jobs run by a real worker process on committed rows: finalize a direct upload, purge a
deleted document's bytes; the request that queued them is named in the worker's log lines."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from api.main import create_app
from core.resources import Resources
from core.settings import Settings
from domain.documents import blob_name_for
from repository.models import Estate, Job
from service.blobs import blob_store
from service.unit_of_work import transaction
from tests.factories.documents import PDF
from tests.factories.users import committed_broker_headers
from tests.worker.conftest import Spawn, wait_registered
from tests.worker.processes import ManagedProcess, eventually


@pytest.fixture
async def estate_id(live: Resources, organization_id: uuid.UUID) -> uuid.UUID:
    async with transaction(live) as session:
        estate = Estate(
            organization_id=organization_id, vitec_id=f"D{uuid.uuid4().hex[:10]}", status="for_sale",
            estate_type="detached", raw={}, content_hash="0" * 64,
        )  # fmt: skip
        session.add(estate)
    return estate.id


@pytest.fixture
async def api(settings: Settings, organization_id: uuid.UUID) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app):
        headers = await committed_broker_headers(app.state.resources, organization_id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            yield client


@pytest.fixture
async def worker(live: Resources, processes: dict[str, Spawn]) -> ManagedProcess:
    process = processes["worker"]()
    await wait_registered(live, process.name)
    return process


async def finished(api: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    body: dict[str, object] = {}

    async def done() -> bool:
        nonlocal body
        body = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        return body["status"] in {"succeeded", "failed", "cancelled"}

    await eventually(done, 30, f"job {job_id} finished")
    return body


def log_lines_of(process: ManagedProcess, request_id: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in process.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


async def test_a_direct_upload_is_verified_and_a_deleted_document_purged_by_the_worker(
    api: httpx.AsyncClient, live: Resources, organization_id: uuid.UUID, estate_id: uuid.UUID, worker: ManagedProcess
) -> None:
    asked = await api.post(
        f"/api/v1/estates/{estate_id}/documents/upload-url",
        json={"filename": "Salgsoppgave.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)},
    )
    upload = asked.json()
    async with httpx.AsyncClient() as browser:
        put = await browser.put(upload["upload_url"], content=PDF, headers=upload["required_headers"])
    assert put.status_code == 201
    request_id = f"docs-{uuid.uuid4().hex[:12]}"

    accepted = await api.post(
        f"/api/v1/documents/{upload['document_id']}/complete", headers={"X-Request-ID": request_id}
    )
    job = await finished(api, accepted.json()["id"])

    assert job["status"] == "succeeded", job
    document = (await api.get(f"/api/v1/documents/{upload['document_id']}")).json()
    assert (document["status"], document["size_bytes"]) == ("available", len(PDF))
    assert any(line.get("event") == "job_run_ended" for line in log_lines_of(worker, request_id))

    assert (await api.delete(f"/api/v1/documents/{upload['document_id']}")).status_code == 204
    async with transaction(live) as session:
        purges = (await session.execute(select(Job).where(Job.kind == "documents.purge"))).scalars().all()
    purge = next(job for job in purges if job.payload == {"document_id": upload["document_id"]})
    assert (await finished(api, str(purge.id)))["status"] == "succeeded"
    blob = blob_name_for(organization_id, estate_id, uuid.UUID(upload["document_id"]))
    assert await blob_store(live).properties(blob) is None


async def test_a_slow_upload_holds_no_database_connection_while_its_body_arrives(
    settings: Settings, organization_id: uuid.UUID, estate_id: uuid.UUID
) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        resources: Resources = app.state.resources
        headers = await committed_broker_headers(resources, organization_id)
        halfway, go_on = asyncio.Event(), asyncio.Event()

        async def slow_client() -> AsyncIterator[bytes]:
            yield PDF[:10]
            halfway.set()
            await go_on.wait()
            yield PDF[10:]

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            upload = asyncio.create_task(
                client.post(
                    f"/api/v1/estates/{estate_id}/documents", params={"filename": "slow.pdf"},
                    content=slow_client(), headers=headers,
                )
            )  # fmt: skip
            await asyncio.wait_for(halfway.wait(), 10)
            checked_out = resources.engine.pool.checkedout()  # type: ignore[attr-defined]
            go_on.set()
            response = await upload

    assert checked_out == 0
    assert response.status_code == 201, response.text
