"""Documents: the rows that describe files in Blob Storage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update

from domain.pagination import TimeKey
from repository.base import Repository
from repository.models import Document


class DocumentRepository(Repository[Document]):
    model = Document

    async def get_live(self, organization_id: uuid.UUID, document_id: uuid.UUID) -> Document | None:
        """The organization's document unless it was deleted."""
        return await self.one_or_none(
            select(Document).where(
                Document.id == document_id,
                Document.organization_id == organization_id,
                Document.deleted_at.is_(None),
            )
        )

    async def get_for_update(self, document_id: uuid.UUID) -> Document | None:
        """Any document (deleted too), locked for the rest of the transaction (the jobs' view)."""
        return await self.one_or_none(select(Document).where(Document.id == document_id).with_for_update())

    async def live_report(self, estate_id: uuid.UUID, fingerprint: str) -> Document | None:
        """The newest available, undeleted report of the estate rendered from `fingerprint`."""
        return await self.one_or_none(
            select(Document)
            .where(
                Document.estate_id == estate_id,
                Document.report_fingerprint == fingerprint,
                Document.status == "available",
                Document.deleted_at.is_(None),
            )
            .order_by(Document.created_at.desc())
            .limit(1)
        )

    async def list_page(self, estate_id: uuid.UUID, *, limit: int, after: TimeKey | None) -> Sequence[Document]:
        """An estate's live documents, newest first."""
        statement = select(Document).where(Document.estate_id == estate_id, Document.deleted_at.is_(None))
        if after is not None:
            statement = statement.where(tuple_(Document.created_at, Document.id) < tuple_(*after))
        return await self.all(statement.order_by(Document.created_at.desc(), Document.id.desc()).limit(limit))

    async def expire_pending_uploads(self, now: datetime, reason: str, limit: int) -> list[tuple[uuid.UUID, str]]:
        """Mark direct uploads still pending past their SAS expiry failed; answers (id, blob name)."""
        stale = (
            select(Document.id)
            .where(Document.status == "pending_upload", Document.upload_expires_at < now)
            .order_by(Document.upload_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            update(Document)
            .where(Document.id.in_(stale))
            .values(status="failed", failure_reason=reason, updated_at=now)
            .returning(Document.id, Document.blob_name)
        )
        return [(row.id, row.blob_name) for row in result]
