"""Documents: streamed uploads, direct uploads with a SAS URL, listing, downloads and deletion."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from api.deps import CurrentPrincipal, CursorCodecDep, JobServiceDep, ResourcesDep, SessionDep
from api.exceptions import AUTH_ERRORS, JOB_CREATE_ERRORS, error_responses
from api.input_guard import streams_body
from api.pagination import Cursor, Limit
from api.responses import job_accepted
from api.schemas.documents import CompleteRequest, DocumentCollection, DocumentRead, UploadUrlRead, UploadUrlRequest
from api.schemas.jobs import JobRead
from api.uploads import MultipartFile, multipart_boundary, request_body
from domain.blobs import BlobStorageUnavailableError
from domain.documents import (
    DocumentDeleteForbiddenError,
    DocumentEmptyError,
    DocumentFileMissingError,
    DocumentFilenameMissingError,
    DocumentNotFoundError,
    DocumentNotPendingError,
    DocumentTooLargeError,
    DocumentTypeNotAllowedError,
    DocumentUploadMissingError,
    DocumentUploadRejectedError,
    RangeNotSatisfiableError,
    UploadIncompleteError,
    UploadMalformedError,
    byte_range,
    content_disposition,
)
from domain.errors import InvalidCursorError
from domain.vitec import EstateNotFoundError
from service.document_jobs import complete_upload
from service.documents import DocumentService, check_declared_size, upload_streamed

router = APIRouter(tags=["documents"])


async def get_document_service(session: SessionDep, resources: ResourcesDep) -> DocumentService:
    return DocumentService(session, resources)


DocumentServiceDep = Annotated[DocumentService, Depends(get_document_service)]

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
UPLOAD_ERRORS = (
    *AUTH_ERRORS, EstateNotFoundError, DocumentTooLargeError, DocumentTypeNotAllowedError, DocumentEmptyError,
    DocumentFileMissingError, DocumentFilenameMissingError, UploadIncompleteError, UploadMalformedError,
    BlobStorageUnavailableError,
)  # fmt: skip


@router.post(
    "/estates/{estate_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentRead,
    responses=error_responses(*UPLOAD_ERRORS),
    openapi_extra=_UPLOAD_BODY,
)
@streams_body  # its limit is UPLOAD_MAX_BYTES, held as the body streams in
async def upload_document(
    estate_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    resources: ResourcesDep,
    filename: Annotated[str | None, Query(max_length=4096, description="The file's name, for a raw body.")] = None,
) -> DocumentRead:
    """Upload a file: multipart with a `file` part, or the raw bytes with `?filename=`. Streamed into
    Blob Storage as it arrives; the type is read from the bytes and must be allowed."""
    declared = request.headers.get("content-length")
    check_declared_size(resources, int(declared) if declared and declared.isdigit() else None)
    boundary = multipart_boundary(request.headers.get("content-type", ""))
    if boundary is not None:
        name, body = await MultipartFile(boundary, request_body(request)).open()
    elif filename is None:
        raise DocumentFilenameMissingError
    else:
        name, body = filename, request_body(request)
    return DocumentRead.model_validate(await upload_streamed(resources, principal, estate_id, name, body))


@router.post(
    "/estates/{estate_id}/documents/upload-url",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadUrlRead,
    responses=error_responses(
        *AUTH_ERRORS,
        EstateNotFoundError,
        DocumentTooLargeError,
        DocumentTypeNotAllowedError,
        BlobStorageUnavailableError,
    ),
)
async def create_upload_url(
    estate_id: uuid.UUID, body: UploadUrlRequest, principal: CurrentPrincipal, service: DocumentServiceDep
) -> UploadUrlRead:
    """A write-only SAS URL (valid at most 15 minutes) for the browser to PUT one file to directly."""
    direct = await service.request_upload_url(principal, estate_id, body.filename, body.content_type, body.size_bytes)
    return UploadUrlRead(
        document_id=direct.document.id,
        upload_url=direct.upload.url,
        expires_at=direct.upload.expires_at,
        required_headers={"x-ms-blob-type": "BlockBlob", "Content-Type": body.content_type},
    )


@router.post(
    "/documents/{document_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses=error_responses(
        *JOB_CREATE_ERRORS,
        DocumentNotFoundError,
        DocumentNotPendingError,
        DocumentUploadMissingError,
        DocumentUploadRejectedError,
        BlobStorageUnavailableError,
    ),
)
async def complete_document_upload(
    document_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    jobs: JobServiceDep,
    body: CompleteRequest | None = None,
) -> Response:
    """The direct upload is done: a `documents.finalize` job reads it back and checks size, type and
    SHA-256, then marks the document available (or failed, deleting the bytes)."""
    sha256 = body.sha256 if body is not None else None
    return job_accepted(await complete_upload(session, resources, jobs, principal, document_id, sha256))


@router.get(
    "/estates/{estate_id}/documents",
    response_model=DocumentCollection,
    responses=error_responses(*AUTH_ERRORS, EstateNotFoundError, InvalidCursorError),
)
async def list_documents(
    estate_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: DocumentServiceDep,
    codec: CursorCodecDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DocumentCollection:
    """An estate's documents (uploads, reports, Vitec documents), newest first."""
    page = await service.list(principal, estate_id, limit=limit, after=codec.decode_time_id(cursor))
    items = [DocumentRead.model_validate(document) for document in page.items]
    return DocumentCollection(items=items, next_cursor=codec.encode_time_id(page.next_key))


