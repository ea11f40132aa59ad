"""What the estate list can be filtered by, and the estate as the list and the detail show it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class EstateFilters:
    """`statuses` any of; `broker_id` in any broker role; every word of `words` must occur (case-insensitively)
    in street, zip code, city or heading; `updated_since` against `updated_at`."""

    statuses: Sequence[str] = ()
    department_id: uuid.UUID | None = None
    broker_id: uuid.UUID | None = None
    words: Sequence[str] = ()
    updated_since: datetime | None = None

    def normalized(self) -> EstateFilters:
        """The same filter in one spelling (a hashable value): statuses and words sorted and once,
        words lower-cased, the moment in UTC. Equal filters give equal values, so a cache keyed by
        them holds one entry per distinct query, however a client spells it."""
        return EstateFilters(
            statuses=tuple(sorted(set(self.statuses))),
            department_id=self.department_id,
            broker_id=self.broker_id,
            words=tuple(sorted({word.lower() for word in self.words})),
            updated_since=None if self.updated_since is None else self.updated_since.astimezone(UTC),
        )


class EstateSummary(NamedTuple):
    """An estate as a list item shows it (tuples: a page builds fifty, a frozen dataclass costs
    several times as much to build)."""

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
    broker_ids: list[uuid.UUID]
    # The first image (by sequence), and its blob once mirrored.
    thumbnail_id: uuid.UUID | None
    thumbnail_blob: str | None
    vitec_changed_at: datetime | None
    updated_at: datetime


class EstateImageEntry(NamedTuple):
    id: uuid.UUID
    sequence: int
    description: str | None
    category: str | None
    # Set once the image is mirrored into Blob Storage.
    blob_name: str | None


class EstateBrokerEntry(NamedTuple):
    employee_id: uuid.UUID | None
    name: str | None
    role: str


class DepartmentEntry(NamedTuple):
    id: uuid.UUID
    vitec_id: int
    name: str
    market_name: str | None
    email: str | None
    phone: str | None
    street: str | None
    zip_code: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class EstateDetails:
    """An estate with everything its detail shows."""

    estate: EstateSummary
    description: str | None
    total_price: Decimal | None
    primary_area: Decimal | None
    usable_area: Decimal | None
    rooms: int | None
    bedrooms: int | None
    construction_year: int | None
    energy_letter: str | None
    images: list[EstateImageEntry]
    brokers: list[EstateBrokerEntry]
    department: DepartmentEntry | None
