"""Reachability probes of the stores the application depends on."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def database_reachable(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


async def redis_reachable(redis: Redis) -> bool:
    return bool(await redis.ping())
