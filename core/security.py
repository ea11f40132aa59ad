"""Security primitives: Argon2 password hashing and HS256 JSON Web Tokens.

Pure mechanisms with no knowledge of users or the database; the auth service decides policy.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import jwt
from argon2 import PasswordHasher as _Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import TTLCache

from core.settings import AuthSettings

T = TypeVar("T")
JWT_ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "org", "role", "typ", "jti", "iat", "exp"]


class PasswordHasherBusy(Exception):
    """No hashing slot came free within the wait."""


class PasswordHasher:
    """Argon2id hashing run off the event loop (each hash costs tens of milliseconds of CPU and
    tens of MiB), at most `password_hash_concurrency` at a time per process."""

    def __init__(self, settings: AuthSettings) -> None:
        self._hasher = _Argon2Hasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )
        # Verified against when the email is unknown, so both paths cost the same time.
        self._dummy_hash = self._hasher.hash(uuid.uuid4().hex)
        self._slots = asyncio.Semaphore(settings.password_hash_concurrency)
        self._wait_seconds = settings.password_hash_wait_seconds
        # Callers waiting for a slot right now.
        self.waiting = 0

    async def hash(self, password: str) -> str:
        return await self._bounded(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; a missing hash still spends the full verification time."""
        return await self._bounded(self._verify_sync, password_hash, password)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the bounded hashing slots for the block; PasswordHasherBusy as `_acquire`."""
        await self._acquire()
        try:
            yield
        finally:
            self._slots.release()

    async def _bounded(self, function: Callable[..., T], *args: Any) -> T:
        """Run in a thread that keeps its slot until it has finished, even when the caller is
        cancelled meanwhile (a client gone away must not free a slot whose hash still runs)."""
        await self._acquire()
        work = asyncio.ensure_future(asyncio.to_thread(function, *args))
        work.add_done_callback(lambda _: self._slots.release())
        return await asyncio.shield(work)

    async def _acquire(self) -> None:
        """Wait for a slot; PasswordHasherBusy when none comes free within `password_hash_wait_seconds`."""
        self.waiting += 1
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise PasswordHasherBusy from exc
        finally:
            self.waiting -= 1

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify_sync(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified claims of one of our JWTs."""

    subject: uuid.UUID
    organization_id: uuid.UUID
    role: str
    token_type: TokenType
    token_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    # `sid`: the sign-in session (refresh-token family) an access token belongs to.
    session_id: uuid.UUID | None = None


class TokenExpired(Exception):
    """The token was genuine but its `exp` has passed."""


class TokenInvalid(Exception):
    """The token is malformed, forged, of an unaccepted algorithm, or lacks a claim."""


class TokenCodec:
    """Signs and verifies HS256 tokens; only HS256 is accepted, so `alg: none` never passes.

    A verified token is remembered (until its own expiry, at most a minute): a polling frontend
    presents the same token thousands of times, and re-verifying it each time is most of a poll's
    cost. The signature is a pure function of the token, so remembering the outcome is exact.
    """

    def __init__(self, settings: AuthSettings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._verified: TTLCache[tuple[str, TokenType], TokenClaims] = TTLCache(maxsize=50_000, ttl=60)

    def encode(
        self,
        *,
        subject: uuid.UUID,
        organization_id: uuid.UUID,
        role: str,
        token_type: TokenType,
        ttl: timedelta,
        token_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        now: datetime | None = None,
    ) -> tuple[str, TokenClaims]:
        issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
        claims = TokenClaims(
            subject=subject,
            organization_id=organization_id,
            role=role,
            token_type=token_type,
            token_id=token_id or uuid.uuid4(),
            issued_at=issued_at,
            expires_at=issued_at + ttl,
            session_id=session_id,
        )
        payload: dict[str, Any] = {
            "sub": str(claims.subject),
            "org": str(claims.organization_id),
            "role": claims.role,
            "typ": claims.token_type.value,
            "jti": str(claims.token_id),
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        if session_id is not None:
            payload["sid"] = str(session_id)
        return jwt.encode(payload, self._secret, algorithm=JWT_ALGORITHM), claims

    def decode(self, token: str, expected_type: TokenType) -> TokenClaims:
        """Verify signature, expiry, required claims and kind.

        Raises:
            TokenExpired: a genuine token past its expiry.
            TokenInvalid: anything else wrong, including a token of the other kind.
        """
        remembered = self._verified.get((token, expected_type))
        if remembered is not None:
            if remembered.expires_at.timestamp() <= time.time():
                raise TokenExpired
            return remembered
        claims = self._verify(token, expected_type)
        self._verified[(token, expected_type)] = claims
        return claims

    def _verify(self, token: str, expected_type: TokenType) -> TokenClaims:
        try:
            payload = jwt.decode(token, self._secret, algorithms=[JWT_ALGORITHM], options={"require": _REQUIRED_CLAIMS})
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(str(exc)) from exc
        if payload["typ"] != expected_type.value:
            raise TokenInvalid(f"expected a {expected_type.value} token")
        try:
            return TokenClaims(
                subject=uuid.UUID(payload["sub"]),
                organization_id=uuid.UUID(payload["org"]),
                role=str(payload["role"]),
                token_type=TokenType(payload["typ"]),
                token_id=uuid.UUID(payload["jti"]),
                issued_at=datetime.fromtimestamp(payload["iat"], UTC),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
                session_id=uuid.UUID(payload["sid"]) if "sid" in payload else None,
            )
        except (ValueError, TypeError) as exc:
            raise TokenInvalid("malformed claims") from exc
