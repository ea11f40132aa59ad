"""Rate limits held in Redis, so they hold across API replicas (the `limits` library)."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
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
    """Moving-window limits keyed by caller-chosen identifiers (an email, an address, a user)."""

    def __init__(self, settings: RedisSettings, key_prefix: str = "estate-bff:ratelimit") -> None:
        # A pool of its own: the limits scripts expect raw replies, the shared client decodes them.
        self._pool = ConnectionPool.from_url(settings.url, socket_connect_timeout=2, socket_timeout=5)
        storage = RedisStorage(
            settings.url,
            implementation="redispy",
            key_prefix=key_prefix,
            connection_pool=self._pool,  # type: ignore[arg-type]  # passed through to redis-py as is
        )
        self._limiter = MovingWindowRateLimiter(storage)

    @staticmethod
    def parse(limit: str) -> RateLimitItem:
        """`"10/minute"` and friends; raises ValueError on nonsense."""
        return parse(limit)

    async def hit(self, limit: RateLimitItem, *identifiers: str) -> RateLimitDecision:
        """Count one attempt against every identifier's window; refused when the window is full.

        Fails open: while Redis is unreachable nothing is limited (and a warning is logged), so an
        outage of the limiter's store never takes sign-in or job creation down with it.
        """
        try:
            if await self._limiter.hit(limit, *identifiers):
                return RateLimitDecision(allowed=True, retry_after_seconds=0)
            stats = await self._limiter.get_window_stats(limit, *identifiers)
        except (RedisError, OSError) as exc:
            logger.warning("rate_limit_store_unreachable", error=repr(exc))
            return RateLimitDecision(allowed=True, retry_after_seconds=0)
        return RateLimitDecision(allowed=False, retry_after_seconds=max(1, math.ceil(stats.reset_time - time.time())))

    async def acquire(self, limit: RateLimitItem, *identifiers: str) -> None:
        """Wait until the window has room, then take it: pacing, for callers that must not fail."""
        while True:
            try:
                if await self._limiter.hit(limit, *identifiers):
                    return
                stats = await self._limiter.get_window_stats(limit, *identifiers)
            except (RedisError, OSError) as exc:
                logger.warning("rate_limit_store_unreachable", error=repr(exc))
                return
            await asyncio.sleep(min(1.0, max(0.005, stats.reset_time - time.time())))

    async def close(self) -> None:
        await self._pool.aclose()
