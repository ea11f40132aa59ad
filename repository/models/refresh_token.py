from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import BaseTableModel


class RefreshToken(BaseTableModel):
    """One issued refresh token; its `id` is the JWT's `jti`.

    Tokens rotate: each refresh spends one token and issues its child in the same `family_id`.
    A spent (`used_at`) or revoked token presented again revokes the whole family, whose row is
    the `AuthSession` with the id `family_id`.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id", "family_id"),
        Index("ix_refresh_tokens_expires_at", "expires_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
