from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from api.schemas.common import Collection


class Address(BaseModel):
    street: str | None
    zip_code: str | None
    city: str | None


class EstateListItem(BaseModel):
    id: uuid.UUID
    vitec_estate_id: str
    assignment_number: str | None
    status: str
    estate_type: str
    address: Address
    heading: str | None
    asking_price: Decimal | None
    department_id: uuid.UUID | None
    broker_ids: list[uuid.UUID]
    thumbnail_url: str | None
    vitec_changed_at: datetime | None
    updated_at: datetime


class Price(BaseModel):
    asking: Decimal | None
    total: Decimal | None


class Area(BaseModel):
    primary_room: Decimal | None
    usable: Decimal | None


class EstateImageRead(BaseModel):
    id: uuid.UUID
    sequence: int
    description: str | None
    category: str | None
    url: str


class BrokerRead(BaseModel):
    employee_id: uuid.UUID | None
    name: str | None
    role: str


class DepartmentRead(BaseModel):
    id: uuid.UUID
    vitec_department_id: int
    name: str
    market_name: str | None
    email: str | None
    phone: str | None
    address: Address


class EstateRead(EstateListItem):
    description: str | None
    price: Price
    area: Area
    rooms: int | None
    bedrooms: int | None
    construction_year: int | None
    energy_letter: str | None
    images: list[EstateImageRead]
    brokers: list[BrokerRead]
    department: DepartmentRead | None


class EmployeeRead(BaseModel):
    id: uuid.UUID
    vitec_employee_id: str
    name: str
    title: str | None
    email: str | None
    mobile_phone: str | None
    active: bool


class EstateCollection(Collection[EstateListItem]):
    pass


class DepartmentCollection(Collection[DepartmentRead]):
    pass


class EmployeeCollection(Collection[EmployeeRead]):
    pass
