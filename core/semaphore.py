"""A counting semaphore in Redis, shared by every process: at most N holders of a key at a time.

Each holder takes a lease (a sorted-set member scored by its expiry, measured on Redis's own clock),
so a process that dies while holding one frees it when the lease runs out instead of leaking it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.logging import get_logger

logger = get_logger(__name__)

# KEYS[1] the holders; ARGV: lease milliseconds, limit, holder id. 1 when the lease was taken.
_ACQUIRE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
    return 1
end
return 0
"""


class RedisSemaphore:
    """`async with semaphore.hold(key, limit):` waits for one of `limit` slots of `key`."""

    def __init__(self, redis: Redis, lease_seconds: float, poll_seconds: float = 0.02) -> None:
        self._redis = redis
        self._lease_ms = int(lease_seconds * 1000)
        self._poll_seconds = poll_seconds
        self._acquire = redis.register_script(_ACQUIRE)

    async def try_acquire(self, key: str, limit: int, holder: str) -> bool:
        return bool(await self._acquire(keys=[key], args=[self._lease_ms, limit, holder]))

    async def release(self, key: str, holder: str) -> None:
        await self._redis.zrem(key, holder)

    @asynccontextmanager
    async def hold(self, key: str, limit: int) -> AsyncIterator[None]:
        """Wait for a slot, hold it for the block. Without Redis the block runs unguarded (logged):
        the limit protects the remote system, and an outage of Redis must not stop all work."""
        holder = uuid.uuid4().hex
        try:
            # Slots are freed by other processes: polling is the only way to learn of it.
            acquired = await self.try_acquire(key, limit, holder)
            while not acquired:
                await asyncio.sleep(self._poll_seconds)
                acquired = await self.try_acquire(key, limit, holder)
        except RedisError as exc:
            logger.warning("semaphore_unavailable", key=key, error=repr(exc))
            yield
            return
        try:
            yield
        finally:
            try:
                await self.release(key, holder)
            except RedisError as exc:  # the lease expires on its own
                logger.warning("semaphore_release_failed", key=key, error=repr(exc))
