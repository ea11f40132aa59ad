"""Authentication: login, rotating refresh tokens with reuse detection, logout (sessions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.database import SessionFactory
from core.rate_limit import RateLimiter
from core.security import (
    PasswordHasher,
    PasswordHasherBusy,
    TokenClaims,
    TokenCodec,
    TokenExpired,
    TokenInvalid,
    TokenType,
)
from core.settings import AuthSettings
from domain.users import (
    InvalidCredentialsError,
    LoginRateLimitedError,
    PasswordCheckBusyError,
    RefreshTokenReusedError,
    TokenExpiredError,
    TokenInvalidError,
    TokenRevokedError,
    UserInactiveError,
    normalize_email,
)
from repository.auth_sessions import AuthSessionRepository
from repository.models import AuthSession, RefreshToken, User
from repository.refresh_tokens import RefreshTokenRepository
from repository.users import UserRepository
from service.unit_of_work import notify_access_after_commit


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def decode_token(codec: TokenCodec, token: str, token_type: TokenType) -> TokenClaims:
    """Verify one of our tokens, turning its failures into domain errors."""
    try:
        return codec.decode(token, token_type)
    except TokenExpired as exc:
        raise TokenExpiredError from exc
    except TokenInvalid as exc:
        raise TokenInvalidError from exc


@dataclass(frozen=True, slots=True)
class _Credentials:
    user_id: uuid.UUID
    password_hash: str
    is_active: bool


class AuthService:
    """Issues and rotates tokens for the users of every organization."""

    def __init__(
        self,
        session: AsyncSession,
        session_factory: SessionFactory,
        settings: AuthSettings,
        hasher: PasswordHasher,
        codec: TokenCodec,
        rate_limiter: RateLimiter,
    ) -> None:
        self._session = session
        self._session_factory = session_factory
        self._users = UserRepository(session)
        self._tokens = RefreshTokenRepository(session)
        self._sessions = AuthSessionRepository(session)
        self._settings = settings
        self._hasher = hasher
        self._codec = codec
        self._rate_limiter = rate_limiter
        self._login_limit = RateLimiter.parse(settings.login_rate_limit)

    async def login(self, email: str, password: str, client_address: str) -> TokenPair:
        """Exchange email and password for a token pair.

        Attempts are counted per client address, then per email, before the password is checked,
        so a locked-out caller is refused even with the right password. Argon2 runs before this
        request's unit of work touches the database: a flood of sign-ins holds no connections.
        """
        email = normalize_email(email)
        await self._enforce_login_limit(email, client_address)
        credentials = await self._read_credentials(email)
        if not await self._verify(credentials.password_hash if credentials else None, password) or not credentials:
            raise InvalidCredentialsError
        if not credentials.is_active:
            raise UserInactiveError
        new_hash = await self._rehash(credentials.password_hash, password)
        # Locked: a deactivation committing meanwhile is seen here, not after the session exists.
        user = await self._users.get_for_update(credentials.user_id)
        if user is None or not user.is_active:
            raise UserInactiveError
        now = datetime.now(UTC)
        await self._users.update(user, last_login_at=now, **({"password_hash": new_hash} if new_hash else {}))
        sign_in = await self._sessions.add(AuthSession(user_id=user.id))
        return await self._issue_pair(user, session_id=sign_in.id, now=now)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend a refresh token for a new pair; a spent token presented again revokes its session."""
        claims = decode_token(self._codec, refresh_token, TokenType.REFRESH)
        family_id = await self._tokens.family_of(claims.token_id)
        if family_id is None:
            raise TokenInvalidError
        # The session's lock serializes this refresh with any other refresh or logout of it.
        sign_in = await self._sessions.get_for_update(family_id)
        stored = await self._tokens.get_for_update(claims.token_id)
        now = datetime.now(UTC)
        if sign_in is None or stored is None or sign_in.revoked_at is not None or stored.revoked_at is not None:
            raise TokenRevokedError
        if stored.used_at is not None:
            await self._revoke(sign_in, now)
            raise RefreshTokenReusedError
        user = await self._users.get(stored.user_id)
        if user is None or not user.is_active:
            raise UserInactiveError
        await self._tokens.update(stored, used_at=now)
        return await self._issue_pair(user, session_id=sign_in.id, now=now)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the session (token family) the refresh token belongs to, and its access tokens."""
        claims = decode_token(self._codec, refresh_token, TokenType.REFRESH)
        family_id = await self._tokens.family_of(claims.token_id)
        if family_id is None:
            raise TokenInvalidError
        sign_in = await self._sessions.get_for_update(family_id)
        if sign_in is not None and sign_in.revoked_at is None:
            await self._revoke(sign_in, datetime.now(UTC))

    async def _revoke(self, sign_in: AuthSession, now: datetime) -> None:
        await self._sessions.update(sign_in, revoked_at=now)
        await self._tokens.revoke_family(sign_in.id, now)
        notify_access_after_commit(self._session, sign_in.id)

    async def _read_credentials(self, email: str) -> _Credentials | None:
        """In a short session of its own, so no connection stays checked out while Argon2 runs."""
        async with self._session_factory() as session:
            user = await UserRepository(session).get_by_email(email)
            return None if user is None else _Credentials(user.id, user.password_hash, user.is_active)

    async def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return await self._hasher.verify(password_hash, password)
        except PasswordHasherBusy as exc:
            raise PasswordCheckBusyError from exc

    async def _rehash(self, password_hash: str, password: str) -> str | None:
        if not self._hasher.needs_rehash(password_hash):
            return None
        try:
            return await self._hasher.hash(password)
        except PasswordHasherBusy:
            return None  # the old hash still verifies; the next sign-in upgrades it

    async def _enforce_login_limit(self, email: str, client_address: str) -> None:
        # The address first, and the email only when the address may still try: one address
        # cycling through victims' emails must not lock those victims out.
        by_address = await self._rate_limiter.hit(self._login_limit, "login-address", client_address)
        if not by_address.allowed:
            raise LoginRateLimitedError(by_address.retry_after_seconds)
        by_email = await self._rate_limiter.hit(self._login_limit, "login-email", email)
        if not by_email.allowed:
            raise LoginRateLimitedError(by_email.retry_after_seconds)

    async def _issue_pair(self, user: User, session_id: uuid.UUID, now: datetime) -> TokenPair:
        access_token, _ = self._sign(user, TokenType.ACCESS, self._settings.access_token_ttl_seconds, now, session_id)
        refresh_token, claims = self._sign(user, TokenType.REFRESH, self._settings.refresh_token_ttl_seconds, now)
        await self._tokens.add(
            RefreshToken(id=claims.token_id, user_id=user.id, family_id=session_id, expires_at=claims.expires_at)
        )
        return TokenPair(access_token, refresh_token, expires_in=self._settings.access_token_ttl_seconds)

    def _sign(
        self, user: User, token_type: TokenType, ttl_seconds: int, now: datetime, session_id: uuid.UUID | None = None
    ) -> tuple[str, TokenClaims]:
        return self._codec.encode(
            subject=user.id,
            organization_id=user.organization_id,
            role=user.role,
            token_type=token_type,
            ttl=timedelta(seconds=ttl_seconds),
            session_id=session_id,
            now=now,
        )
