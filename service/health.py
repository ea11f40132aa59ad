"""Readiness: is every backing service reachable right now?"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from core.logging import get_logger
from core.resources import Resources
from repository.health import database_reachable, redis_reachable
from service.blobs import blob_store

logger = get_logger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0


async def _probe(name: str, check: Callable[[], Awaitable[bool]]) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            return await check()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness_probe_failed", component=name, error=repr(exc))
        return False


async def check_readiness(resources: Resources) -> dict[str, bool]:
    """Probe every dependency concurrently, each bounded by a timeout."""
    checks = {
        "postgres": lambda: database_reachable(resources.engine),
        "redis": lambda: redis_reachable(resources.redis),
        "blob_storage": lambda: blob_store(resources).ping(),
    }
    results = await asyncio.gather(*(_probe(name, check) for name, check in checks.items()))
    return dict(zip(checks, results, strict=True))
