"""Job change notifications over Redis pub/sub: workers publish, API long-polls wait.

One channel for all jobs and one subscriber per API process that wakes the waiters of each job, so
thousands of open long-polls cost one Redis connection, not thousands.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.logging import get_logger

CHANNEL = "estate-bff:job-changed"
logger = get_logger(__name__)


async def publish_job_changed(redis: Redis, job_id: uuid.UUID) -> None:
    """Best effort: a lost notification only makes a long-poll answer at its deadline."""
    try:
        await redis.publish(CHANNEL, str(job_id))
    except RedisError as exc:
        logger.warning("job_change_publish_failed", job_id=str(job_id), error=repr(exc))


class JobChangeListener:
    """Holds the process's subscription and the events of the jobs being waited on."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._callbacks: list[Callable[[uuid.UUID | None], None]] = []

    async def announce(self, job_id: uuid.UUID) -> None:
        """A job changed here: tell this process at once (read-your-writes), then every process."""
        self._wake(job_id)
        await publish_job_changed(self._redis, job_id)

    def on_change(self, callback: Callable[[uuid.UUID | None], None]) -> None:
        """Call `callback(job_id)` on every change, `callback(None)` when changes may have been missed."""
        self._callbacks.append(callback)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="job-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.asynccontextmanager
    async def watch(self, job_id: uuid.UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the job changes, registered before the caller reads the job, so a
        change between that read and the wait is never missed."""
        event = asyncio.Event()
        self._waiters[job_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(job_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[job_id]

    async def wait_until_subscribed(self, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            await self._subscribed.wait()

    async def _run(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    self._wake_all()  # whatever changed before (re)subscribing went unheard
                    async for message in pubsub.listen():
                        self._wake(message.get("data"))
            except RedisError as exc:
                self._subscribed.clear()
                logger.warning("job_change_listener_reconnecting", error=repr(exc))
                # Waiters fall back to their deadlines meanwhile; wake them so they re-read.
                self._wake_all()
                await asyncio.sleep(1.0)

    def _wake(self, data: object) -> None:
        try:
            job_id = uuid.UUID(str(data))
        except ValueError:
            return
        for callback in self._callbacks:
            callback(job_id)
        for event in self._waiters.get(job_id, ()):
            event.set()

    def _wake_all(self) -> None:
        for callback in self._callbacks:
            callback(None)
        for events in self._waiters.values():
            for event in events:
                event.set()
