"""The estates, departments and employees of the caller's organization, from the read model only."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.estates import EstateFilters
from domain.pagination import Page, page_of
from domain.users import Principal
from domain.vitec import EstateImageNotFoundError, EstateImageTimeoutError, EstateNotFoundError, VitecBinary
from repository.estate_images import EstateImageRepository
from repository.estates import BrokerOnEstate, EstateListRow, EstateRepository, TimeKey
from repository.models import Department, Employee, Estate, EstateImage
from service.blobs import blob_store
from service.images import ImageUrls
from service.unit_of_work import transaction
from service.vitec import vitec_client


@dataclass(frozen=True, slots=True)
class EstateListing:
    estate: EstateListRow
    broker_ids: list[uuid.UUID]
    thumbnail_id: uuid.UUID | None
    # A read SAS URL once the thumbnail is mirrored into Blob Storage.
    thumbnail_url: str | None = None


@dataclass(frozen=True, slots=True)
class EstateListingPage:
    """A page of estates, and when the first SAS URL in it expires (None: it holds none)."""

    page: Page[EstateListing, TimeKey]
    urls_expire_at: datetime | None


@dataclass(frozen=True, slots=True)
class EstateDetail:
    estate: Estate
    broker_ids: list[uuid.UUID]
    images: list[EstateImage]
    brokers: list[BrokerOnEstate]
    department: Department | None
    # Read SAS URLs of the mirrored images, by image id.
    image_urls: dict[uuid.UUID, str]

    def listing(self) -> EstateListing:
        """The estate as a list shows it (the detail repeats every list field)."""
        first = self.images[0] if self.images else None
        thumbnail_url = self.image_urls.get(first.id) if first else None
        return EstateListing(EstateListRow.of(self.estate), self.broker_ids, first.id if first else None, thumbnail_url)


@dataclass(frozen=True, slots=True)
class ImageAnswer:
    """An image's bytes from Vitec, or where to fetch them from Blob Storage once mirrored."""

    redirect_url: str | None = None
    binary: VitecBinary | None = None


async def read_image(
    resources: Resources, principal: Principal, estate_id: uuid.UUID, image_id: uuid.UUID
) -> ImageAnswer:
    """A mirrored image answers a read SAS URL; any other is read through from Vitec, within one deadline
    and a size cap, after the lookup's unit of work closed (no database connection waits on Vitec)."""
    async with transaction(resources) as session:
        source = await EstateImageRepository(session).source(principal.organization_id, estate_id, image_id)
    if source is None:
        raise EstateImageNotFoundError
    if source.blob_name is not None:
        return ImageAnswer(redirect_url=(await blob_store(resources).read_url(source.blob_name)).url)
    settings = resources.settings.vitec
    client = vitec_client(resources)
    try:
        async with asyncio.timeout(settings.image_deadline_seconds):
            binary = await client.get_estate_image(
                source.installation, source.estate_vitec_id, source.vitec_id, max_bytes=settings.image_max_bytes
            )
    except TimeoutError:
        raise EstateImageTimeoutError from None
    return ImageAnswer(binary=binary)


class EstateService:
    def __init__(self, session: AsyncSession, resources: Resources) -> None:
        self._estates = EstateRepository(session)
        self._resources = resources

    async def list(
        self, principal: Principal, filters: EstateFilters, *, limit: int, after: TimeKey | None
    ) -> EstateListingPage:
        """Live estates, most recently changed first; three queries whatever the page size."""
        rows = await self._estates.list_page(principal.organization_id, filters, limit=limit + 1, after=after)
        page = page_of(rows, limit, lambda row: (row.updated_at, row.id))
        ids = [estate.id for estate in page.items]
        brokers = await self._estates.broker_ids(ids)
        thumbnails = await self._estates.thumbnails(ids)
        urls = ImageUrls(self._resources)
        listings = []
        for estate in page.items:
            thumbnail = thumbnails.get(estate.id)
            url = await urls.signed(thumbnail.blob_name) if thumbnail and thumbnail.blob_name else None
            listings.append(
                EstateListing(estate, brokers.get(estate.id, []), thumbnail.image_id if thumbnail else None, url)
            )
        return EstateListingPage(Page(listings, page.next_key), urls.earliest_expiry)

    async def get(self, principal: Principal, estate_id: uuid.UUID) -> EstateDetail:
        estate = await self._estates.get(principal.organization_id, estate_id)
        if estate is None:
            raise EstateNotFoundError
        brokers = await self._estates.brokers(estate.id)
        images = list(await self._estates.images(estate.id))
        urls = ImageUrls(self._resources)
        return EstateDetail(
            estate=estate,
            broker_ids=list(dict.fromkeys(b.employee_id for b in brokers if b.employee_id is not None)),
            images=images,
            brokers=brokers,
            department=await self._estates.department(estate.department_id),
            image_urls={
                image.id: await urls.signed(image.blob_name)
                for image in images
                if image.blob_name is not None and image.mirrored_at is not None
            },
        )

    async def departments(
        self, principal: Principal, *, limit: int, after: TimeKey | None
    ) -> Page[Department, TimeKey]:
        rows = await self._estates.departments_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda department: (department.created_at, department.id))

    async def employees(self, principal: Principal, *, limit: int, after: TimeKey | None) -> Page[Employee, TimeKey]:
        rows = await self._estates.employees_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda employee: (employee.created_at, employee.id))