@router.get(
    "/documents/{document_id}",
    response_model=DocumentRead,
    responses=error_responses(*AUTH_ERRORS, DocumentNotFoundError),
)
async def read_document(
    document_id: uuid.UUID, principal: CurrentPrincipal, service: DocumentServiceDep
) -> DocumentRead:
    """A document's metadata."""
    return DocumentRead.model_validate(await service.get(principal, document_id))


@router.get(
    "/documents/{document_id}/download",
    response_class=Response,
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={
        307: {"description": "To a read-only SAS URL (valid at most 15 minutes) that names the file."},
        # The document's own (sniffed) type: one of UPLOAD_ALLOWED_TYPES, or PDF for a report.
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "`?inline=1`: the bytes.",
        },
        206: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "`?inline=1` with `Range`: the requested bytes.",
        },
        **error_responses(*AUTH_ERRORS, DocumentNotFoundError, RangeNotSatisfiableError, BlobStorageUnavailableError),
    },
)
async def download_document(
    document_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    service: DocumentServiceDep,
    inline: Annotated[bool, Query(description="Stream the bytes through the API (with Range support).")] = False,
) -> Response:
    """Download a document: a redirect to Blob Storage, or with `?inline=1` the bytes from here."""
    if not inline:
        signed = await service.download_url(principal, document_id)
        return RedirectResponse(signed.url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    document = await service.get(principal, document_id)
    wanted = byte_range(request.headers.get("range"), document.size_bytes or 0)
    offset, length = (wanted[0], wanted[1] - wanted[0] + 1) if wanted else (0, None)
    document, download = await service.open_download(principal, document_id, offset, length)
    headers = {
        "Content-Length": str(download.length),
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(document.filename, inline=True),
        # Served from our origin: whatever the file holds must not run as part of the app.
        "Content-Security-Policy": "sandbox",
    }
    if wanted:
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{download.size}"
    return StreamingResponse(
        download.chunks,
        status_code=status.HTTP_206_PARTIAL_CONTENT if wanted else status.HTTP_200_OK,
        media_type=document.content_type or "application/octet-stream",
        headers=headers,
    )


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*AUTH_ERRORS, DocumentNotFoundError, DocumentDeleteForbiddenError),
)
async def delete_document(
    document_id: uuid.UUID, principal: CurrentPrincipal, service: DocumentServiceDep, jobs: JobServiceDep
) -> Response:
    """Delete a document (its uploader or an admin): gone at once, its bytes removed by a job."""
    await service.delete(principal, document_id, jobs)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
