"""Users of an organization: who am I, list and create (admins)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.security import PasswordHasher
from domain.pagination import Page, page_of
from domain.users import Principal, UserInactiveError, UserNotFoundError, UserRole, normalize_email
from repository.models import User
from repository.users import UserRepository

UserKey = tuple[datetime, uuid.UUID]


class UserService:
    """Reads and creates users, always inside the caller's organization."""

    def __init__(self, session: AsyncSession, hasher: PasswordHasher) -> None:
        self._users = UserRepository(session)
        self._hasher = hasher

    async def get_current(self, principal: Principal) -> User:
        """The caller's own user row; a deleted or deactivated user is no longer signed in."""
        user = await self._users.get_in_organization(principal.organization_id, principal.user_id)
        if user is None or not user.is_active:
            raise UserInactiveError
        return user

    async def get(self, principal: Principal, user_id: uuid.UUID) -> User:
        """One user of the caller's organization (admins); another organization's id is not found."""
        principal.require_admin()
        user = await self._users.get_in_organization(principal.organization_id, user_id)
        if user is None:
            raise UserNotFoundError
        return user

    async def list(self, principal: Principal, *, limit: int, after: UserKey | None) -> Page[User, UserKey]:
        """A keyset page of the organization's users, oldest first (admins)."""
        principal.require_admin()
        rows = await self._users.list_page(principal.organization_id, limit=limit + 1, after=after)
        return page_of(rows, limit, lambda user: (user.created_at, user.id))

    async def create(self, principal: Principal, *, email: str, full_name: str, password: str, role: UserRole) -> User:
        """Add a user to the caller's organization (admins); a taken email is a conflict."""
        principal.require_admin()
        return await self.create_in_organization(
            principal.organization_id, email=email, full_name=full_name, password=password, role=role
        )

    async def create_in_organization(
        self, organization_id: uuid.UUID, *, email: str, full_name: str, password: str, role: UserRole
    ) -> User:
        user = User(
            organization_id=organization_id,
            email=normalize_email(email),
            full_name=full_name.strip(),
            password_hash=await self._hasher.hash(password),
            role=role.value,
        )
        return await self._users.create(user)
