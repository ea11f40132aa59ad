"""Reads of the Vitec read model for the API: estates with keyset pages and filters, departments,
employees. A page costs a constant number of queries, however many items it holds."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from domain.estates import EstateFilters
from repository.models import Department, Employee, Estate, EstateBroker, EstateImage

TimeKey = tuple[datetime, uuid.UUID]


@dataclass(frozen=True, slots=True)
class EstateListRow:
    """The columns an estate list item shows: read as plain rows, with no ORM object per estate
    (hydrating 50 wide entities dominated an uncached page)."""

    id: uuid.UUID
    vitec_id: str
    assignment_number: str | None
    status: str
    estate_type: str
    street: str | None
    zip_code: str | None
    city: str | None
    heading: str | None
    asking_price: Decimal | None
    department_id: uuid.UUID | None
    vitec_changed_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, estate: Estate) -> EstateListRow:
        return cls(*(getattr(estate, name) for name in cls.__slots__))


_LIST_COLUMNS = [getattr(Estate, name) for name in EstateListRow.__slots__]


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """An estate's first image, and its blob once mirrored."""

    image_id: uuid.UUID
    blob_name: str | None


@dataclass(frozen=True, slots=True)
class BrokerOnEstate:
    employee_id: uuid.UUID | None
    name: str | None
    role: str


class EstateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_page(
        self, organization_id: uuid.UUID, filters: EstateFilters, *, limit: int, after: TimeKey | None
    ) -> list[EstateListRow]:
        """Live estates, most recently changed first, keyed by (updated_at, id): only the columns a
        list item shows."""
        statement = select(*_LIST_COLUMNS).where(Estate.organization_id == organization_id, Estate.deleted_at.is_(None))
        if filters.statuses:
            statement = statement.where(Estate.status.in_(filters.statuses))
        if filters.department_id is not None:
            statement = statement.where(Estate.department_id == filters.department_id)
        if filters.broker_id is not None:
            statement = statement.where(
                exists().where(EstateBroker.estate_id == Estate.id, EstateBroker.employee_id == filters.broker_id)
            )
        for word in filters.words:  # every word must occur; the trigram index serves LIKE
            statement = statement.where(Estate.search_text.contains(word.lower(), autoescape=True))
        if filters.updated_since is not None:
            statement = statement.where(Estate.updated_at >= filters.updated_since)
        if after is not None:
            statement = statement.where(tuple_(Estate.updated_at, Estate.id) < tuple_(*after))
        statement = statement.order_by(Estate.updated_at.desc(), Estate.id.desc()).limit(limit)
        return [EstateListRow(*row) for row in await self.session.execute(statement)]

    async def get(self, organization_id: uuid.UUID, estate_id: uuid.UUID) -> Estate | None:
        statement = select(Estate).where(
            Estate.id == estate_id, Estate.organization_id == organization_id, Estate.deleted_at.is_(None)
        )
        return (await self.session.execute(statement)).scalars().one_or_none()

    async def broker_ids(self, estate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Our employee ids in any broker role, per estate (one query for a whole page)."""
        rows = await self.session.execute(
            select(EstateBroker.estate_id, EstateBroker.employee_id)
            .where(EstateBroker.estate_id.in_(estate_ids), EstateBroker.employee_id.is_not(None))
            .order_by(EstateBroker.estate_id, EstateBroker.role)
        )
        brokers: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for estate_id, employee_id in rows:
            if employee_id is not None and employee_id not in brokers[estate_id]:
                brokers[estate_id].append(employee_id)
        return brokers

    async def thumbnails(self, estate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Thumbnail]:
        """The first image of each estate (one query for a whole page)."""
        rows = await self.session.execute(
            select(EstateImage.estate_id, EstateImage.id, EstateImage.blob_name, EstateImage.mirrored_at)
            .where(EstateImage.estate_id.in_(estate_ids))
            .order_by(EstateImage.estate_id, EstateImage.sequence)
            .ext(distinct_on(EstateImage.estate_id))
        )
        return {
            estate_id: Thumbnail(image_id, blob_name if mirrored_at is not None else None)
            for estate_id, image_id, blob_name, mirrored_at in rows
        }

    async def images(self, estate_id: uuid.UUID) -> Sequence[EstateImage]:
        statement = select(EstateImage).where(EstateImage.estate_id == estate_id).order_by(EstateImage.sequence)
        return (await self.session.execute(statement)).scalars().all()

    async def image(self, estate_id: uuid.UUID, image_id: uuid.UUID) -> EstateImage | None:
        statement = select(EstateImage).where(EstateImage.estate_id == estate_id, EstateImage.id == image_id)
        return (await self.session.execute(statement)).scalars().one_or_none()

    async def brokers(self, estate_id: uuid.UUID) -> list[BrokerOnEstate]:
        rows = await self.session.execute(
            select(EstateBroker.employee_id, Employee.name, EstateBroker.role)
            .outerjoin(Employee, Employee.id == EstateBroker.employee_id)
            .where(EstateBroker.estate_id == estate_id)
            .order_by(EstateBroker.role_code, Employee.name)
        )
        return [BrokerOnEstate(employee_id, name, role) for employee_id, name, role in rows]

    async def department(self, department_id: uuid.UUID | None) -> Department | None:
        return None if department_id is None else await self.session.get(Department, department_id)

    async def employee(self, employee_id: uuid.UUID) -> Employee | None:
        return await self.session.get(Employee, employee_id)

    async def departments_page(
        self, organization_id: uuid.UUID, *, limit: int, after: TimeKey | None
    ) -> Sequence[Department]:
        statement = select(Department).where(Department.organization_id == organization_id)
        if after is not None:
            statement = statement.where(tuple_(Department.created_at, Department.id) > tuple_(*after))
        statement = statement.order_by(Department.created_at, Department.id).limit(limit)
        return (await self.session.execute(statement)).scalars().all()

    async def employees_page(
        self, organization_id: uuid.UUID, *, limit: int, after: TimeKey | None
    ) -> Sequence[Employee]:
        statement = select(Employee).where(Employee.organization_id == organization_id)
        if after is not None:
            statement = statement.where(tuple_(Employee.created_at, Employee.id) > tuple_(*after))
        statement = statement.order_by(Employee.created_at, Employee.id).limit(limit)
        return (await self.session.execute(statement)).scalars().all()
