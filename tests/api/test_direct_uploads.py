"""Direct uploads: a write SAS for the browser, `complete`, and the finalize job's verdict."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.jobs import PermanentJobError
from repository.models import Document, Estate, Job, Organization
from service.blobs import blob_store
from service.document_jobs import expire_pending_uploads, finalize, purge
from tests.api.documents_support import job_context, stored
from tests.factories.documents import PDF, create_estate
from tests.factories.users import SignedIn


@pytest.fixture
async def estate(session: AsyncSession, organization: Organization) -> Estate:
    return await create_estate(session, organization)


async def ask(client: AsyncClient, user: SignedIn, estate: Estate, **overrides: Any) -> httpx.Response:
    body = {"filename": "Salgsoppgave.pdf", "content_type": "application/pdf", "size_bytes": len(PDF), **overrides}
    return await client.post(f"/api/v1/estates/{estate.id}/documents/upload-url", json=body, headers=user.headers)


async def put(upload: dict[str, Any], data: bytes) -> int:
    async with httpx.AsyncClient() as browser:
        response = await browser.put(upload["upload_url"], content=data, headers=upload["required_headers"])
    return response.status_code


async def complete(client: AsyncClient, user: SignedIn, document_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/documents/{document_id}/complete", json=body or None, headers=user.headers)


async def run_finalize(session: AsyncSession, resources: Resources, job: dict[str, Any]) -> dict[str, Any]:
    """The job's handler, in-process, on the payload `complete` queued."""
    payload = (await session.get_one(Job, uuid.UUID(job["id"]))).payload
    return await finalize(job_context(session, resources, "documents.finalize", payload))


async def test_upload_url_complete_and_finalize(
    client: AsyncClient, session: AsyncSession, resources: Resources, broker_user: SignedIn, estate: Estate
) -> None:
    asked = await ask(client, broker_user, estate)
    assert asked.status_code == 201, asked.text
    upload = asked.json()
    assert set(upload) == {"document_id", "upload_url", "expires_at", "required_headers"}
    expires_at = datetime.fromisoformat(upload["expires_at"])
    assert timedelta(0) < expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    pending = await client.get(f"/api/v1/documents/{upload['document_id']}", headers=broker_user.headers)
    assert pending.json()["status"] == "pending_upload"
    assert await put(upload, PDF) == 201

    accepted = await complete(client, broker_user, upload["document_id"], sha256=hashlib.sha256(PDF).hexdigest())

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["kind"] == "documents.finalize"
    assert accepted.headers["location"] == f"/api/v1/jobs/{accepted.json()['id']}"
    processing = await client.get(f"/api/v1/documents/{upload['document_id']}", headers=broker_user.headers)
    assert processing.json()["status"] == "processing"
    result = await run_finalize(session, resources, accepted.json())
    assert result["status"] == "available"
    document = (await client.get(f"/api/v1/documents/{upload['document_id']}", headers=broker_user.headers)).json()
    assert (document["status"], document["sha256"], document["size_bytes"]) == (
        "available", hashlib.sha256(PDF).hexdigest(), len(PDF)
    )  # fmt: skip
    again = await complete(client, broker_user, upload["document_id"])
    assert again.status_code == 409


async def test_upload_url_refuses_types_and_sizes_up_front(
    client: AsyncClient, broker_user: SignedIn, estate: Estate
) -> None:
    wrong_type = await ask(client, broker_user, estate, content_type="application/x-msdownload")
    too_big = await ask(client, broker_user, estate, size_bytes=2 * 1024**3)
    assert (wrong_type.status_code, too_big.status_code) == (415, 413)


async def test_complete_with_nothing_uploaded_is_a_conflict_and_keeps_waiting(
    client: AsyncClient, broker_user: SignedIn, estate: Estate
) -> None:
    upload = (await ask(client, broker_user, estate)).json()

    response = await complete(client, broker_user, upload["document_id"])

    assert response.status_code == 409
    assert response.json()["internal_code"] == "document_upload_missing"
    document = await client.get(f"/api/v1/documents/{upload['document_id']}", headers=broker_user.headers)
    assert document.json()["status"] == "pending_upload"


@pytest.mark.parametrize(
    ("sent", "reason"),
    [(PDF[:-10], "bytes arrived"), (b"MZ\x90\x00" + PDF[4:], "not accepted")],
    ids=["wrong size", "disallowed bytes"],
)
async def test_complete_with_wrong_bytes_fails_the_document_and_deletes_them(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate, sent: bytes, reason: str,
) -> None:  # fmt: skip
    upload = (await ask(client, broker_user, estate)).json()
    assert await put(upload, sent) == 201

    response = await complete(client, broker_user, upload["document_id"])

    assert response.status_code == 422
    assert response.json()["internal_code"] == "document_upload_rejected"
    assert reason in response.json()["detail"]
    document = await session.get(Document, uuid.UUID(upload["document_id"]))
    assert document is not None
    await session.refresh(document)
    assert document.status == "failed"
    assert await stored(session, resources, organization.id, estate.id) == (1, [])


async def test_finalize_fails_a_document_whose_hash_differs(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    upload = (await ask(client, broker_user, estate)).json()
    assert await put(upload, PDF) == 201
    accepted = await complete(client, broker_user, upload["document_id"], sha256="0" * 64)

    with pytest.raises(PermanentJobError) as failure:
        await run_finalize(session, resources, accepted.json())

    assert failure.value.code == "document_upload_rejected"
    assert "SHA-256" in failure.value.message
    document = await session.get(Document, uuid.UUID(upload["document_id"]))
    assert document is not None
    assert document.status == "failed"
    assert await stored(session, resources, organization.id, estate.id) == (1, [])


async def test_an_expired_write_sas_is_refused(
    client: AsyncClient, resources: Resources, broker_user: SignedIn, estate: Estate
) -> None:
    upload = (await ask(client, broker_user, estate)).json()
    document = upload["document_id"]
    blob = f"documents/{estate.organization_id}/{estate.id}/{document}"
    expired = await blob_store(resources).write_url(blob, valid_for=timedelta(seconds=-1))
    assert await put({**upload, "upload_url": expired.url}, PDF) == 403


async def test_purge_removes_the_bytes_of_a_deleted_document(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    response = await client.post(
        f"/api/v1/estates/{estate.id}/documents", params={"filename": "a.pdf"}, content=PDF, headers=broker_user.headers
    )
    document_id = response.json()["id"]
    assert (await client.delete(f"/api/v1/documents/{document_id}", headers=broker_user.headers)).status_code == 204
    context = job_context(session, resources, "documents.purge", {"document_id": document_id})

    assert await purge(context) == {"deleted": True}
    assert await purge(context) == {"deleted": False}
    assert await stored(session, resources, organization.id, estate.id) == (1, [])


async def test_cleanup_removes_abandoned_direct_uploads(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    abandoned = (await ask(client, broker_user, estate)).json()
    waiting = (await ask(client, broker_user, estate)).json()
    assert await put(abandoned, PDF) == 201
    await session.execute(
        update(Document)
        .where(Document.id == uuid.UUID(abandoned["document_id"]))
        .values(upload_expires_at=datetime.now(UTC) - timedelta(hours=1))
    )

    assert await expire_pending_uploads(session, resources) == 1

    states = {}
    for upload in (abandoned, waiting):
        document = await session.get(Document, uuid.UUID(upload["document_id"]))
        assert document is not None
        await session.refresh(document)
        states[upload["document_id"]] = document.status
    assert states == {abandoned["document_id"]: "failed", waiting["document_id"]: "pending_upload"}
    assert await stored(session, resources, organization.id, estate.id) == (2, [])
