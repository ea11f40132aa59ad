"""The estates, departments and employees of the caller's organization, from the read model only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.estates import EstateFilters
from domain.pagination import Page, page_of
from domain.users import Principal
from domain.vitec import EstateImageNotFoundError, EstateNotFoundError, VitecBinary
from repository.estates import BrokerOnEstate, EstateListRow, EstateRepository, TimeKey
from repository.models import Department, Employee, Estate, EstateImage
from repository.organizations import OrganizationRepository
from service.vitec_sync import vitec_client


@dataclass(frozen=True, slots=True)
class EstateListing:
    estate: EstateListRow
    broker_ids: list[uuid.UUID]
    thumbnail_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class EstateDetail:
    estate: Estate
    broker_ids: list[uuid.UUID]
    images: list[EstateImage]
    brokers: list[BrokerOnEstate]
    department: Department | None

    def listing(self) -> EstateListing:
        """The estate as a list shows it (the detail repeats every list field)."""
        thumbnail_id = self.images[0].id if self.images else None
        return EstateListing(EstateListRow.of(self.estate), self.broker_ids, thumbnail_id)


class EstateService:
    def __init__(self, session: AsyncSession, resources: Resources) -> None:
        self._estates = EstateRepository(session)
        self._organizations = OrganizationRepository(session)
        self._resources = resources

    async def list(
        self, principal: Principal, filters: EstateFilters, *, limit: int, after: TimeKey | None
    ) -> Page[EstateListing, TimeKey]:
        """Live estates, most recently changed first; three queries whatever the page size."""
        rows = await self._estates.list_page(principal.organization_id, filters, limit=limit + 1, after=after)
        page = page_of(rows, limit, lambda row: (row.updated_at, row.id))
        ids = [estate.id for estate in page.items]
        brokers = await self._estates.broker_ids(ids)
        thumbnails = await self._estates.thumbnails(ids)
        listings = [EstateListing(e, brokers.get(e.id, []), thumbnails.get(e.id)) for e in page.items]
        return Page(listings, page.next_key)

    async def get(self, principal: Principal, estate_id: uuid.UUID) -> EstateDetail:
        estate = await self._estates.get(principal.organization_id, estate_id)
        if estate is None:
            raise EstateNotFoundError
        brokers = await self._estates.brokers(estate.id)
        return EstateDetail(
            estate=estate,
            broker_ids=list(dict.fromkeys(b.employee_id for b in brokers if b.employee_id is not None)),
            images=list(await self._estates.images(estate.id)),
            brokers=brokers,
            department=await self._estates.department(estate.department_id),
        )

    async def image_bytes(self, principal: Principal, estate_id: uuid.UUID, image_id: uuid.UUID) -> VitecBinary:
        """An image's bytes, read from Vitec (until images are mirrored into Blob Storage)."""
        estate = await self._estates.get(principal.organization_id, estate_id)
        if estate is None:
            raise EstateNotFoundError
        image = await self._estates.image(estate.id, image_id)
        organization = await self._organizations.get(principal.organization_id)
        if image is None or organization is None:
            raise EstateImageNotFoundError
        client = vitec_client(self._resources)
        return await client.get_estate_image(organization.vitec_installation_id, estate.vitec_id, image.vitec_id)

    async def departments(
        self, principal: Principal, *, limit: int, after: TimeKey | None
    ) -> Page[Department, TimeKey]:
        rows = await self._estates.departments_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda department: (department.created_at, department.id))

    async def employees(self, principal: Principal, *, limit: int, after: TimeKey | None) -> Page[Employee, TimeKey]:
        rows = await self._estates.employees_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda employee: (employee.created_at, employee.id))
