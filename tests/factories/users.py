"""Small async factories for organizations and users, written through the real repositories."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.users import UserRole
from repository.models import Organization, User
from repository.organizations import OrganizationRepository
from service.users import UserService
from tests.conftest import unique_email

DEFAULT_PASSWORD = "correct horse battery staple"


async def create_organization(session: AsyncSession, name: str = "Test Eiendom") -> Organization:
    installation = "TEST" + uuid.uuid4().hex[:10].upper()
    return await OrganizationRepository(session).add(Organization(name=name, vitec_installation_id=installation))


async def create_user(
    session: AsyncSession,
    resources: Resources,
    organization: Organization,
    *,
    role: UserRole = UserRole.BROKER,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
) -> User:
    user = await UserService(session, resources.password_hasher).create_in_organization(
        organization.id,
        email=email or unique_email(role.value),
        full_name=f"Test {role.value}",
        password=password,
        role=role,
    )
    if not is_active:
        user.is_active = False
        await session.flush()
    return user


@dataclass
class SignedIn:
    user: User
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def login(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, object]:
    response = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def signed_in(
    client: AsyncClient,
    session: AsyncSession,
    resources: Resources,
    organization: Organization,
    role: UserRole = UserRole.BROKER,
) -> SignedIn:
    """A user of `organization` with a fresh token pair."""
    user = await create_user(session, resources, organization, role=role)
    await session.commit()
    tokens = await login(client, user.email)
    return SignedIn(user, str(tokens["access_token"]), str(tokens["refresh_token"]))
