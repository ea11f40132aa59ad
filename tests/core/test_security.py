"""Token signing and verification."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest

from core import security
from core.security import PasswordHasher, PasswordHasherBusy, TokenCodec, TokenExpired, TokenInvalid, TokenType
from core.settings import AuthSettings

SECRET = "s" * 40


def codec() -> TokenCodec:
    return TokenCodec(AuthSettings(jwt_secret=SECRET))  # type: ignore[arg-type]


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = codec()
    token, claims = tokens.encode(
        subject=uuid.uuid4(), organization_id=uuid.uuid4(), role="broker", token_type=TokenType.ACCESS,
        ttl=timedelta(minutes=15),
    )  # fmt: skip
    assert tokens.decode(token, TokenType.ACCESS) == claims  # verified, and now remembered

    later = claims.expires_at.timestamp() + 1
    monkeypatch.setattr(security.time, "time", lambda: later)

    with pytest.raises(TokenExpired):
        tokens.decode(token, TokenType.ACCESS)


def test_remembering_is_per_kind_and_per_secret() -> None:
    tokens = codec()
    token, _ = tokens.encode(
        subject=uuid.uuid4(), organization_id=uuid.uuid4(), role="broker", token_type=TokenType.ACCESS,
        ttl=timedelta(minutes=15),
    )  # fmt: skip
    tokens.decode(token, TokenType.ACCESS)

    with pytest.raises(TokenInvalid):
        tokens.decode(token, TokenType.REFRESH)
    with pytest.raises(TokenInvalid):
        TokenCodec(AuthSettings(jwt_secret="t" * 40)).decode(token, TokenType.ACCESS)  # type: ignore[arg-type]


def slow_hasher(concurrency: int, wait_seconds: float) -> PasswordHasher:
    """Argon2 costly enough that a hash is still running right after it started."""
    return PasswordHasher(
        AuthSettings(
            jwt_secret=SECRET,  # type: ignore[arg-type]
            password_hash_memory_kib=16_384,
            password_hash_time_cost=2,
            password_hash_concurrency=concurrency,
            password_hash_wait_seconds=wait_seconds,
        )
    )


async def test_hashing_beyond_the_slots_is_refused_after_the_wait() -> None:
    hasher = slow_hasher(concurrency=1, wait_seconds=0.05)
    digest = await hasher.hash("a password")

    async with hasher.slot():
        with pytest.raises(PasswordHasherBusy):
            await hasher.verify(digest, "a password")
    assert await hasher.verify(digest, "a password")


async def test_a_cancelled_check_keeps_its_slot_until_its_hash_has_finished() -> None:
    hasher = slow_hasher(concurrency=1, wait_seconds=0)
    digest = await hasher.hash("a password")
    check = asyncio.create_task(hasher.verify(digest, "a password"))
    await asyncio.sleep(0)  # the check takes the slot and starts hashing in its thread
    check.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await check  # the caller has gone

    with pytest.raises(PasswordHasherBusy):  # the thread still runs: its slot is still taken
        await hasher.verify(digest, "a password")
    async with asyncio.timeout(10):
        while True:  # and frees it once the hash is done
            try:
                async with hasher.slot():
                    break
            except PasswordHasherBusy:
                await asyncio.sleep(0.01)
