"""The Redis semaphore: a limit across holders, and leases that free themselves."""

from __future__ import annotations

import asyncio
import uuid

from core.resources import Resources
from core.semaphore import RedisSemaphore


async def test_at_most_limit_holders_and_release_frees_a_slot(resources: Resources) -> None:
    semaphore = RedisSemaphore(resources.redis, lease_seconds=30)
    key = f"test:semaphore:{uuid.uuid4().hex}"

    assert await semaphore.try_acquire(key, 2, "a")
    assert await semaphore.try_acquire(key, 2, "b")
    assert not await semaphore.try_acquire(key, 2, "c")
    await semaphore.release(key, "a")
    assert await semaphore.try_acquire(key, 2, "c")


async def test_a_dead_holders_lease_expires(resources: Resources) -> None:
    semaphore = RedisSemaphore(resources.redis, lease_seconds=0.2)
    key = f"test:semaphore:{uuid.uuid4().hex}"
    assert await semaphore.try_acquire(key, 1, "crashed-process")

    async with asyncio.timeout(3):
        async with semaphore.hold(key, 1):
            pass  # reached only once the crashed holder's lease ran out


async def test_hold_never_lets_more_than_limit_in(resources: Resources) -> None:
    semaphore = RedisSemaphore(resources.redis, lease_seconds=30, poll_seconds=0.005)
    key = f"test:semaphore:{uuid.uuid4().hex}"
    inside = peak = 0

    async def work() -> None:
        nonlocal inside, peak
        async with semaphore.hold(key, 3):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.03)
            inside -= 1

    await asyncio.gather(*(work() for _ in range(12)))

    assert peak == 3
