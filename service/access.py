"""Whether an access token still grants access: the one check behind every authenticated request.

A signature proves who was signed in when the token was issued; what happened since (a logout, a
revoked session, a deactivated or demoted user) lives in the database. Each API process keeps what
it read, per session and per user, and forgets an id the moment the access channel announces it
(after the change committed, on every process); a TTL bounds a lost announcement.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from cachetools import TTLCache

from core.resources import Resources
from core.security import TokenClaims, TokenType
from domain.users import Principal, TokenInvalidError, TokenRevokedError, UserInactiveError, UserRole
from repository.auth_sessions import SessionAccess, read_access, read_access_from_pool
from service.auth import decode_token

# How long a process may trust what it read should an announcement be lost (Redis down).
ACCESS_CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _UserAccess:
    organization_id: uuid.UUID
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class _SessionState:
    user_id: uuid.UUID
    revoked: bool


class AccessGuard:
    """The caller of an access token, or the reason it no longer grants access."""

    def __init__(self, resources: Resources, ttl_seconds: float = ACCESS_CACHE_SECONDS) -> None:
        self._resources = resources
        # Two caches, so an announcement names either a session or a user and drops just that.
        self._sessions: TTLCache[uuid.UUID, _SessionState] = TTLCache(maxsize=200_000, ttl=ttl_seconds)
        self._users: TTLCache[uuid.UUID, _UserAccess] = TTLCache(maxsize=200_000, ttl=ttl_seconds)
        # Moves on every invalidation: a read that raced one must not store what it read.
        self.epoch = 0
        self._loading: dict[tuple[uuid.UUID, int], asyncio.Task[SessionAccess | None]] = {}

    async def principal(self, token: str) -> Principal:
        """Verify the token, then its session and user as they are now."""
        claims = decode_token(self._resources.token_codec, token, TokenType.ACCESS)
        if claims.session_id is None:
            raise TokenInvalidError("Access tokens name their session; sign in again.")
        session = self._sessions.get(claims.session_id)
        user = None if session is None else self._users.get(session.user_id)
        if session is None or user is None:
            access = await self._load(claims.session_id)
            if access is None:
                raise TokenRevokedError
            session = _SessionState(access.user_id, access.revoked)
            user = _UserAccess(access.organization_id, access.role, access.user_active)
        return _checked(claims, session, user)

    def invalidate(self, changed_id: uuid.UUID | None) -> None:
        """Forget a session or a user, or everything (None) when announcements may have been missed."""
        self.epoch += 1
        if changed_id is None:
            self._sessions.clear()
            self._users.clear()
            return
        self._sessions.pop(changed_id, None)
        self._users.pop(changed_id, None)

    async def _load(self, session_id: uuid.UUID) -> SessionAccess | None:
        """Concurrent misses of one session share one read (a tab's burst of requests, or every
        poll of it after an invalidation)."""
        key = (session_id, self.epoch)
        task = self._loading.get(key)
        if task is None:
            task = self._loading[key] = asyncio.create_task(self._read(key))
        # Shielded: one caller going away must not cancel the read the others wait for.
        return await asyncio.shield(task)

    async def _read(self, key: tuple[uuid.UUID, int]) -> SessionAccess | None:
        session_id, epoch = key
        try:
            access = await self._query(session_id)
            if access is not None and epoch == self.epoch:
                self._sessions[session_id] = _SessionState(access.user_id, access.revoked)
                self._users[access.user_id] = _UserAccess(access.organization_id, access.role, access.user_active)
            return access
        finally:
            self._loading.pop(key, None)

    async def _query(self, session_id: uuid.UUID) -> SessionAccess | None:
        pool = self._resources.raw_pool
        if pool is not None:
            return await read_access_from_pool(pool, session_id)
        # Processes without the raw pool (and tests inside one rolled-back transaction).
        async with self._resources.session_factory() as session:
            return await read_access(session, session_id)


def _checked(claims: TokenClaims, session: _SessionState, user: _UserAccess) -> Principal:
    if session.user_id != claims.subject or user.organization_id != claims.organization_id:
        raise TokenRevokedError
    if not user.active:  # before the session: a deactivation revokes them all, and says why first
        raise UserInactiveError
    if session.revoked:
        raise TokenRevokedError
    if user.role != claims.role:
        raise TokenRevokedError("The user's role changed; refresh the token.")
    return Principal(user_id=claims.subject, organization_id=claims.organization_id, role=UserRole(user.role))
