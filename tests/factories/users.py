"""Small async factories for organizations and users, written through the real repositories."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from core.security import TokenType
from domain.users import UserRole
from repository.auth_sessions import AuthSessionRepository
from repository.models import AuthSession, Organization, User
from repository.organizations import OrganizationRepository
from service.unit_of_work import transaction
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


async def committed_broker_headers(resources: Resources, organization_id: uuid.UUID) -> dict[str, str]:
    """A broker of the organization, committed (for tests on committed rows), and the bearer
    header of an access token for them."""
    return await committed_user_headers(resources, organization_id, UserRole.BROKER)


async def committed_user_headers(resources: Resources, organization_id: uuid.UUID, role: UserRole) -> dict[str, str]:
    """A user of the role in the organization with a sign-in session, committed, and the bearer
    header of an access token for that session."""
    async with transaction(resources) as session:
        user = await UserService(session, resources.password_hasher).create_in_organization(
            organization_id, email=unique_email(role.value), full_name=role.value.title(), password=DEFAULT_PASSWORD,
            role=role,
        )  # fmt: skip
        sign_in = await AuthSessionRepository(session).add(AuthSession(user_id=user.id))
    token, _ = resources.token_codec.encode(
        subject=user.id, organization_id=organization_id, role=role.value, token_type=TokenType.ACCESS,
        ttl=timedelta(hours=1), session_id=sign_in.id,
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}
