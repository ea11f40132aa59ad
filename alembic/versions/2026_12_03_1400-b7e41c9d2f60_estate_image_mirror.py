"""estate image mirror

Revision ID: b7e41c9d2f60
Revises: b872130d370f
Create Date: 2026-12-03 14:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e41c9d2f60"
down_revision: str | None = "b872130d370f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("estate_images", sa.Column("blob_name", sa.String(length=200), nullable=True))
    op.add_column("estate_images", sa.Column("content_type", sa.String(length=100), nullable=True))
    op.add_column("estate_images", sa.Column("size_bytes", sa.BigInteger(), nullable=True))
    op.add_column("estate_images", sa.Column("sha256", sa.String(length=64), nullable=True))
    op.add_column("estate_images", sa.Column("mirrored_at", sa.DateTime(timezone=True), nullable=True))
    # The mirror job looks only for images not mirrored yet: a small index however many are.
    op.create_index(
        "ix_estate_images_unmirrored",
        "estate_images",
        ["estate_id", "id"],
        postgresql_where=sa.text("mirrored_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_estate_images_unmirrored", table_name="estate_images")
    for column in ("mirrored_at", "sha256", "size_bytes", "content_type", "blob_name"):
        op.drop_column("estate_images", column)
