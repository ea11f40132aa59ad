"""Estates to attach documents to, and bodies to upload."""

from __future__ import annotations

import io
import uuid
import zipfile

from sqlalchemy.ext.asyncio import AsyncSession

from repository.models import Estate, Organization

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 400 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


async def create_estate(session: AsyncSession, organization: Organization) -> Estate:
    estate = Estate(
        organization_id=organization.id,
        vitec_id=f"E{uuid.uuid4().hex[:10]}",
        status="for_sale",
        estate_type="detached",
        street="Storgata 1",
        raw={},
        content_hash="0" * 64,
    )
    session.add(estate)
    await session.flush()
    return estate


def office_file(main_part: str) -> bytes:
    """A minimal OOXML archive: `word/document.xml` for DOCX, `xl/workbook.xml` for XLSX."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, "<root/>" * 50)
    return buffer.getvalue()
