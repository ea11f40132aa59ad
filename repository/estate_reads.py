"""The estate list and the estate detail as the API serves them: one statement each, on asyncpg.

These are the read model's hottest reads. Each is one round trip with only the columns the answer
shows: the list page brings each estate's broker ids and first image along (a correlated array and
a lateral join, evaluated for the page's rows only), the detail its images, brokers and department.
Rows come back as asyncpg records, which the API turns into JSON once; no ORM object is built.

They run on a `Reader`: the raw pool (each statement its own snapshot, no transaction around it,
prepared once per connection) or, where a test holds everything in one transaction, the asyncpg
connection under its session.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from domain.estates import (
    DepartmentEntry,
    EstateBrokerEntry,
    EstateDetails,
    EstateFilters,
    EstateImageEntry,
    EstateSummary,
)
from domain.pagination import TimeKey


class Reader(Protocol):
    """What both `asyncpg.Pool` and `asyncpg.Connection` offer."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...
    async def fetchrow(self, query: str, *args: Any) -> Any: ...


# The broker ids and the first image are columns of the estate, kept by triggers (see the model).
_LIST = """
SELECT e.id, e.vitec_id, e.assignment_number, e.status, e.estate_type, e.street, e.zip_code, e.city,
       e.heading, e.asking_price, e.department_id, e.broker_ids, e.thumbnail_image_id, e.thumbnail_blob_name,
       e.vitec_changed_at, e.updated_at
FROM estates e
WHERE e.organization_id = $1 AND e.deleted_at IS NULL{conditions}
ORDER BY e.updated_at DESC, e.id DESC
LIMIT $2
"""

_DETAIL = """
SELECT e.id, e.vitec_id, e.assignment_number, e.status, e.estate_type, e.street, e.zip_code, e.city,
       e.heading, e.asking_price, e.department_id, e.broker_ids, e.thumbnail_image_id, e.thumbnail_blob_name,
       e.vitec_changed_at, e.updated_at,
       e.description, e.total_price, e.primary_area, e.usable_area, e.rooms, e.bedrooms, e.construction_year,
       e.energy_letter,
       ARRAY(
           SELECT ROW(i.id, i.sequence, i.description, i.category,
                      CASE WHEN i.mirrored_at IS NOT NULL THEN i.blob_name END)
           FROM estate_images i WHERE i.estate_id = e.id ORDER BY i.sequence, i.id
       ),
       ARRAY(
           SELECT ROW(b.employee_id, m.name, b.role)
           FROM estate_brokers b LEFT JOIN employees m ON m.id = b.employee_id
           WHERE b.estate_id = e.id ORDER BY b.role_code, m.name, b.employee_id
       ),
       d.id, d.vitec_id, d.name, d.market_name, d.email, d.phone, d.street, d.zip_code, d.city
FROM estates e LEFT JOIN departments d ON d.id = e.department_id
WHERE e.id = $1 AND e.organization_id = $2 AND e.deleted_at IS NULL
"""

_LIST_FIELDS = len(EstateSummary._fields)


async def list_page(
    reader: Reader, organization_id: uuid.UUID, filters: EstateFilters, *, limit: int, after: TimeKey | None
) -> list[EstateSummary]:
    """Live estates, most recently changed first, keyed by (updated_at, id)."""
    conditions: list[str] = []
    args: list[Any] = [organization_id, limit]

    def bind(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.statuses:
        conditions.append(f"e.status = ANY({bind(list(filters.statuses))}::text[])")
    if filters.department_id is not None:
        conditions.append(f"e.department_id = {bind(filters.department_id)}")
    if filters.broker_id is not None:
        broker = bind(filters.broker_id)
        conditions.append(
            f"EXISTS (SELECT 1 FROM estate_brokers b WHERE b.estate_id = e.id AND b.employee_id = {broker})"
        )
    for word in filters.words:  # every word must occur; the trigram index serves LIKE
        conditions.append(f"e.search_text LIKE {bind('%' + _escape_like(word.lower()) + '%')}")
    if filters.updated_since is not None:
        conditions.append(f"e.updated_at >= {bind(filters.updated_since)}")
    if after is not None:
        conditions.append(f"(e.updated_at, e.id) < ({bind(after[0])}, {bind(after[1])})")
    statement = _LIST.format(conditions="".join(f"\n  AND {condition}" for condition in conditions))
    return [EstateSummary._make(row) for row in await reader.fetch(statement, *args)]


async def detail(reader: Reader, organization_id: uuid.UUID, estate_id: uuid.UUID) -> EstateDetails | None:
    """A live estate of the organization with its images, brokers and department; None otherwise."""
    row = await reader.fetchrow(_DETAIL, estate_id, organization_id)
    if row is None:
        return None
    values = tuple(row)
    estate = EstateSummary._make(values[:_LIST_FIELDS])
    (description, total_price, primary_area, usable_area, rooms, bedrooms, construction_year, energy_letter,
     images, brokers, *department) = values[_LIST_FIELDS:]  # fmt: skip
    return EstateDetails(
        estate=estate,
        description=description,
        total_price=total_price,
        primary_area=primary_area,
        usable_area=usable_area,
        rooms=rooms,
        bedrooms=bedrooms,
        construction_year=construction_year,
        energy_letter=energy_letter,
        images=[EstateImageEntry(*image) for image in images],
        brokers=[EstateBrokerEntry(*broker) for broker in brokers],
        department=None if department[0] is None else DepartmentEntry(*department),
    )


def _escape_like(text: str) -> str:
    """`text` matched literally by LIKE (backslash is PostgreSQL's default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = ["Reader", "detail", "list_page"]
