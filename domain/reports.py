"""PDF reports of an estate: which templates exist and the data a report is rendered from.

A `ReportData` holds everything a template shows, images as bytes included, so rendering needs no
I/O and can run in a thread or another process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.jobs import PermanentJobError


class ReportTemplate(StrEnum):
    """`prospectus`: several pages a broker hands a buyer; `summary`: one page."""

    PROSPECTUS = "prospectus"
    SUMMARY = "summary"

    @property
    def gallery(self) -> bool:
        """Whether the template shows every image (else only the main one)."""
        return self is ReportTemplate.PROSPECTUS


@dataclass(frozen=True, slots=True)
class ReportImage:
    """An image and its caption: as stored (any size or format Pillow reads), or `print_ready`, a JPEG
    already at the size the report prints it (embedded as it is)."""

    content: bytes
    caption: str | None = None
    print_ready: bool = False


@dataclass(frozen=True, slots=True)
class ReportBroker:
    """The broker a buyer contacts; `responsible` when in the responsible broker's role (else the main broker)."""

    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    responsible: bool = True


@dataclass(frozen=True, slots=True)
class ReportDepartment:
    name: str
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    zip_code: str | None = None
    city: str | None = None


@dataclass(frozen=True, slots=True)
class ReportEstate:
    """The estate's facts from the read model; `description` is Vitec's HTML."""

    assignment_number: str | None
    status: str
    estate_type: str
    street: str | None
    zip_code: str | None
    city: str | None
    heading: str | None
    description: str | None
    asking_price: Decimal | None
    primary_area: Decimal | None
    usable_area: Decimal | None
    rooms: int | None
    bedrooms: int | None
    construction_year: int | None
    energy_letter: str | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one report shows; `images` in the estate's order, the first is the main image."""

    estate: ReportEstate
    images: tuple[ReportImage, ...]
    broker: ReportBroker | None
    department: ReportDepartment | None
    generated_at: datetime


_TITLES = {ReportTemplate.PROSPECTUS: "Salgsoppgave", ReportTemplate.SUMMARY: "Sammendrag"}


def report_filename(template: ReportTemplate, street: str | None) -> str:
    """The report document's display name: `Salgsoppgave <street>.pdf`, `Sammendrag <street>.pdf`."""
    title = _TITLES[template]
    return f"{title} {street}.pdf" if street and street.strip() else f"{title}.pdf"


class ReportEstateGoneError(PermanentJobError):
    """The estate was deleted (or left Vitec) between the request and the render."""

    code = "report_estate_gone"
