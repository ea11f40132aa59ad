"""Fixtures shared by the API tests: an organization with a signed-in admin and broker."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.users import UserRole
from repository.models import Organization
from tests.factories.users import SignedIn, create_organization, signed_in


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def admin(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> SignedIn:
    return await signed_in(client, session, resources, organization, role=UserRole.ADMIN)


@pytest.fixture
async def broker_user(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> SignedIn:
    return await signed_in(client, session, resources, organization, role=UserRole.BROKER)
