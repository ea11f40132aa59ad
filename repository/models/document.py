from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import BaseTableModel, UpdatedAtMixin


class Document(UpdatedAtMixin, BaseTableModel):
    """A file of an estate: its bytes in Blob Storage under `blob_name`, its facts here.

    `filename` is display text only; `deleted_at` hides the document at once, the purge job then
    removes the bytes. A direct upload is `pending_upload` until `upload_expires_at`.
    """

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("kind IN ('upload', 'report', 'vitec')", name="kind"),
        CheckConstraint("status IN ('pending_upload', 'processing', 'available', 'failed')", name="status"),
        CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="size_bytes"),
        # An estate's documents, newest first, in keyset pages.
        Index(
            "ix_documents_estate_id_created_at_id",
            "estate_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # maintenance.cleanup's scan for abandoned direct uploads.
        Index(
            "ix_documents_pending_upload_expires_at",
            "upload_expires_at",
            postgresql_where=text("status = 'pending_upload'"),
        ),
        # A report job's look-up of a report of the same estate content it may answer instead.
        Index(
            "ix_documents_estate_id_report_fingerprint",
            "estate_id",
            "report_fingerprint",
            postgresql_where=text("deleted_at IS NULL AND report_fingerprint IS NOT NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    blob_name: Mapped[str] = mapped_column(String(512), unique=True)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    upload_expires_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None]
    # Reports only: the template, and a digest of what it was rendered from (see service.report_jobs).
    report_template: Mapped[str | None] = mapped_column(String(16))
    report_fingerprint: Mapped[str | None] = mapped_column(String(64))
