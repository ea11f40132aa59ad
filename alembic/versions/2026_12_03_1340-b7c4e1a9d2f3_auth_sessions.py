"""auth sessions: one row per sign-in, the revocation source of its access tokens

Revision ID: b7c4e1a9d2f3
Revises: 287d92dba51c
Create Date: 2026-12-03 13:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c4e1a9d2f3"
down_revision: str | None = "287d92dba51c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"], unique=False)
    # Existing families become sessions; one with any revoked token was revoked as a whole.
    op.execute(
        """
        INSERT INTO auth_sessions (id, user_id, created_at, revoked_at)
        SELECT family_id, (array_agg(user_id))[1], min(created_at), min(revoked_at)
        FROM refresh_tokens GROUP BY family_id
        """
    )
    op.create_foreign_key(
        op.f("fk_refresh_tokens_family_id_auth_sessions"),
        "refresh_tokens",
        "auth_sessions",
        ["family_id"],
        ["id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_refresh_tokens_family_id_auth_sessions"), "refresh_tokens", type_="foreignkey")
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
