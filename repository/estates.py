"""ORM reads of the Vitec read model: one estate and its parts (documents, reports), departments and
employees in keyset pages. The API's estate list and detail are `repository/estate_reads.py`'s."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.pagination import TimeKey
from repository.models import Department, Employee, Estate, EstateBroker, EstateImage


@dataclass(frozen=True, slots=True)
class BrokerOnEstate:
    employee_id: uuid.UUID | None
    name: str | None
    role: str


class EstateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, organization_id: uuid.UUID, estate_id: uuid.UUID) -> Estate | None:
        statement = select(Estate).where(
            Estate.id == estate_id, Estate.organization_id == organization_id, Estate.deleted_at.is_(None)
        )
        return (await self.session.execute(statement)).scalars().one_or_none()

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
