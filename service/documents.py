"""Documents of an estate: streamed and direct uploads, reads, downloads and deletion."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.logging import get_logger
from core.metrics import DOCUMENT_BYTES_UPLOADED, DOCUMENT_UPLOAD_DURATION, DOCUMENTS_UPLOADED, UPLOADS_REFUSED
from core.resources import Resources
from domain.blobs import SignedUrl
from domain.documents import (
    DocumentDeleteForbiddenError,
    DocumentKind,
    DocumentNotFoundError,
    DocumentStatus,
    DocumentTooLargeError,
    DocumentTypeNotAllowedError,
    blob_name_for,
    clean_filename,
    content_disposition,
)
from domain.errors import AppError
from domain.jobs import JobKind
from domain.pagination import Page, TimeKey, page_of
from domain.users import Principal
from domain.vitec import EstateNotFoundError
from repository.blob_store import BlobDownload
from repository.documents import DocumentRepository
from repository.estates import EstateRepository
from repository.models import Document, Estate
from service.blobs import blob_store
from service.document_streams import inspect_stream
from service.jobs import JobService
from service.unit_of_work import transaction

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DirectUpload:
    document: Document
    upload: SignedUrl


class DocumentService:
    """The documents of the caller's organization."""

    def __init__(self, session: AsyncSession, resources: Resources) -> None:
        self._session = session
        self._resources = resources
        self._documents = DocumentRepository(session)
        self._estates = EstateRepository(session)
        self._blobs = blob_store(resources)

    def check_declared_size(self, size: int | None) -> None:
        """Refuse a body whose declared length is over the limit before reading a byte of it."""
        check_declared_size(self._resources, size)

    async def request_upload_url(
        self, principal: Principal, estate_id: uuid.UUID, filename: str, content_type: str, size_bytes: int
    ) -> DirectUpload:
        """A `pending_upload` document and a write-only SAS URL for its one blob."""
        estate = await self._estate(principal, estate_id)
        self.check_declared_size(size_bytes)
        if content_type not in self._resources.settings.upload.allowed_types:
            UPLOADS_REFUSED.labels(reason=DocumentTypeNotAllowedError.code).inc()
            raise DocumentTypeNotAllowedError(f"{content_type} is not accepted.")
        document_id = uuid.uuid4()
        blob_name = blob_name_for(principal.organization_id, estate.id, document_id)
        upload = await self._blobs.write_url(blob_name)
        document = await self._documents.add(
            Document(
                id=document_id, organization_id=principal.organization_id, estate_id=estate.id,
                kind=DocumentKind.UPLOAD.value, status=DocumentStatus.PENDING_UPLOAD.value,
                filename=clean_filename(filename), content_type=content_type, size_bytes=size_bytes,
                blob_name=blob_name, uploaded_by=principal.user_id, upload_expires_at=upload.expires_at,
            )
        )  # fmt: skip
        return DirectUpload(document, upload)

    async def get(self, principal: Principal, document_id: uuid.UUID) -> Document:
        document = await self._documents.get_live(principal.organization_id, document_id)
        if document is None:
            raise DocumentNotFoundError
        return document

    async def list(
        self, principal: Principal, estate_id: uuid.UUID, *, limit: int, after: TimeKey | None
    ) -> Page[Document, TimeKey]:
        """An estate's documents (uploads, reports, Vitec documents), newest first."""
        estate = await self._estate(principal, estate_id)
        rows = await self._documents.list_page(estate.id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda document: (document.created_at, document.id))

    async def download_url(self, principal: Principal, document_id: uuid.UUID) -> SignedUrl:
        """A read-only SAS URL whose answer names the file (RFC 6266)."""
        document = await self._available(principal, document_id)
        disposition = content_disposition(document.filename)
        return await self._blobs.read_url(document.blob_name, content_disposition=disposition)

    async def open_download(
        self, principal: Principal, document_id: uuid.UUID, offset: int = 0, length: int | None = None
    ) -> tuple[Document, BlobDownload]:
        """The document and an open streamed read of its bytes (or of a range of them)."""
        document = await self._available(principal, document_id)
        download = await self._blobs.read(document.blob_name, offset, length)
        if download is None:
            logger.warning("document_blob_missing", document_id=str(document.id))
            raise DocumentNotFoundError
        return document, download

    async def delete(self, principal: Principal, document_id: uuid.UUID, jobs: JobService) -> None:
        """Hide the document at once; a `documents.purge` job removes its bytes (uploader or admin)."""
        document = await self.get(principal, document_id)
        if not principal.is_admin and document.uploaded_by != principal.user_id:
            raise DocumentDeleteForbiddenError
        await self._documents.update(document, deleted_at=datetime.now(UTC))
        await jobs.start(None, JobKind.DOCUMENTS_PURGE, organization_id=principal.organization_id,
                         payload={"document_id": str(document.id)})  # fmt: skip

    async def _available(self, principal: Principal, document_id: uuid.UUID) -> Document:
        document = await self.get(principal, document_id)
        if document.status != DocumentStatus.AVAILABLE:
            raise DocumentNotFoundError("The document has no bytes to download (yet).")
        return document

    async def _estate(self, principal: Principal, estate_id: uuid.UUID) -> Estate:
        estate = await self._estates.get(principal.organization_id, estate_id)
        if estate is None:
            raise EstateNotFoundError
        return estate


