"""Declarative base: constraint names by convention, UUID keys, server-side timestamps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Predictable constraint names keep Alembic autogenerate and hand-written migrations in step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True), uuid.UUID: UUID(as_uuid=True)}


class BaseTableModel(Base):
    """A table with a UUID primary key and a `created_at` the database sets."""

    __abstract__ = True
    # Server defaults (created_at, updated_at) come back through RETURNING, never a lazy load.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy declares its type

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class UpdatedAtMixin:
    """`updated_at`, moved by the ORM on every UPDATE of the row."""

    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
