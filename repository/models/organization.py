from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import BaseTableModel, UpdatedAtMixin


class Organization(UpdatedAtMixin, BaseTableModel):
    """One brokerage firm: one Vitec installation."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200))
    vitec_installation_id: Mapped[str] = mapped_column(String(64), unique=True)
