"""Users of an organization: who am I, list, create and change (admins)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.security import PasswordHasher, PasswordHasherBusy
from domain.pagination import Page, page_of
from domain.users import (
    LastAdminError,
    PasswordCheckBusyError,
    Principal,
    UserInactiveError,
    UserNotFoundError,
    UserRole,
    normalize_email,
)
from repository.auth_sessions import AuthSessionRepository
from repository.models import User
from repository.users import UserRepository
from service.unit_of_work import notify_access_after_commit

UserKey = tuple[datetime, uuid.UUID]


@dataclass(frozen=True, slots=True)
class UserChanges:
    """What an admin changes on a user; None leaves a field as it is."""

    full_name: str | None = None
    role: UserRole | None = None
    is_active: bool | None = None


class UserService:
    """Reads, creates and changes users, always inside the caller's organization."""

    def __init__(self, session: AsyncSession, hasher: PasswordHasher) -> None:
        self._session = session
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

    async def update(self, principal: Principal, user_id: uuid.UUID, changes: UserChanges) -> User:
        """Rename, change the role of, deactivate or reactivate a user (admins). A demotion or a
        deactivation takes the user's access tokens away on every API process at once; the
        organization's last active admin can be neither."""
        principal.require_admin()
        user = await self._users.get_in_organization(principal.organization_id, user_id)
        if user is None:
            raise UserNotFoundError
        if _removes_an_admin(user, changes):
            admins = await self._users.lock_active_admins(principal.organization_id)
            if list(admins) == [user.id]:
                raise LastAdminError
        user = await self._users.get_in_organization_for_update(principal.organization_id, user_id)
        if user is None:
            raise UserNotFoundError
        access_changes = (changes.role is not None and changes.role.value != user.role) or (
            changes.is_active is not None and changes.is_active != user.is_active
        )
        await self._users.update(user, **_values(changes))
        if access_changes:
            await self._access_changed(user)
        return user

    async def _access_changed(self, user: User) -> None:
        if not user.is_active:
            # A reactivated user signs in again rather than finding old sessions alive.
            revoked = await AuthSessionRepository(self._session).revoke_all_of_user(user.id, datetime.now(UTC))
            for session_id in revoked:
                notify_access_after_commit(self._session, session_id)
        notify_access_after_commit(self._session, user.id)

    async def create_in_organization(
        self, organization_id: uuid.UUID, *, email: str, full_name: str, password: str, role: UserRole
    ) -> User:
        try:
            password_hash = await self._hasher.hash(password)
        except PasswordHasherBusy as exc:
            raise PasswordCheckBusyError from exc
        user = User(
            organization_id=organization_id,
            email=normalize_email(email),
            full_name=full_name.strip(),
            password_hash=password_hash,
            role=role.value,
        )
        return await self._users.create(user)


def _removes_an_admin(user: User, changes: UserChanges) -> bool:
    was_admin = user.role == UserRole.ADMIN.value and user.is_active
    return was_admin and (changes.role == UserRole.BROKER or changes.is_active is False)


def _values(changes: UserChanges) -> dict[str, object]:
    values: dict[str, object] = {}
    if changes.full_name is not None:
        values["full_name"] = changes.full_name.strip()
    if changes.role is not None:
        values["role"] = changes.role.value
    if changes.is_active is not None:
        values["is_active"] = changes.is_active
    return values
