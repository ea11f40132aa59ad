"""`reports.render`: a report of an estate, rendered in the worker and stored as a document.

Phases (the job's progress): data (the read model), images (Blob Storage mirror or Vitec), render
(typst, in a thread so heartbeats and cancellation keep working), upload (the blob gateway). The
document's id and blob name derive from the job's id, so a re-run of the same job overwrites the
same blob and can never add a second document. A report whose estate content, template and
template sources are unchanged since an available report answers that one (`reused: true`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.documents import DocumentKind, DocumentStatus, blob_name_for
from domain.jobs import JobKind, PermanentJobError
from domain.reports import ReportEstateGoneError, ReportTemplate, report_filename
from domain.users import Principal
from domain.vitec import EstateNotFoundError
from repository.documents import DocumentRepository
from repository.estates import EstateRepository
from repository.models import Document, Estate
from service.blobs import blob_store
from service.job_runner import JobContext
from service.jobs import IdempotencyRequest, JobService, JobStart
from service.report_rendering import render_report_in_thread, templates_digest
from service.reports import ImageSource, MirroredImages, ReportDataService, VitecImages
from service.unit_of_work import transaction
from service.vitec import vitec_client

PDF = "application/pdf"
# Report documents' ids are derived from their job's: a namespace of their own.
_DOCUMENT_IDS = uuid.UUID("5f0c7a56-2f4e-4b8e-9a51-0c8d3f1e6b27")


def mirrored_image_source(resources: Resources) -> ImageSource:
    return MirroredImages(blob_store(resources), VitecImages(vitec_client(resources)))


# Where the worker reads image bytes from (tests swap in camera-sized photos here).
image_source: Callable[[Resources], ImageSource] = mirrored_image_source


async def request_report(
    session: AsyncSession, jobs: JobService, principal: Principal, estate_id: uuid.UUID, template: ReportTemplate,
    idempotency: IdempotencyRequest | None,
) -> JobStart:  # fmt: skip
    """Queue a `reports.render` of one of the organization's live estates."""
    if await EstateRepository(session).get(principal.organization_id, estate_id) is None:
        raise EstateNotFoundError
    payload = {"estate_id": str(estate_id), "template": template.value, "requested_by": str(principal.user_id)}
    return await jobs.start(principal, JobKind.REPORTS_RENDER, payload=payload, idempotency=idempotency)


def report_document_id(job_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_DOCUMENT_IDS, str(job_id))


def fingerprint(template: ReportTemplate, estate: Estate) -> str:
    """What a report shows depends on: the template and its sources, and the estate's content."""
    return hashlib.sha256(f"{template.value}\n{templates_digest()}\n{estate.content_hash}".encode()).hexdigest()


async def render(context: JobContext) -> dict[str, Any]:
    """Render the report, upload it and record its document; or answer an unchanged earlier one.

    No database connection is held while images are fetched, the PDF rendered and uploaded (seconds
    for a large estate, and a pool of a few connections serves every job of the worker): the read
    model is read in one short unit of work, and the document is recorded through the job's session,
    which first touches the database then and commits the document with the job's success.
    """
    if context.organization_id is None:
        raise PermanentJobError("A report job belongs to an organization.", code="report_without_organization")
    template = ReportTemplate(str(context.payload["template"]))
    await context.progress(5, "data")
    async with transaction(context.resources) as session:
        loader = ReportDataService(session, context.resources, images=image_source(context.resources))
        try:
            estate_id = uuid.UUID(str(context.payload["estate_id"]))
            source = await loader.source(context.organization_id, estate_id, template)
        except EstateNotFoundError:
            raise ReportEstateGoneError("The estate was deleted before its report was rendered.") from None
        digest = fingerprint(template, source.estate)
        earlier = await DocumentRepository(session).live_report(source.estate.id, digest)
    # Only a report whose bytes are still stored is handed out again (a database restored without
    # its blobs would otherwise answer every download of it with a 404, for as long as the estate
    # stays unchanged); one HEAD of the blob, against a render.
    if earlier is not None and await blob_store(context.resources).properties(earlier.blob_name) is not None:
        return {"document_id": str(earlier.id), "reused": True}
    await context.progress(15, "images")
    images = await loader.images(source)
    await context.progress(45, "render")
    pdf = await render_report_in_thread(template, source.data(images, now=datetime.now(UTC)))
    await context.progress(85, "upload")
    document = await _store(context, template, source.estate, digest, pdf)
    return {"document_id": str(document.id), "reused": False}


async def _store(context: JobContext, template: ReportTemplate, estate: Estate, digest: str, pdf: bytes) -> Document:
    """Upload the PDF and add its document, both named after the job (a re-run overwrites, adds nothing)."""
    document_id = report_document_id(context.job_id)
    blob_name = blob_name_for(estate.organization_id, estate.id, document_id)
    await blob_store(context.resources).upload_bytes(blob_name, pdf, PDF)
    requested_by = context.payload.get("requested_by")
    return await DocumentRepository(context.session).add(
        Document(
            id=document_id, organization_id=estate.organization_id, estate_id=estate.id,
            kind=DocumentKind.REPORT.value, status=DocumentStatus.AVAILABLE.value,
            filename=report_filename(template, estate.street), content_type=PDF, size_bytes=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(), blob_name=blob_name,
            uploaded_by=uuid.UUID(str(requested_by)) if requested_by else None, job_id=context.job_id,
            report_template=template.value, report_fingerprint=digest,
        )
    )  # fmt: skip
