"""Rate limits: identifiers never stored in clear, and a limit even while Redis is down."""

from __future__ import annotations

import uuid

from core.rate_limit import RateLimiter
from core.resources import Resources
from core.settings import RedisSettings
from tests.conftest import TEST_REDIS_URL

LIMIT = RateLimiter.parse("10/minute")


async def test_identifiers_reach_redis_only_hashed(resources: Resources) -> None:
    limiter = RateLimiter(RedisSettings(url=TEST_REDIS_URL), identifier_key=b"k" * 32)
    email, address = f"someone-{uuid.uuid4().hex}@example.com", f"10.{uuid.uuid4().int % 250}.1.2"
    try:
        await limiter.hit(LIMIT, "login-email", email)
        await limiter.hit(LIMIT, "login-address", address)
    finally:
        await limiter.close()

    keys = [str(key) for key in await resources.redis.keys("*ratelimit*")]
    assert any("login-email" in key for key in keys)
    assert not [key for key in keys if email in key or address in key]


async def test_the_same_identifier_under_another_key_is_another_window(resources: Resources) -> None:
    first = RateLimiter(RedisSettings(url=TEST_REDIS_URL), identifier_key=b"a" * 32)
    second = RateLimiter(RedisSettings(url=TEST_REDIS_URL), identifier_key=b"b" * 32)
    identifier = uuid.uuid4().hex
    try:
        for _ in range(10):
            assert (await first.hit(LIMIT, "test", identifier)).allowed
        refused = await first.hit(LIMIT, "test", identifier)
        elsewhere = await second.hit(LIMIT, "test", identifier)
    finally:
        await first.close()
        await second.close()

    assert not refused.allowed
    assert elsewhere.allowed


async def test_without_redis_each_process_still_limits() -> None:
    unreachable = RateLimiter(RedisSettings(url="redis://127.0.0.1:1/0"))
    try:
        decisions = [await unreachable.hit(LIMIT, "login-address", "10.0.0.1") for _ in range(11)]
        other = await unreachable.hit(LIMIT, "login-address", "10.0.0.2")
    finally:
        await unreachable.close()

    assert [decision.allowed for decision in decisions] == [True] * 10 + [False]
    assert 1 <= decisions[-1].retry_after_seconds <= 60
    assert other.allowed
