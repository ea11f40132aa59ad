"""Loading what a report shows: the estate, its images, its broker and its department, from the
read model of the caller's organization, with image bytes from an `ImageSource`.

Today images come from Vitec (`VitecImages`, through the process's shared client, so inside its
request budget). When images are mirrored into Blob Storage, a source that reads the mirror and
falls back to Vitec is passed instead; nothing else changes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.reports import ReportBroker, ReportData, ReportDepartment, ReportEstate, ReportImage, ReportTemplate
from domain.vitec import BrokerRole, EstateNotFoundError, VitecNotFoundError
from repository.blob_store import BlobStore
from repository.estates import BrokerOnEstate, EstateRepository
from repository.models import Department, Estate, EstateImage
from repository.organizations import OrganizationRepository
from repository.vitec.client import VitecClient
from service.print_images import COVER_PIXELS, GALLERY_PIXELS, print_blob_name
from service.vitec import vitec_client

# Images fetched at once for one report; the Vitec client's shared limits still apply across processes.
IMAGE_CONCURRENCY = 4
# Whose contact card a report shows, in order of preference.
CONTACT_ROLES = (BrokerRole.RESPONSIBLE_BROKER.value, BrokerRole.MAIN_BROKER.value)


@dataclass(frozen=True, slots=True)
class ImageBytes:
    """An image's bytes; `print_ready` when they are the mirror's print-size copy (embedded as they are)."""

    content: bytes
    print_ready: bool = False


class ImageSource(Protocol):
    """Where an estate image's bytes come from, at `longest` pixels where the source has a print-size
    copy (else as stored); None when the image is gone."""

    async def fetch(self, installation: str, estate: Estate, image: EstateImage, longest: int) -> ImageBytes | None: ...


class VitecImages:
    """Image bytes read from the Vitec Hub through the shared client (rate limit, concurrency, circuit)."""

    def __init__(self, client: VitecClient) -> None:
        self._client = client

    async def fetch(self, installation: str, estate: Estate, image: EstateImage, longest: int) -> ImageBytes | None:
        try:
            binary = await self._client.get_estate_image(installation, estate.vitec_id, image.vitec_id)
        except VitecNotFoundError:
            return None  # removed in Vitec since the last sync: the report goes without it
        return ImageBytes(binary.content)


class MirroredImages:
    """Image bytes from Blob Storage where `blobs.mirror` stored them (its print-size copy, else the
    original), else from `fallback` (Vitec): a report of a mirrored estate costs no Vitec request."""

    def __init__(self, blobs: BlobStore, fallback: ImageSource) -> None:
        self._blobs = blobs
        self._fallback = fallback

    async def fetch(self, installation: str, estate: Estate, image: EstateImage, longest: int) -> ImageBytes | None:
        if image.mirrored_at is not None and image.blob_name is not None:
            copy = await self._read(print_blob_name(image.blob_name, longest))
            if copy is not None:
                return ImageBytes(copy, print_ready=True)
            original = await self._read(image.blob_name)  # mirrored before the print copies existed
            if original is not None:
                return ImageBytes(original)
        return await self._fallback.fetch(installation, estate, image, longest)

    async def _read(self, name: str) -> bytes | None:
        download = await self._blobs.read(name)
        return None if download is None else b"".join([chunk async for chunk in download.chunks])


@dataclass(frozen=True, slots=True)
class ReportSource:
    """A report's data from the read model; the images as rows, their bytes fetched separately."""

    installation: str
    estate: Estate
    image_rows: tuple[EstateImage, ...]
    broker: ReportBroker | None
    department: ReportDepartment | None

    def data(self, images: tuple[ReportImage, ...], *, now: datetime) -> ReportData:
        return ReportData(
            estate=_estate(self.estate), images=images, broker=self.broker, department=self.department,
            generated_at=now,
        )  # fmt: skip


