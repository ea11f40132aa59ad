"""The read model of each organization's Vitec data, kept by the sync.

Every table keeps Vitec's id (unique per organization), the mapped columns the API serves, the raw
JSON (so a mapping can change without refetching) and a hash of the mapped content: an upsert
whose hash is unchanged touches nothing, so `updated_at` moves only when the content did.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import BaseTableModel, UpdatedAtMixin

_ORGANIZATION = "organizations.id"


class Department(UpdatedAtMixin, BaseTableModel):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organization_id", "vitec_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(_ORGANIZATION, ondelete="CASCADE"))
    vitec_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    market_name: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(300))
    zip_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(120))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))


class Employee(UpdatedAtMixin, BaseTableModel):
    __tablename__ = "employees"
    __table_args__ = (UniqueConstraint("organization_id", "vitec_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(_ORGANIZATION, ondelete="CASCADE"))
    vitec_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    mobile_phone: Mapped[str | None] = mapped_column(String(64))
    department_vitec_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    active: Mapped[bool]
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))


class Estate(UpdatedAtMixin, BaseTableModel):
    """An estate; `deleted_at` is set when a full sync no longer finds it in Vitec."""

    __tablename__ = "estates"
    __table_args__ = (
        UniqueConstraint("organization_id", "vitec_id"),
        # Keyset pages of the list, newest change first, within an organization.
        Index("ix_estates_organization_id_updated_at_id", "organization_id", "updated_at", "id"),
        Index("ix_estates_organization_id_status", "organization_id", "status"),
        Index("ix_estates_organization_id_department_id", "organization_id", "department_id"),
        # Free text: every word of `q` must occur in the address or heading (trigram index).
        Index(
            "ix_estates_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(_ORGANIZATION, ondelete="CASCADE"))
    vitec_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    assignment_number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    status_code: Mapped[int | None]
    estate_type: Mapped[str] = mapped_column(String(32))
    estate_type_code: Mapped[int | None]
    street: Mapped[str | None] = mapped_column(String(300))
    zip_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(120))
    heading: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    asking_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    total_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    primary_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    usable_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    rooms: Mapped[int | None]
    bedrooms: Mapped[int | None]
    construction_year: Mapped[int | None]
    energy_letter: Mapped[str | None] = mapped_column(String(8))
    vitec_changed_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(
            "lower(coalesce(street, '') || ' ' || coalesce(zip_code, '') || ' ' || coalesce(city, '') || ' ' "
            "|| coalesce(heading, ''))",
            persisted=True,
        ),
    )
    # What a list item shows of the estate's brokers and images, kept on the row by triggers on
    # estate_brokers and estate_images (migration d4f81a2c6e07): our employee ids in a broker role
    # (by role code, then id), and the first image with its blob once mirrored. Never written here.
    broker_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), server_default=text("'{}'"))
    thumbnail_image_id: Mapped[uuid.UUID | None]
    thumbnail_blob_name: Mapped[str | None] = mapped_column(String(200))


class EstateBroker(BaseTableModel):
    """An employee in a broker role on an estate; `employee_id` once that employee is synced."""

    __tablename__ = "estate_brokers"
    __table_args__ = (
        UniqueConstraint("estate_id", "employee_vitec_id", "role"),
        Index("ix_estate_brokers_employee_id", "employee_id"),
    )

    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    employee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    employee_vitec_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    role_code: Mapped[int | None]


class EstateImage(BaseTableModel):
    """An estate image; once mirrored (`mirrored_at`), its bytes are the blob `blob_name` in Blob Storage.

    A sync that sees a new Vitec `changedDate` clears `mirrored_at` (the mirror fetches it again)
    but keeps the rest, so bytes that did not change are not uploaded again.
    """

    __tablename__ = "estate_images"
    __table_args__ = (
        UniqueConstraint("estate_id", "vitec_id"),
        Index("ix_estate_images_unmirrored", "estate_id", "id", postgresql_where=text("mirrored_at IS NULL")),
    )

    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    vitec_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int]
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(120))
    vitec_changed_at: Mapped[datetime | None]
    blob_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    mirrored_at: Mapped[datetime | None]


class EstateVitecDocument(BaseTableModel):
    """Metadata of a document Vitec holds for an estate (the bytes are mirrored by a later task)."""

    __tablename__ = "estate_vitec_documents"
    __table_args__ = (UniqueConstraint("estate_id", "vitec_id"),)

    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    vitec_id: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(Text)
    extension: Mapped[str | None] = mapped_column(String(16))
    vitec_changed_at: Mapped[datetime | None]


class VitecSyncState(UpdatedAtMixin, BaseTableModel):
    """Per organization: the estates watermark and the last success (attempts and errors are the
    `vitec.sync` jobs themselves)."""

    __tablename__ = "vitec_sync_states"
    __table_args__ = (UniqueConstraint("organization_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(_ORGANIZATION, ondelete="CASCADE"))
    watermark: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
