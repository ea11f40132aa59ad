"""The estates, departments and employees of the caller's organization, from the read model only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.estates import EstateDetails, EstateFilters, EstateSummary
from domain.pagination import Page, TimeKey, page_of
from domain.users import Principal
from domain.vitec import EstateImageNotFoundError, EstateImageTimeoutError, EstateNotFoundError, VitecBinary
from repository import estate_reads
from repository.estate_images import EstateImageRepository
from repository.estates import EstateRepository
from repository.models import Department, Employee
from service.blobs import blob_store
from service.images import ImageUrls
from service.page_cache import PageCache, RenderedPage
from service.unit_of_work import single_statements, transaction
from service.vitec import vitec_client


@dataclass(frozen=True, slots=True)
class EstateListing:
    """A list item: the estate's row, and its thumbnail's read SAS URL once mirrored."""

    estate: EstateSummary
    thumbnail_url: str | None = None


@dataclass(frozen=True, slots=True)
class EstateListingPage:
    """A page of estates, and when the first SAS URL in it expires (None: it holds none)."""

    page: Page[EstateListing, TimeKey]
    urls_expire_at: datetime | None


@dataclass(frozen=True, slots=True)
class EstateDetail:
    """An estate with its images, brokers and department; read SAS URLs of its mirrored images by id."""

    row: EstateDetails
    thumbnail_url: str | None
    image_urls: dict[uuid.UUID, str]


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


class EstatePages:
    """The estate list and the estate detail: one statement each on the raw pool (no unit of work
    around a read), list pages cached per organization and normalized query (`PageCache`)."""

    def __init__(self, resources: Resources, cache: PageCache) -> None:
        self._resources = resources
        self._cache = cache

    async def list(
        self,
        principal: Principal,
        filters: EstateFilters,
        *,
        limit: int,
        after: TimeKey | None,
        render: Callable[[EstateListingPage], bytes],
    ) -> bytes:
        """Live estates, most recently changed first, as `render` writes them: from the cache, or
        read and rendered once for everyone who asks for the same page meanwhile."""
        organization_id = principal.organization_id
        filters = filters.normalized()

        async def fill() -> RenderedPage:
            listed = await self._read_list(organization_id, filters, limit=limit, after=after)
            return RenderedPage(render(listed), listed.urls_expire_at)

        return await self._cache.page(organization_id, (filters, limit, after), fill)

    async def _read_list(
        self, organization_id: uuid.UUID, filters: EstateFilters, *, limit: int, after: TimeKey | None
    ) -> EstateListingPage:
        async with single_statements(self._resources) as reader:
            rows = await estate_reads.list_page(reader, organization_id, filters, limit=limit + 1, after=after)
        page = page_of(rows, limit, lambda row: (row.updated_at, row.id))
        urls = ImageUrls(self._resources)
        signed = await urls.signed(row.thumbnail_blob for row in page.items if row.thumbnail_blob)
        listings = [
            EstateListing(row, signed[row.thumbnail_blob] if row.thumbnail_blob else None) for row in page.items
        ]
        return EstateListingPage(Page(listings, page.next_key), urls.earliest_expiry)

    async def get(self, principal: Principal, estate_id: uuid.UUID) -> EstateDetail:
        async with single_statements(self._resources) as reader:
            row = await estate_reads.detail(reader, principal.organization_id, estate_id)
        if row is None:
            raise EstateNotFoundError
        urls = ImageUrls(self._resources)
        signed = await urls.signed(image.blob_name for image in row.images if image.blob_name)
        image_urls = {image.id: signed[image.blob_name] for image in row.images if image.blob_name}
        first = row.images[0] if row.images else None
        return EstateDetail(
            row=row,
            thumbnail_url=image_urls.get(first.id) if first else None,
            image_urls=image_urls,
        )


class EstateService:
    """Departments and employees (pages of the organization's offices and staff)."""

    def __init__(self, session: AsyncSession) -> None:
        self._estates = EstateRepository(session)

    async def departments(
        self, principal: Principal, *, limit: int, after: TimeKey | None
    ) -> Page[Department, TimeKey]:
        rows = await self._estates.departments_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda department: (department.created_at, department.id))

    async def employees(self, principal: Principal, *, limit: int, after: TimeKey | None) -> Page[Employee, TimeKey]:
        rows = await self._estates.employees_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda employee: (employee.created_at, employee.id))
