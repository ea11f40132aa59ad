"""Sign-in sessions: create, lock for a refresh or a logout, revoke, and read what access needs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from repository.base import Repository
from repository.models import AuthSession, User


class AuthSessionRepository(Repository[AuthSession]):
    model = AuthSession

    async def get_for_update(self, session_id: uuid.UUID) -> AuthSession | None:
        """Lock the session: a refresh and a logout of it run one after the other, so the logout
        either comes first (the refresh sees it) or revokes what the refresh issued."""
        return await self.one_or_none(
            self.select()
            .where(AuthSession.id == session_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def revoke_all_of_user(self, user_id: uuid.UUID, now: datetime) -> Sequence[uuid.UUID]:
        """Revoke every live session of the user; answers their ids."""
        statement = (
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(AuthSession.id)
        )
        return (await self.session.execute(statement)).scalars().all()


@dataclass(frozen=True, slots=True)
class SessionAccess:
    """What decides whether an access token of a session still grants access."""

    session_id: uuid.UUID
    revoked: bool
    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: str
    user_active: bool


_ACCESS_COLUMNS = (
    AuthSession.id,
    AuthSession.revoked_at.is_not(None),
    User.id,
    User.organization_id,
    User.role,
    User.is_active,
)


async def read_access(session: AsyncSession, session_id: uuid.UUID) -> SessionAccess | None:
    statement = select(*_ACCESS_COLUMNS).join(User, User.id == AuthSession.user_id).where(AuthSession.id == session_id)
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else SessionAccess(*row)


_ACCESS_SQL = """
SELECT s.id, s.revoked_at IS NOT NULL, u.id, u.organization_id, u.role, u.is_active
FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1
"""


async def read_access_from_pool(pool: asyncpg.Pool, session_id: uuid.UUID) -> SessionAccess | None:
    """The same read as `read_access`, on the raw pool: one prepared statement, no ORM."""
    row = await pool.fetchrow(_ACCESS_SQL, session_id)
    return None if row is None else SessionAccess(*row)
