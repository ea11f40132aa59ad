"""The shared Redis client."""

from __future__ import annotations

from redis.asyncio import Redis

from core.settings import RedisSettings


def create_redis(settings: RedisSettings) -> Redis:
    """One pooled client per process; responses decoded to `str`."""
    client: Redis = Redis.from_url(
        settings.url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )
    return client
