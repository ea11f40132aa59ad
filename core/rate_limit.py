"""Rate limits held in Redis, so they hold across API replicas (the `limits` library)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from core.logging import get_logger
from core.settings import RedisSettings

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    retry_after_seconds: int


class RateLimiter:
    """Moving-window limits keyed by a namespace and caller-chosen identifiers (an email, an
    address, a user).

    Identifiers reach Redis only as keyed hashes (`identifier_key`): the store never holds an
    email or an address, and nobody who reads it can tell whose window is whose.
    """

    def __init__(
        self, settings: RedisSettings, identifier_key: bytes = b"", key_prefix: str = "estate-bff:ratelimit"
    ) -> None:
        # A pool of its own: the limits scripts expect raw replies, the shared client decodes them.
        self._pool = ConnectionPool.from_url(settings.url, socket_connect_timeout=2, socket_timeout=5)
        storage = RedisStorage(
            settings.url,
            implementation="redispy",
            key_prefix=key_prefix,
            connection_pool=self._pool,  # type: ignore[arg-type]  # passed through to redis-py as is
        )
        self._limiter = MovingWindowRateLimiter(storage)
        # While Redis is unreachable each process limits on its own: looser than the shared limit
        # (one window per replica), but never no limit at all.
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        # A key of its own, derived from the one given, so the hashes reveal nothing of it either.
        self._identifier_key = hashlib.sha256(b"estate-bff rate limit identifiers\0" + identifier_key).digest()

    @staticmethod
    def parse(limit: str) -> RateLimitItem:
        """`"10/minute"` and friends; raises ValueError on nonsense."""
        return parse(limit)

    async def hit(self, limit: RateLimitItem, namespace: str, *identifiers: str) -> RateLimitDecision:
        """Count one attempt against the identifiers' window; refused when the window is full."""
        wait = await self._wait_seconds(limit, self._keys(namespace, identifiers))
        if wait is None:
            return RateLimitDecision(allowed=True, retry_after_seconds=0)
        return RateLimitDecision(allowed=False, retry_after_seconds=max(1, math.ceil(wait)))

    async def acquire(self, limit: RateLimitItem, namespace: str, *identifiers: str) -> None:
        """Wait until the window has room, then take it: pacing, for callers that must not fail."""
        keys = self._keys(namespace, identifiers)
        while True:
            wait = await self._wait_seconds(limit, keys)
            if wait is None:
                return
            # Places free up as the window moves, in whichever process: sleeping is the only way.
            await asyncio.sleep(min(1.0, max(0.005, wait)))

    async def close(self) -> None:
        await self._pool.aclose()

    def _keys(self, namespace: str, identifiers: tuple[str, ...]) -> tuple[str, ...]:
        return (namespace, *(self._hashed(identifier) for identifier in identifiers))

    def _hashed(self, identifier: str) -> str:
        return hmac.new(self._identifier_key, identifier.encode(), hashlib.sha256).hexdigest()[:32]

    async def _wait_seconds(self, limit: RateLimitItem, keys: tuple[str, ...]) -> float | None:
        """Take one place in the window (None), or answer how long until one frees up."""
        try:
            return await self._take(self._limiter, limit, keys)
        except (RedisError, OSError) as exc:
            logger.warning("rate_limit_store_unreachable", error=repr(exc))
            return await self._take(self._fallback, limit, keys)

    @staticmethod
    async def _take(limiter: MovingWindowRateLimiter, limit: RateLimitItem, keys: tuple[str, ...]) -> float | None:
        if await limiter.hit(limit, *keys):
            return None
        stats = await limiter.get_window_stats(limit, *keys)
        return stats.reset_time - time.time()
