from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import BaseTableModel, UpdatedAtMixin


class User(UpdatedAtMixin, BaseTableModel):
    """A broker or office admin of one organization; `email` is stored lower-case."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'broker')", name="role"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        # Keyset pages within an organization walk (created_at, id).
        Index("ix_users_organization_id_created_at_id", "organization_id", "created_at", "id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    last_login_at: Mapped[datetime | None]
