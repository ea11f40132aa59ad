"""The slow halves of documents: verifying a direct upload (`documents.finalize`), removing a
deleted document's bytes (`documents.purge`), and dropping abandoned direct uploads (cleanup)."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.logging import get_logger
from core.metrics import UPLOADS_REFUSED
from core.resources import Resources
from domain.documents import (
    SNIFF_BYTES,
    DocumentNotPendingError,
    DocumentStatus,
    DocumentUploadMissingError,
    DocumentUploadRejectedError,
    sniff_content_type,
)
from domain.jobs import JobKind, PermanentJobError
from domain.users import Principal
from repository.blob_store import BlobStore
from repository.documents import DocumentRepository
from repository.models import Document
from service.blobs import blob_store
from service.documents import DocumentService, count_upload
from service.job_runner import JobContext
from service.jobs import JobService, JobStart

logger = get_logger(__name__)

# A direct upload may still be running when its SAS expires (each block is checked when it starts).
PENDING_UPLOAD_GRACE = timedelta(minutes=15)
EXPIRED_UPLOADS_PER_RUN = 1000


class DocumentRejected(PermanentJobError):
    """The verified bytes are wrong: the job fails, and the document's `failed` state is kept."""

    code = "document_upload_rejected"
    persist_changes = True


@dataclass(frozen=True, slots=True)
class Verdict:
    size: int
    content_type: str | None
    sha256: str | None


async def complete_upload(
    session: AsyncSession, resources: Resources, jobs: JobService, principal: Principal, document_id: uuid.UUID,
    sha256: str | None,
) -> JobStart:  # fmt: skip
    """Check what is in Blob Storage now (existence, size, type), then queue the full verification."""
    document = await DocumentService(session, resources).get(principal, document_id)
    if document.status != DocumentStatus.PENDING_UPLOAD:
        raise DocumentNotPendingError
    blobs = blob_store(resources)
    info = await blobs.properties(document.blob_name)
    if info is None:
        raise DocumentUploadMissingError
    head = await _head(blobs, document.blob_name) if info.size else b""
    problem = _problem(document, resources, Verdict(info.size, sniff_content_type(head), None), None)
    if problem is not None:
        await _reject(session, blobs, document, problem)
        raise DocumentUploadRejectedError(problem)
    start = await jobs.start(
        principal, JobKind.DOCUMENTS_FINALIZE, payload={"document_id": str(document.id), "sha256": sha256}
    )
    await DocumentRepository(session).update(document, status=DocumentStatus.PROCESSING.value, job_id=start.job.id)
    return start


async def finalize(context: JobContext) -> dict[str, Any]:
    """Read the uploaded blob back; the document becomes available, or failed with its bytes gone."""
    repository = DocumentRepository(context.session)
    document = await repository.get_for_update(uuid.UUID(str(context.payload["document_id"])))
    if document is None or document.status != DocumentStatus.PROCESSING or document.deleted_at is not None:
        return {"status": document.status if document else "missing"}  # done before, or deleted since
    blobs = blob_store(context.resources)
    started = time.monotonic()
    verdict = await _read_back(blobs, document, context)
    problem = _problem(document, context.resources, verdict, context.payload.get("sha256"))
    if problem is not None:
        await _reject(context.session, blobs, document, problem)
        raise DocumentRejected(problem)
    await repository.update(
        document, status=DocumentStatus.AVAILABLE.value, content_type=verdict.content_type, sha256=verdict.sha256
    )
    count_upload("direct", verdict.size, time.monotonic() - started)
    return {"document_id": str(document.id), "status": document.status, "size_bytes": verdict.size}


async def purge(context: JobContext) -> dict[str, Any]:
    """Remove a deleted document's bytes (a retry after an outage just deletes again)."""
    document = await DocumentRepository(context.session).get_for_update(uuid.UUID(str(context.payload["document_id"])))
    if document is None or document.deleted_at is None:
        return {"deleted": False}
    return {"deleted": await blob_store(context.resources).delete(document.blob_name)}


async def expire_pending_uploads(session: AsyncSession, resources: Resources) -> int:
    """Fail direct uploads still pending past their SAS expiry, and delete whatever they left."""
    cutoff = datetime.now(UTC) - PENDING_UPLOAD_GRACE
    expired = await DocumentRepository(session).expire_pending_uploads(
        cutoff, "The upload URL expired before the upload was completed.", EXPIRED_UPLOADS_PER_RUN
    )
    blobs = blob_store(resources)
    for _, blob_name in expired:
        await blobs.delete(blob_name)
    return len(expired)


async def _head(blobs: BlobStore, blob_name: str) -> bytes:
    download = await blobs.read(blob_name, 0, SNIFF_BYTES)
    if download is None:
        return b""
    return b"".join([chunk async for chunk in download.chunks])


async def _read_back(blobs: BlobStore, document: Document, context: JobContext) -> Verdict:
    download = await blobs.read(document.blob_name)
    if download is None:
        return Verdict(0, None, None)
    digest, head, size = hashlib.sha256(), bytearray(), 0
    async for chunk in download.chunks:
        digest.update(chunk)
        size += len(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        await context.progress(size * 100 // max(download.size, 1))
    return Verdict(size, sniff_content_type(bytes(head)), digest.hexdigest())


def _problem(document: Document, resources: Resources, verdict: Verdict, sha256: object) -> str | None:
    """Why the uploaded bytes cannot become this document, or None when they can."""
    if verdict.size == 0:
        return "Nothing was uploaded, or the file is empty."
    if verdict.size != document.size_bytes:
        return f"{verdict.size} bytes arrived; {document.size_bytes} were announced."
    if verdict.content_type is None or verdict.content_type not in resources.settings.upload.allowed_types:
        return f"The bytes are {verdict.content_type or 'of an unknown type'}, which is not accepted."
    if sha256 and verdict.sha256 is not None and str(sha256).lower() != verdict.sha256:
        return "The SHA-256 of the uploaded bytes differs from the one given."
    return None


async def _reject(session: AsyncSession, blobs: BlobStore, document: Document, reason: str) -> None:
    UPLOADS_REFUSED.labels(reason=DocumentUploadRejectedError.code).inc()
    await blobs.delete(document.blob_name)
    await DocumentRepository(session).update(document, status=DocumentStatus.FAILED.value, failure_reason=reason)
    logger.info("document_upload_rejected", document_id=str(document.id), reason=reason)