class ReportDataService:
    """Builds the `ReportData` of one estate of an organization."""

    def __init__(self, session: AsyncSession, resources: Resources, images: ImageSource | None = None) -> None:
        self._estates = EstateRepository(session)
        self._organizations = OrganizationRepository(session)
        self._images = images or VitecImages(vitec_client(resources))

    async def load(
        self, organization_id: uuid.UUID, estate_id: uuid.UUID, template: ReportTemplate, *, now: datetime
    ) -> ReportData:
        """The estate's report data; a deleted estate or another organization's is not found."""
        source = await self.source(organization_id, estate_id, template)
        return source.data(await self.images(source), now=now)

    async def source(self, organization_id: uuid.UUID, estate_id: uuid.UUID, template: ReportTemplate) -> ReportSource:
        """Everything of the report from the read model, the image bytes not yet fetched."""
        estate = await self._estates.get(organization_id, estate_id)
        organization = await self._organizations.get(organization_id)
        if estate is None or organization is None:
            raise EstateNotFoundError
        rows = list(await self._estates.images(estate.id))
        return ReportSource(
            installation=organization.vitec_installation_id,
            estate=estate,
            image_rows=tuple(rows if template.gallery else rows[:1]),
            broker=await self._broker(await self._estates.brokers(estate.id)),
            department=_department(await self._estates.department(estate.department_id)),
        )

    async def images(self, source: ReportSource) -> tuple[ReportImage, ...]:
        """The bytes of the images the report shows (those gone from the source are left out)."""
        return await self._fetch_images(source.installation, source.estate, source.image_rows)

    async def _fetch_images(
        self, installation: str, estate: Estate, rows: Sequence[EstateImage]
    ) -> tuple[ReportImage, ...]:
        limit = asyncio.Semaphore(IMAGE_CONCURRENCY)

        async def fetch(row: EstateImage, longest: int) -> ImageBytes | None:
            async with limit:
                return await self._images.fetch(installation, estate, row, longest)

        # The first image is the cover (the gallery shows it again, from the same bytes).
        sizes = [GALLERY_PIXELS if position else COVER_PIXELS for position in range(len(rows))]
        fetched = await asyncio.gather(*(fetch(row, longest) for row, longest in zip(rows, sizes, strict=True)))
        return tuple(
            ReportImage(image.content, row.description or row.category, print_ready=image.print_ready)
            for row, image in zip(rows, fetched, strict=True)
            if image is not None
        )

    async def _broker(self, brokers: Sequence[BrokerOnEstate]) -> ReportBroker | None:
        """The responsible broker, else the main broker, among those synced as employees."""
        for role in CONTACT_ROLES:
            for broker in brokers:
                if broker.role == role and broker.employee_id is not None:
                    employee = await self._estates.employee(broker.employee_id)
                    if employee is not None:
                        return ReportBroker(
                            employee.name, employee.title, employee.email, employee.mobile_phone,
                            responsible=role == BrokerRole.RESPONSIBLE_BROKER.value,
                        )  # fmt: skip
        return None


def _estate(estate: Estate) -> ReportEstate:
    return ReportEstate(
        assignment_number=estate.assignment_number,
        status=estate.status,
        estate_type=estate.estate_type,
        street=estate.street,
        zip_code=estate.zip_code,
        city=estate.city,
        heading=estate.heading,
        description=estate.description,
        asking_price=estate.asking_price,
        primary_area=estate.primary_area,
        usable_area=estate.usable_area,
        rooms=estate.rooms,
        bedrooms=estate.bedrooms,
        construction_year=estate.construction_year,
        energy_letter=estate.energy_letter,
        changed_at=estate.vitec_changed_at,
    )


def _department(department: Department | None) -> ReportDepartment | None:
    if department is None:
        return None
    return ReportDepartment(
        name=department.market_name or department.name,
        email=department.email,
        phone=department.phone,
        street=department.street,
        zip_code=department.zip_code,
        city=department.city,
    )
