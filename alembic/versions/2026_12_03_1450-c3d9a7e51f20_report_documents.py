"""report documents: the template and the source fingerprint a report was rendered from

Revision ID: c3d9a7e51f20
Revises: b7e41c9d2f60
Create Date: 2026-12-03 14:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d9a7e51f20"
down_revision: str | None = "b7e41c9d2f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("report_template", sa.String(length=16), nullable=True))
    op.add_column("documents", sa.Column("report_fingerprint", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_documents_estate_id_report_fingerprint",
        "documents",
        ["estate_id", "report_fingerprint"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND report_fingerprint IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_documents_estate_id_report_fingerprint",
        table_name="documents",
        postgresql_where=sa.text("deleted_at IS NULL AND report_fingerprint IS NOT NULL"),
    )
    op.drop_column("documents", "report_fingerprint")
    op.drop_column("documents", "report_template")
