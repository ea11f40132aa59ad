"""documents

Revision ID: b872130d370f
Revises: e885db1cc8ff
Create Date: 2026-12-03 13:37:24.075443+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b872130d370f"
down_revision: str | None = "e885db1cc8ff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("estate_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("blob_name", sa.String(length=512), nullable=False),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        sa.Column("upload_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('upload', 'report', 'vitec')", name=op.f("ck_documents_kind")),
        sa.CheckConstraint(
            "status IN ('pending_upload', 'processing', 'available', 'failed')", name=op.f("ck_documents_status")
        ),
        sa.CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name=op.f("ck_documents_size_bytes")),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_documents_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_documents_job_id_jobs"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_documents_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_documents_uploaded_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("blob_name", name=op.f("uq_documents_blob_name")),
    )
    op.create_index(
        "ix_documents_estate_id_created_at_id",
        "documents",
        ["estate_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_documents_pending_upload_expires_at",
        "documents",
        ["upload_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending_upload'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_documents_pending_upload_expires_at",
        table_name="documents",
        postgresql_where=sa.text("status = 'pending_upload'"),
    )
    op.drop_index(
        "ix_documents_estate_id_created_at_id", table_name="documents", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_table("documents")
