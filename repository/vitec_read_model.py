"""The Vitec read model: batched upserts that leave unchanged rows untouched, and the sync's state."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal_column, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vitec import VitecDepartment, VitecEmployee, VitecEstate
from repository.models import (
    Department,
    Employee,
    Estate,
    EstateBroker,
    EstateImage,
    EstateVitecDocument,
    VitecSyncState,
)

BATCH = 500


def content_hash(raw: dict[str, Any]) -> str:
    """A fingerprint of a Vitec record: equal records, equal hash, whatever the key order."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(self.inserted + other.inserted, self.updated + other.updated)


class VitecReadModelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _upsert(self, model: Any, rows: list[dict[str, Any]], restore: bool = False) -> list[Any]:
        """Insert or update by (organization, Vitec id), only where the content hash changed (or, for
        estates, where the row had been marked deleted). Answers (id, vitec_id, inserted) per row written."""
        if not rows:
            return []
        table = model.__table__
        inserting = pg_insert(table).values(rows)
        changed = table.c.content_hash.is_distinct_from(inserting.excluded.content_hash)
        if restore:
            changed = or_(changed, table.c.deleted_at.is_not(None))
        keys = {"id", "organization_id", "vitec_id"}
        updates = {name: inserting.excluded[name] for name in rows[0] if name not in keys}
        statement = inserting.on_conflict_do_update(
            index_elements=[table.c.organization_id, table.c.vitec_id],
            set_={**updates, "updated_at": func.now(), **({"deleted_at": None} if restore else {})},
            where=changed,
        ).returning(table.c.id, table.c.vitec_id, (literal_column("xmax") == 0).label("inserted"))
        return list(await self.session.execute(statement))

    async def upsert_departments(
        self, organization_id: uuid.UUID, departments: Sequence[VitecDepartment]
    ) -> UpsertResult:
        rows = [
            {"organization_id": organization_id, "vitec_id": d.vitec_id, "name": d.name, "market_name": d.market_name,
             "email": d.email, "phone": d.phone, "street": d.street, "zip_code": d.zip_code, "city": d.city,
             "raw": d.raw, "content_hash": content_hash(d.raw)}
            for d in departments
        ]  # fmt: skip
        return _result(await self._upsert(Department, rows))

    async def upsert_employees(self, organization_id: uuid.UUID, employees: Sequence[VitecEmployee]) -> UpsertResult:
        rows = [
            {"organization_id": organization_id, "vitec_id": e.vitec_id, "name": e.name, "title": e.title,
             "email": e.email, "mobile_phone": e.mobile_phone, "department_vitec_ids": list(e.department_ids),
             "active": e.active, "raw": e.raw, "content_hash": content_hash(e.raw)}
            for e in employees
        ]  # fmt: skip
        return _result(await self._upsert(Employee, rows))

    async def department_ids(self, organization_id: uuid.UUID) -> dict[int, uuid.UUID]:
        rows = await self.session.execute(
            select(Department.vitec_id, Department.id).where(Department.organization_id == organization_id)
        )
        return {vitec_id: id_ for vitec_id, id_ in rows}

    async def employee_ids(self, organization_id: uuid.UUID) -> dict[str, uuid.UUID]:
        rows = await self.session.execute(
            select(Employee.vitec_id, Employee.id).where(Employee.organization_id == organization_id)
        )
        return {vitec_id: id_ for vitec_id, id_ in rows}

    async def estate_change_dates(self, organization_id: uuid.UUID) -> dict[str, tuple[datetime | None, bool]]:
        """Vitec id → (its stored changed date, whether it is marked deleted)."""
        rows = await self.session.execute(
            select(Estate.vitec_id, Estate.vitec_changed_at, Estate.deleted_at).where(
                Estate.organization_id == organization_id
            )
        )
        return {vitec_id: (changed_at, deleted_at is not None) for vitec_id, changed_at, deleted_at in rows}

    async def upsert_estates(
        self,
        organization_id: uuid.UUID,
        estates: Sequence[VitecEstate],
        departments: dict[int, uuid.UUID],
        employees: dict[str, uuid.UUID],
    ) -> UpsertResult:
        """Write the estates whose content changed, and replace their brokers, images and documents."""
        rows = [_estate_row(organization_id, estate, departments) for estate in estates]
        written = await self._upsert(Estate, rows, restore=True)
        if written:
            by_vitec_id = {estate.vitec_id: estate for estate in estates}
            await self._replace_children({row.id: by_vitec_id[row.vitec_id] for row in written}, employees)
        return _result(written)

    async def _replace_children(self, estates: dict[uuid.UUID, VitecEstate], employees: dict[str, uuid.UUID]) -> None:
        ids = list(estates)
        for model in (EstateBroker, EstateVitecDocument):
            await self.session.execute(delete(model).where(model.estate_id.in_(ids)))
        brokers = {
            (estate_id, b.employee_vitec_id, b.role.value): {
                "estate_id": estate_id, "employee_id": employees.get(b.employee_vitec_id),
                "employee_vitec_id": b.employee_vitec_id, "role": b.role.value, "role_code": b.role_code,
            }
            for estate_id, estate in estates.items() for b in estate.brokers
        }  # fmt: skip
        images = {
            (estate_id, i.vitec_id): {
                "estate_id": estate_id, "vitec_id": i.vitec_id, "sequence": i.sequence, "description": i.description,
                "category": i.category, "vitec_changed_at": i.changed_at,
            }
            for estate_id, estate in estates.items() for i in estate.images
        }  # fmt: skip
        await self._replace_images(ids, list(images.values()))
        documents = [
            {"estate_id": estate_id, "vitec_id": d.vitec_id, "doc_type": d.doc_type, "title": d.title,
             "extension": d.extension, "vitec_changed_at": d.changed_at}
            for estate_id, estate in estates.items() for d in estate.documents
        ]  # fmt: skip
        for model, values in ((EstateBroker, list(brokers.values())), (EstateVitecDocument, documents)):
            if values:
                await self.session.execute(insert(model), values)

    async def _replace_images(self, estate_ids: list[uuid.UUID], images: list[dict[str, Any]]) -> None:
        """Images keep their row (their id, and what was mirrored) while Vitec lists them. A new
        `changedDate`, or none at all (then nothing tells whether the bytes changed), clears
        `mirrored_at`: the mirror fetches the image again, and uploads it only if its hash moved."""
        gone = delete(EstateImage).where(EstateImage.estate_id.in_(estate_ids))
        if images:
            kept = [(row["estate_id"], row["vitec_id"]) for row in images]
            gone = gone.where(tuple_(EstateImage.estate_id, EstateImage.vitec_id).not_in(kept))
        await self.session.execute(gone)
        if not images:
            return
        inserting = pg_insert(EstateImage).values(images)
        new = inserting.excluded
        same_version = and_(new.vitec_changed_at.is_not(None), EstateImage.vitec_changed_at == new.vitec_changed_at)
        await self.session.execute(
            inserting.on_conflict_do_update(
                index_elements=[EstateImage.estate_id, EstateImage.vitec_id],
                set_={
                    "sequence": new.sequence,
                    "description": new.description,
                    "category": new.category,
                    "vitec_changed_at": new.vitec_changed_at,
                    "mirrored_at": case((same_version, EstateImage.mirrored_at), else_=None),
                },
            )
        )

    async def mark_missing_deleted(self, organization_id: uuid.UUID, present: set[str]) -> int:
        """A full listing shows which estates are gone: mark them deleted (once)."""
        stored = await self.session.execute(
            select(Estate.vitec_id).where(Estate.organization_id == organization_id, Estate.deleted_at.is_(None))
        )
        gone = [vitec_id for (vitec_id,) in stored if vitec_id not in present]
        for start in range(0, len(gone), BATCH):
            await self.session.execute(
                update(Estate)
                .where(Estate.organization_id == organization_id, Estate.vitec_id.in_(gone[start : start + BATCH]))
                .values(deleted_at=func.now(), updated_at=func.now())
            )
        return len(gone)

    async def counts(self, organization_id: uuid.UUID) -> tuple[int, int, int]:
        """Live totals: departments, employees, estates not deleted."""
        departments = await self.session.scalar(
            select(func.count()).select_from(Department).where(Department.organization_id == organization_id)
        )
        employees = await self.session.scalar(
            select(func.count()).select_from(Employee).where(Employee.organization_id == organization_id)
        )
        estates = await self.session.scalar(
            select(func.count())
            .select_from(Estate)
            .where(Estate.organization_id == organization_id, Estate.deleted_at.is_(None))
        )
        return int(departments or 0), int(employees or 0), int(estates or 0)

    async def sync_state(self, organization_id: uuid.UUID) -> VitecSyncState | None:
        result = await self.session.execute(
            select(VitecSyncState).where(VitecSyncState.organization_id == organization_id)
        )
        return result.scalars().one_or_none()

    async def refresh_statistics(self) -> None:
        """ANALYZE the read model's tables, in the sync's transaction (it samples the rows this
        transaction wrote, and the statistics commit with them). Right after a large sync the
        planner otherwise still believes the tables empty, and pages an estate list by sorting
        every row of the organization instead of walking its (updated_at, id) index: 20 ms instead
        of 0.2 ms for 10 000 estates, until autovacuum's ANALYZE comes around."""
        tables = ", ".join(model.__tablename__ for model in (Department, Employee, Estate, EstateBroker, EstateImage))
        await self.session.execute(text(f"ANALYZE {tables}"))

    async def save_sync_state(self, organization_id: uuid.UUID, **values: Any) -> None:
        statement = pg_insert(VitecSyncState).values(organization_id=organization_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[VitecSyncState.organization_id], set_={**values, "updated_at": func.now()}
            )
        )


def _estate_row(organization_id: uuid.UUID, e: VitecEstate, departments: dict[int, uuid.UUID]) -> dict[str, Any]:
    return {
        "organization_id": organization_id, "vitec_id": e.vitec_id,
        "department_id": departments.get(e.department_vitec_id) if e.department_vitec_id is not None else None,
        "assignment_number": e.assignment_number, "status": e.status, "status_code": e.status_code,
        "estate_type": e.estate_type, "estate_type_code": e.estate_type_code, "street": e.street,
        "zip_code": e.zip_code, "city": e.city, "heading": e.heading, "description": e.description,
        "asking_price": e.asking_price, "total_price": e.total_price, "primary_area": e.primary_area,
        "usable_area": e.usable_area, "rooms": e.rooms, "bedrooms": e.bedrooms,
        "construction_year": e.construction_year, "energy_letter": e.energy_letter,
        "vitec_changed_at": e.changed_at, "raw": e.raw, "content_hash": content_hash(e.raw),
    }  # fmt: skip


def _result(rows: list[Any]) -> UpsertResult:
    inserted = sum(1 for row in rows if row.inserted)
    return UpsertResult(inserted=inserted, updated=len(rows) - inserted)
