"""Loading a report's data from a read model synced from the simulator, with the images fetched from
it over (in-process) HTTP through the real Vitec client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from core.settings import VitecSettings
from domain.reports import ReportTemplate
from domain.vitec import BrokerRole, EstateNotFoundError, VitecEstate
from repository.models import Employee, Estate, EstateImage, Organization
from repository.vitec.client import VitecClient
from repository.vitec_read_model import VitecReadModelRepository
from service.report_rendering import render_report
from service.reports import ReportDataService, VitecImages
from tests.factories.users import create_organization
from vitec_simulator.app import create_app
from vitec_simulator.binaries import PNG_SIGNATURE
from vitec_simulator.config import Config

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
CONTACTS = (BrokerRole.RESPONSIBLE_BROKER, BrokerRole.MAIN_BROKER)


@dataclass
class Synced:
    organization: Organization
    client: VitecClient
    estate: VitecEstate  # one with several images and a broker to contact
    estate_id: uuid.UUID
    hub: httpx.AsyncClient

    def service(self, session: AsyncSession, resources: Resources) -> ReportDataService:
        return ReportDataService(session, resources, images=VitecImages(self.client))

    async def image_requests(self) -> int:
        stats = (await self.hub.get("/_control/stats")).json()
        return sum(count for route, count in stats["routes"].items() if "/Images/" in route)


@pytest.fixture
async def synced(session: AsyncSession, resources: Resources) -> AsyncIterator[Synced]:
    """A read model synced from an installation of the test's own (Redis keys never meet another test's)."""
    installation = "R" + uuid.uuid4().hex[:10].upper()
    app = create_app(Config(installations=(installation,), estates=30))
    settings = VitecSettings(base_url="http://vitec.test", rate_limit="1000/second")
    client = VitecClient(settings, resources.redis, resources.rate_limiter, transport=httpx.ASGITransport(app=app))
    organization = Organization(name="Rapport AS", vitec_installation_id=installation)
    session.add(organization)
    await session.flush()
    repository = VitecReadModelRepository(session)
    await repository.upsert_departments(organization.id, await client.list_departments(installation))
    await repository.upsert_employees(organization.id, await client.list_employees(installation))
    summaries = await client.list_estate_summaries(installation)
    estates = [await client.get_estate(installation, summary.vitec_id) for summary in summaries]
    await repository.upsert_estates(
        organization.id, estates, await repository.department_ids(organization.id),
        await repository.employee_ids(organization.id),
    )  # fmt: skip
    chosen = next(e for e in estates if len(e.images) >= 3 and {b.role for b in e.brokers} & set(CONTACTS))
    estate_id = await session.scalar(select(Estate.id).where(Estate.vitec_id == chosen.vitec_id))
    assert estate_id is not None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vitec.test") as hub:
        yield Synced(organization, client, chosen, estate_id, hub)
    await client.close()


async def test_a_prospectus_gets_every_image_the_broker_and_the_department(
    synced: Synced, session: AsyncSession, resources: Resources
) -> None:
    data = await synced.service(session, resources).load(
        synced.organization.id, synced.estate_id, ReportTemplate.PROSPECTUS, now=NOW
    )

    vitec = synced.estate
    assert (data.estate.street, data.estate.heading, data.estate.asking_price) == (
        vitec.street, vitec.heading, vitec.asking_price,
    )  # fmt: skip
    assert len(data.images) == len(vitec.images)
    assert all(image.content.startswith(PNG_SIGNATURE) for image in data.images)
    assert [image.caption for image in data.images] == [i.description or i.category for i in vitec.images]
    contact = next(b for role in CONTACTS for b in vitec.brokers if b.role is role)
    employee = await session.scalar(
        select(Employee).where(
            Employee.organization_id == synced.organization.id, Employee.vitec_id == contact.employee_vitec_id
        )
    )
    assert employee is not None
    assert data.broker is not None
    assert (data.broker.name, data.broker.email) == (employee.name, employee.email)
    assert data.broker.responsible is (contact.role is BrokerRole.RESPONSIBLE_BROKER)
    assert data.department is not None
    assert data.generated_at == NOW


async def test_a_summary_fetches_only_the_main_image(
    synced: Synced, session: AsyncSession, resources: Resources
) -> None:
    before = await synced.image_requests()
    data = await synced.service(session, resources).load(
        synced.organization.id, synced.estate_id, ReportTemplate.SUMMARY, now=NOW
    )
    assert len(data.images) == 1
    assert await synced.image_requests() == before + 1


async def test_an_image_gone_from_vitec_is_left_out(
    synced: Synced, session: AsyncSession, resources: Resources
) -> None:
    first = await session.scalar(
        select(EstateImage).where(EstateImage.estate_id == synced.estate_id).order_by(EstateImage.sequence).limit(1)
    )
    assert first is not None
    first.vitec_id = str(uuid.uuid4()).upper()  # Vitec answers 404 for it
    await session.flush()

    data = await synced.service(session, resources).load(
        synced.organization.id, synced.estate_id, ReportTemplate.PROSPECTUS, now=NOW
    )
    assert len(data.images) == len(synced.estate.images) - 1


async def test_another_organizations_estate_is_not_found(
    synced: Synced, session: AsyncSession, resources: Resources
) -> None:
    other = await create_organization(session)
    with pytest.raises(EstateNotFoundError):
        await synced.service(session, resources).load(other.id, synced.estate_id, ReportTemplate.SUMMARY, now=NOW)


async def test_a_deleted_estate_is_not_found(synced: Synced, session: AsyncSession, resources: Resources) -> None:
    estate = await session.get(Estate, synced.estate_id)
    assert estate is not None
    estate.deleted_at = NOW
    await session.flush()
    with pytest.raises(EstateNotFoundError):
        await synced.service(session, resources).load(
            synced.organization.id, synced.estate_id, ReportTemplate.PROSPECTUS, now=NOW
        )


async def test_loaded_data_renders(synced: Synced, session: AsyncSession, resources: Resources) -> None:
    data = await synced.service(session, resources).load(
        synced.organization.id, synced.estate_id, ReportTemplate.PROSPECTUS, now=NOW
    )
    pdf = render_report(ReportTemplate.PROSPECTUS, data)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 10_000


async def test_an_estate_without_images_loads_without_any(
    synced: Synced, session: AsyncSession, resources: Resources
) -> None:
    for image in await session.scalars(select(EstateImage).where(EstateImage.estate_id == synced.estate_id)):
        await session.delete(image)
    await session.flush()

    data = await synced.service(session, resources).load(
        synced.organization.id, synced.estate_id, ReportTemplate.PROSPECTUS, now=NOW
    )
    assert data.images == ()
    assert render_report(ReportTemplate.PROSPECTUS, data).startswith(b"%PDF-")
