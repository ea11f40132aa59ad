"""This process as a live worker."""

from __future__ import annotations

from core.resources import Resources
from repository.workers import register_worker, unregister_worker


async def register_alive(resources: Resources, ttl_seconds: int) -> None:
    await register_worker(resources.redis, resources.identity, ttl_seconds)


async def unregister(resources: Resources) -> None:
    await unregister_worker(resources.redis, resources.identity)
