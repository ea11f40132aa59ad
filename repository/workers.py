"""Live workers, registered in Redis with a TTL: a worker that dies simply expires."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

_KEY = "estate-bff:workers:"


async def register_worker(redis: Redis, worker_id: str, ttl_seconds: int) -> None:
    await redis.set(_KEY + worker_id, datetime.now(UTC).isoformat(), ex=ttl_seconds)


async def unregister_worker(redis: Redis, worker_id: str) -> None:
    await redis.delete(_KEY + worker_id)


async def live_workers(redis: Redis) -> list[tuple[str, datetime]]:
    workers: list[tuple[str, datetime]] = []
    keys = [key async for key in redis.scan_iter(match=_KEY + "*", count=500)]
    if not keys:
        return workers
    for key, seen in zip(keys, await redis.mget(keys), strict=True):
        if seen is not None:
            workers.append((str(key)[len(_KEY) :], datetime.fromisoformat(str(seen))))
    return sorted(workers)