def check_declared_size(resources: Resources, size: int | None) -> None:
    """Refuse a body whose declared length is over the limit before reading a byte of it."""
    limit = resources.settings.upload.max_bytes
    if size is not None and size > limit:
        UPLOADS_REFUSED.labels(reason=DocumentTooLargeError.code).inc()
        raise DocumentTooLargeError(f"Uploads are limited to {limit} bytes.")


async def upload_streamed(
    resources: Resources, principal: Principal, estate_id: uuid.UUID, filename: str, body: AsyncIterator[bytes]
) -> Document:
    """Stream `body` into Blob Storage in blocks and record it; on any failure nothing stays.

    A client may take minutes to send a file: no database connection is held meanwhile. The estate
    is looked up in one short unit of work and the document recorded in another, whose failure
    (its commit included) removes the blob again.
    """
    async with transaction(resources) as session:
        estate = await EstateRepository(session).get(principal.organization_id, estate_id)
    if estate is None:
        raise EstateNotFoundError
    limits, blobs = resources.settings.upload, blob_store(resources)
    started = time.monotonic()
    document_id = uuid.uuid4()
    blob_name = blob_name_for(principal.organization_id, estate.id, document_id)
    try:
        stream = await inspect_stream(body, limits.allowed_types, limits.max_bytes)
        await blobs.upload(blob_name, stream.chunks(), stream.content_type)
    except AppError as exc:
        UPLOADS_REFUSED.labels(reason=exc.code).inc()
        raise
    try:
        async with transaction(resources) as session:
            document = await DocumentRepository(session).add(
                Document(
                    id=document_id, organization_id=principal.organization_id, estate_id=estate.id,
                    kind=DocumentKind.UPLOAD.value, status=DocumentStatus.AVAILABLE.value,
                    filename=clean_filename(filename), content_type=stream.content_type, size_bytes=stream.size,
                    sha256=stream.sha256, blob_name=blob_name, uploaded_by=principal.user_id,
                )
            )  # fmt: skip
    except BaseException:
        await blobs.delete(blob_name)
        raise
    count_upload("api", stream.size, time.monotonic() - started)
    return document


def count_upload(path: str, size: int, seconds: float) -> None:
    """Metrics of one stored upload."""
    DOCUMENTS_UPLOADED.labels(path=path).inc()
    DOCUMENT_BYTES_UPLOADED.labels(path=path).inc(size)
    DOCUMENT_UPLOAD_DURATION.labels(path=path).observe(seconds)
