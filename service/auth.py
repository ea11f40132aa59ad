"""Authentication: login, rotating refresh tokens with reuse detection, logout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.rate_limit import RateLimiter
from core.security import PasswordHasher, TokenClaims, TokenCodec, TokenExpired, TokenInvalid, TokenType
from core.settings import AuthSettings
from domain.users import (
    InvalidCredentialsError,
    LoginRateLimitedError,
    Principal,
    RefreshTokenReusedError,
    TokenExpiredError,
    TokenInvalidError,
    TokenRevokedError,
    UserInactiveError,
    UserRole,
    normalize_email,
)
from repository.models import RefreshToken, User
from repository.refresh_tokens import RefreshTokenRepository
from repository.users import UserRepository


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


def principal_from_access_token(codec: TokenCodec, token: str) -> Principal:
    """The caller named by a verified access token (no database round trip)."""
    claims = decode_token(codec, token, TokenType.ACCESS)
    try:
        role = UserRole(claims.role)
    except ValueError as exc:
        raise TokenInvalidError from exc
    return Principal(user_id=claims.subject, organization_id=claims.organization_id, role=role)


class AuthService:
    """Issues and rotates tokens for the users of every organization."""

    def __init__(
        self,
        session: AsyncSession,
        settings: AuthSettings,
        hasher: PasswordHasher,
        codec: TokenCodec,
        rate_limiter: RateLimiter,
    ) -> None:
        self._users = UserRepository(session)
        self._tokens = RefreshTokenRepository(session)
        self._settings = settings
        self._hasher = hasher
        self._codec = codec
        self._rate_limiter = rate_limiter
        self._login_limit = RateLimiter.parse(settings.login_rate_limit)

    async def login(self, email: str, password: str, client_address: str) -> TokenPair:
        """Exchange email and password for a token pair.

        Attempts are counted per email and per client address before the password is checked,
        so a locked-out caller is refused even with the right password.
        """
        email = normalize_email(email)
        await self._enforce_login_limit(email, client_address)
        user = await self._users.get_by_email(email)
        if not await self._hasher.verify(user.password_hash if user else None, password) or user is None:
            raise InvalidCredentialsError
        if not user.is_active:
            raise UserInactiveError
        now = datetime.now(UTC)
        changes: dict[str, object] = {"last_login_at": now}
        if self._hasher.needs_rehash(user.password_hash):
            changes["password_hash"] = await self._hasher.hash(password)
        await self._users.update(user, **changes)
        return await self._issue_pair(user, family_id=uuid.uuid4(), now=now)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend a refresh token for a new pair; a spent token presented again revokes its family."""
        claims = decode_token(self._codec, refresh_token, TokenType.REFRESH)
        stored = await self._tokens.get_for_update(claims.token_id)
        if stored is None:
            raise TokenInvalidError
        now = datetime.now(UTC)
        if stored.revoked_at is not None:
            raise TokenRevokedError
        if stored.used_at is not None:
            await self._tokens.revoke_family(stored.family_id, now)
            raise RefreshTokenReusedError
        user = await self._users.get(stored.user_id)
        if user is None or not user.is_active:
            raise UserInactiveError
        await self._tokens.update(stored, used_at=now)
        return await self._issue_pair(user, family_id=stored.family_id, now=now)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the session (token family) the refresh token belongs to."""
        claims = decode_token(self._codec, refresh_token, TokenType.REFRESH)
        stored = await self._tokens.get(claims.token_id)
        if stored is None:
            raise TokenInvalidError
        await self._tokens.revoke_family(stored.family_id, datetime.now(UTC))

    async def _enforce_login_limit(self, email: str, client_address: str) -> None:
        by_email = await self._rate_limiter.hit(self._login_limit, "login-email", email)
        by_address = await self._rate_limiter.hit(self._login_limit, "login-address", client_address)
        if not (by_email.allowed and by_address.allowed):
            raise LoginRateLimitedError(max(by_email.retry_after_seconds, by_address.retry_after_seconds))

    async def _issue_pair(self, user: User, family_id: uuid.UUID, now: datetime) -> TokenPair:
        access_token, _ = self._sign(user, TokenType.ACCESS, self._settings.access_token_ttl_seconds, now)
        refresh_token, claims = self._sign(user, TokenType.REFRESH, self._settings.refresh_token_ttl_seconds, now)
        await self._tokens.add(
            RefreshToken(id=claims.token_id, user_id=user.id, family_id=family_id, expires_at=claims.expires_at)
        )
        return TokenPair(access_token, refresh_token, expires_in=self._settings.access_token_ttl_seconds)

    def _sign(self, user: User, token_type: TokenType, ttl_seconds: int, now: datetime) -> tuple[str, TokenClaims]:
        return self._codec.encode(
            subject=user.id,
            organization_id=user.organization_id,
            role=user.role,
            token_type=token_type,
            ttl=timedelta(seconds=ttl_seconds),
            now=now,
        )
