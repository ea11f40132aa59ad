"""Organizations and the idempotent first-run seed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.security import PasswordHasher
from domain.users import UserRole, normalize_email
from repository.models import Organization
from repository.organizations import OrganizationRepository
from repository.users import UserRepository
from service.users import UserService


@dataclass(frozen=True, slots=True)
class SeedResult:
    organization: Organization
    organization_created: bool
    admin_created: bool


class OrganizationService:
    """Creates organizations; keyed by Vitec installation id, so seeding twice changes nothing."""

    def __init__(self, session: AsyncSession, hasher: PasswordHasher) -> None:
        self._organizations = OrganizationRepository(session)
        self._users = UserRepository(session)
        self._user_service = UserService(session, hasher)

    async def seed(self, *, name: str, vitec_installation_id: str, admin_email: str, admin_password: str) -> SeedResult:
        """Ensure the organization and its first admin exist; never changes existing rows."""
        installation_id = vitec_installation_id.strip().upper()
        organization = await self._organizations.get_by_installation_id(installation_id)
        organization_created = organization is None
        if organization is None:
            organization = await self._organizations.add(Organization(name=name, vitec_installation_id=installation_id))
        admin_created = False
        if await self._users.get_by_email(normalize_email(admin_email)) is None:
            await self._user_service.create_in_organization(
                organization.id,
                email=admin_email,
                full_name="Administrator",
                password=admin_password,
                role=UserRole.ADMIN,
            )
            admin_created = True
        return SeedResult(organization, organization_created, admin_created)
