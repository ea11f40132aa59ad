"""Streamed uploads through the API, downloads and deletion, against a real Azurite."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.blob_client import create_blob_service
from core.resources import Resources
from core.settings import UploadSettings
from domain.documents import blob_name_for
from domain.users import UserRole
from repository.blob_store import BlobStore
from repository.models import Document, Estate, Job, Organization
from service import blobs
from tests.api.documents_support import stored
from tests.conftest import blob_settings
from tests.factories.documents import PDF, PNG, create_estate, office_file
from tests.factories.users import SignedIn, create_organization, signed_in

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def estate(session: AsyncSession, organization: Organization) -> Estate:
    return await create_estate(session, organization)


@pytest.fixture
def upload_limit(resources: Resources) -> Iterator[int]:
    """A small UPLOAD_MAX_BYTES for this test."""
    original = resources.settings
    limit = 64 * 1024
    resources.settings = original.model_copy(update={"upload": UploadSettings(max_bytes=limit)})
    yield limit
    resources.settings = original


def url(estate: Estate) -> str:
    return f"/api/v1/estates/{estate.id}/documents"


async def upload(
    client: AsyncClient, user: SignedIn, estate: Estate, data: bytes, filename: str = "a.pdf"
) -> httpx.Response:
    return await client.post(url(estate), params={"filename": filename}, content=data, headers=user.headers)


async def test_raw_upload_is_stored_with_its_sniffed_type_and_hash(
    client: AsyncClient, session: AsyncSession, resources: Resources, broker_user: SignedIn, estate: Estate
) -> None:
    response = await upload(client, broker_user, estate, PDF, "Salgsoppgave.pdf")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "upload"
    assert body["status"] == "available"
    assert body["estate_id"] == str(estate.id)
    assert (body["filename"], body["content_type"], body["size_bytes"]) == (
        "Salgsoppgave.pdf",
        "application/pdf",
        len(PDF),
    )
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert set(body) == {
        "id",
        "estate_id",
        "kind",
        "filename",
        "content_type",
        "size_bytes",
        "sha256",
        "status",
        "created_at",
    }
    read = await client.get(f"/api/v1/documents/{body['id']}", headers=broker_user.headers)
    assert read.json() == body
    listed = await client.get(url(estate), headers=broker_user.headers)
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]


async def test_multipart_upload_takes_the_file_part(client: AsyncClient, broker_user: SignedIn, estate: Estate) -> None:
    response = await client.post(
        url(estate),
        data={"note": "ignored"},
        files={"file": ("bilde.png", PNG, "image/png")},
        headers=broker_user.headers,
    )

    assert response.status_code == 201, response.text
    assert (response.json()["filename"], response.json()["content_type"]) == ("bilde.png", "image/png")
    assert response.json()["size_bytes"] == len(PNG)


@pytest.mark.parametrize(("main_part", "expected"), [("word/document.xml", DOCX), ("xl/workbook.xml", XLSX)])
async def test_docx_and_xlsx_are_told_apart_by_their_bytes(
    client: AsyncClient, broker_user: SignedIn, estate: Estate, main_part: str, expected: str
) -> None:
    # Named and labelled as the other kind: the bytes decide.
    response = await client.post(
        url(estate), params={"filename": "wrong.pdf"}, content=office_file(main_part),
        headers={**broker_user.headers, "Content-Type": "application/pdf"},
    )  # fmt: skip

    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == expected


async def test_plain_text_is_accepted(client: AsyncClient, broker_user: SignedIn, estate: Estate) -> None:
    response = await upload(client, broker_user, estate, "Visning lørdag kl. 12.\n".encode() * 100, "notat.txt")
    assert response.status_code == 201
    assert response.json()["content_type"] == "text/plain"


async def test_a_json_content_type_is_not_held_to_the_json_body_limit(
    client: AsyncClient, resources: Resources, broker_user: SignedIn, estate: Estate
) -> None:
    data = b"plain words " * (resources.settings.app.max_json_body_bytes // 10)
    response = await client.post(
        url(estate), params={"filename": "notes.txt"}, content=data,
        headers={**broker_user.headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == len(data)


async def test_oversize_by_content_length_is_refused_up_front(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate, upload_limit: int,
) -> None:  # fmt: skip
    response = await upload(client, broker_user, estate, PDF + b"0" * upload_limit)

    assert response.status_code == 413
    assert response.json()["internal_code"] == "document_too_large"
    assert await stored(session, resources, organization.id, estate.id) == (0, [])


async def test_a_stream_that_lies_about_its_length_is_cut_off(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate, upload_limit: int,
) -> None:  # fmt: skip
    async def body() -> AsyncIterator[bytes]:
        yield PDF
        for _ in range(upload_limit // 4096 + 2):
            yield b"0" * 4096

    response = await client.post(
        url(estate), params={"filename": "a.pdf"}, content=body(),
        headers={**broker_user.headers, "Content-Length": "1000"},
    )  # fmt: skip

    assert response.status_code == 413
    assert response.json()["internal_code"] == "document_too_large"
    assert await stored(session, resources, organization.id, estate.id) == (0, [])


async def test_disallowed_bytes_under_an_allowed_name_and_header_are_refused(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    executable = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(4000)
    response = await client.post(
        url(estate), files={"file": ("prospekt.pdf", executable, "application/pdf")}, headers=broker_user.headers
    )

    assert response.status_code == 415
    assert response.json()["internal_code"] == "document_type_not_allowed"
    assert await stored(session, resources, organization.id, estate.id) == (0, [])


async def test_a_zip_that_is_no_office_file_is_refused(
    client: AsyncClient, broker_user: SignedIn, estate: Estate
) -> None:
    response = await upload(client, broker_user, estate, office_file("other/thing.xml"), "a.docx")
    assert response.status_code == 415


async def test_an_empty_file_is_refused(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    response = await upload(client, broker_user, estate, b"")

    assert response.status_code == 422
    assert response.json()["internal_code"] == "document_empty"
    assert await stored(session, resources, organization.id, estate.id) == (0, [])


async def test_a_multipart_body_without_file_is_refused(
    client: AsyncClient, broker_user: SignedIn, estate: Estate
) -> None:
    response = await client.post(
        url(estate), data={"other": "x"}, files={"attachment": ("a.pdf", PDF, "application/pdf")},
        headers=broker_user.headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["internal_code"] == "document_file_missing"


async def test_a_raw_body_needs_a_filename(client: AsyncClient, broker_user: SignedIn, estate: Estate) -> None:
    response = await client.post(url(estate), content=PDF, headers=broker_user.headers)
    assert response.status_code == 422
    assert response.json()["internal_code"] == "document_filename_missing"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\meg\\salg.pdf", "salg.pdf"),
        ("ond\x01fil\r\nX-Injected: 1.pdf", "ond fil X-Injected: 1.pdf"),
        ("a" * 1000 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
async def test_filenames_are_stored_safely_and_never_name_the_blob(
    client: AsyncClient, session: AsyncSession, broker_user: SignedIn, estate: Estate, sent: str, kept: str
) -> None:
    response = await upload(client, broker_user, estate, PDF, sent)

    assert response.status_code == 201, response.text
    assert response.json()["filename"] == kept
    document = await session.get(Document, uuid.UUID(response.json()["id"]))
    assert document is not None
    assert document.blob_name == blob_name_for(estate.organization_id, estate.id, document.id)


async def test_a_filename_postgresql_cannot_store_is_refused_before_anything_is_stored(
    client: AsyncClient, session: AsyncSession, broker_user: SignedIn, estate: Estate
) -> None:
    response = await upload(client, broker_user, estate, PDF, "ond\x00fil.pdf")

    assert response.status_code == 422
    assert response.json()["internal_code"] == "validation_error"
    assert (await client.get(url(estate), headers=broker_user.headers)).json()["items"] == []


async def test_another_organizations_estate_and_documents_are_not_found(
    client: AsyncClient, session: AsyncSession, resources: Resources, broker_user: SignedIn, estate: Estate
) -> None:
    document_id = (await upload(client, broker_user, estate, PDF)).json()["id"]
    outsider = await signed_in(client, session, resources, await create_organization(session), role=UserRole.ADMIN)

    answers = [
        await upload(client, outsider, estate, PDF),
        await client.get(url(estate), headers=outsider.headers),
        await client.post(
            f"{url(estate)}/upload-url",
            json={"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": 10},
            headers=outsider.headers,
        ),
        await client.get(f"/api/v1/documents/{document_id}", headers=outsider.headers),
        await client.get(f"/api/v1/documents/{document_id}/download", headers=outsider.headers),
        await client.get(f"/api/v1/documents/{document_id}/download?inline=1", headers=outsider.headers),
        await client.delete(f"/api/v1/documents/{document_id}", headers=outsider.headers),
        await client.post(f"/api/v1/documents/{document_id}/complete", headers=outsider.headers),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert {answer.json()["internal_code"] for answer in answers} == {"estate_not_found", "document_not_found"}


async def test_download_redirects_to_a_read_sas_that_names_the_file(
    client: AsyncClient, broker_user: SignedIn, estate: Estate
) -> None:
    document_id = (await upload(client, broker_user, estate, PDF, "Salgsoppgave Tromsø.pdf")).json()["id"]

    response = await client.get(f"/api/v1/documents/{document_id}/download", headers=broker_user.headers)

    assert response.status_code == 307
    async with httpx.AsyncClient() as outside:
        blob = await outside.get(response.headers["location"])
    assert blob.status_code == 200
    assert blob.content == PDF
    assert blob.headers["content-disposition"] == (
        "attachment; filename=\"Salgsoppgave Troms_.pdf\"; filename*=UTF-8''Salgsoppgave%20Troms%C3%B8.pdf"
    )


async def test_inline_download_streams_with_ranges(client: AsyncClient, broker_user: SignedIn, estate: Estate) -> None:
    document_id = (await upload(client, broker_user, estate, PDF, "Tromsø.pdf")).json()["id"]
    path = f"/api/v1/documents/{document_id}/download?inline=1"

    whole = await client.get(path, headers=broker_user.headers)
    part = await client.get(path, headers={**broker_user.headers, "Range": "bytes=100-199"})
    tail = await client.get(path, headers={**broker_user.headers, "Range": "bytes=-10"})
    outside = await client.get(path, headers={**broker_user.headers, "Range": f"bytes={len(PDF)}-"})

    assert (whole.status_code, whole.content, whole.headers["content-type"]) == (200, PDF, "application/pdf")
    assert whole.headers["content-disposition"] == "inline; filename=\"Troms_.pdf\"; filename*=UTF-8''Troms%C3%B8.pdf"
    assert whole.headers["accept-ranges"] == "bytes"
    assert (part.status_code, part.content) == (206, PDF[100:200])
    assert part.headers["content-range"] == f"bytes 100-199/{len(PDF)}"
    assert (tail.status_code, tail.content) == (206, PDF[-10:])
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(PDF)}"


async def test_delete_hides_the_document_and_queues_the_purge(
    client: AsyncClient, session: AsyncSession, broker_user: SignedIn, estate: Estate
) -> None:
    document_id = (await upload(client, broker_user, estate, PDF)).json()["id"]

    deleted = await client.delete(f"/api/v1/documents/{document_id}", headers=broker_user.headers)

    assert deleted.status_code == 204
    for path in ("", "/download", "/download?inline=1"):
        assert (
            await client.get(f"/api/v1/documents/{document_id}{path}", headers=broker_user.headers)
        ).status_code == 404
    assert (await client.get(url(estate), headers=broker_user.headers)).json()["items"] == []
    assert (await client.delete(f"/api/v1/documents/{document_id}", headers=broker_user.headers)).status_code == 404
    purge = (await session.execute(select(Job).where(Job.kind == "documents.purge"))).scalars().all()
    assert [job.payload for job in purge] == [{"document_id": document_id}]


async def test_only_the_uploader_or_an_admin_deletes(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, admin: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    colleague = await signed_in(client, session, resources, organization, role=UserRole.BROKER)
    first = (await upload(client, broker_user, estate, PDF)).json()["id"]
    second = (await upload(client, broker_user, estate, PDF)).json()["id"]

    refused = await client.delete(f"/api/v1/documents/{first}", headers=colleague.headers)
    by_admin = await client.delete(f"/api/v1/documents/{second}", headers=admin.headers)

    assert refused.status_code == 403
    assert refused.json()["internal_code"] == "document_delete_forbidden"
    assert (await client.get(f"/api/v1/documents/{first}", headers=colleague.headers)).status_code == 200
    assert by_admin.status_code == 204


async def test_blob_storage_down_answers_503_and_stores_nothing(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    down = blob_settings(connection_string="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                         "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;")  # fmt: skip
    down_service = create_blob_service(down)
    try:
        with monkeypatch.context() as patch:
            # The gateway the services share (`service.blobs.blob_store`), over a client of an endpoint that is down.
            patch.setitem(resources._shared, blobs._build, BlobStore(down_service, down))
            response = await upload(client, broker_user, estate, PDF)
    finally:
        await down_service.close()

    assert response.status_code == 503
    assert response.json()["internal_code"] == "blob_storage_unavailable"
    assert "AccountKey" not in response.text
    assert await stored(session, resources, organization.id, estate.id) == (0, [])


async def test_a_client_that_disconnects_halfway_leaves_nothing(
    app: FastAPI, client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    broker_user: SignedIn, estate: Estate,
) -> None:  # fmt: skip
    messages = [
        {"type": "http.request", "body": PDF, "more_body": True},
        {"type": "http.request", "body": os.urandom(300_000), "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        return None

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": url(estate), "raw_path": url(estate).encode(), "query_string": b"filename=half.pdf", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-length", b"10000000"),
                    (b"authorization", broker_user.headers["Authorization"].encode())],
        "client": ("10.1.2.3", 1234), "server": ("testserver", 80), "state": {},
    }  # fmt: skip
    await app(scope, receive, send)

    assert await stored(session, resources, organization.id, estate.id) == (0, [])
    assert (await upload(client, broker_user, estate, PDF)).status_code == 201


async def test_uploads_are_counted_in_the_metrics(client: AsyncClient, broker_user: SignedIn, estate: Estate) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("estate_bff_documents_uploaded_total", path="api"),
        sample("estate_bff_document_bytes_uploaded_total", path="api"),
        sample("estate_bff_document_upload_duration_seconds_count", path="api"),
        sample("estate_bff_uploads_refused_total", reason="document_type_not_allowed"),
    )

    assert (await upload(client, broker_user, estate, PDF)).status_code == 201
    assert (await upload(client, broker_user, estate, b"\x7fELF" + bytes(100))).status_code == 415

    after = (
        sample("estate_bff_documents_uploaded_total", path="api"),
        sample("estate_bff_document_bytes_uploaded_total", path="api"),
        sample("estate_bff_document_upload_duration_seconds_count", path="api"),
        sample("estate_bff_uploads_refused_total", reason="document_type_not_allowed"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, len(PDF), 1, 1]
    exposed = (await client.get("/metrics")).text
    assert 'estate_bff_uploads_refused_total{reason="document_type_not_allowed"}' in exposed
