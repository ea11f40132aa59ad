"""Change notifications over Redis pub/sub, one channel per kind of thing that changes.

- Jobs (`JOB_CHANNEL`, a job id): workers publish, API long-polls wait and the poll cache forgets.
- The read model (`READ_MODEL_CHANNEL`, an organization id): a sync that committed changes
  publishes, and the API forgets its cached pages of that organization.
- Access (`ACCESS_CHANNEL`, a user or sign-in session id): a logout, a revoked session or a changed
  user publishes after commit, and every API process forgets what it knew of that id's access.

One subscriber per channel and API process wakes the waiters of each id, so thousands of open
long-polls cost one Redis connection, not thousands.
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

JOB_CHANNEL = "estate-bff:job-changed"
READ_MODEL_CHANNEL = "estate-bff:read-model-changed"
ACCESS_CHANNEL = "estate-bff:access-changed"
logger = get_logger(__name__)


async def publish_change(redis: Redis, channel: str, changed_id: uuid.UUID) -> None:
    """Best effort: a lost notification only makes a long-poll answer at its deadline, or a cached
    page live until its TTL."""
    try:
        await redis.publish(channel, str(changed_id))
    except RedisError as exc:
        logger.warning("change_publish_failed", channel=channel, id=str(changed_id), error=repr(exc))


class ChangeListener:
    """Holds the process's subscription to one channel and the events of the ids being waited on."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._callbacks: list[Callable[[uuid.UUID | None], None]] = []

    async def announce(self, changed_id: uuid.UUID) -> None:
        """Something changed here: tell this process at once (read-your-writes), then every process."""
        self._wake(changed_id)
        await publish_change(self._redis, self.channel, changed_id)

    def on_change(self, callback: Callable[[uuid.UUID | None], None]) -> None:
        """Call `callback(id)` on every change, `callback(None)` when changes may have been missed."""
        self._callbacks.append(callback)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"listener-{self.channel}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        # redis-py can turn a cancellation that lands while it connects into a ConnectionError,
        # which the loop treats as a reconnect: cancel until the task has really ended.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        with contextlib.suppress(asyncio.CancelledError):
            task.result()

    @contextlib.asynccontextmanager
    async def watch(self, changed_id: uuid.UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the id changes, registered before the caller reads it, so a change
        between that read and the wait is never missed."""
        event = asyncio.Event()
        self._waiters[changed_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(changed_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[changed_id]

    async def wait_until_subscribed(self, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            await self._subscribed.wait()

    async def _run(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    self._wake_all()  # whatever changed before (re)subscribing went unheard
                    async for message in pubsub.listen():
                        self._wake(message.get("data"))
            except RedisError as exc:
                self._subscribed.clear()
                logger.warning("change_listener_reconnecting", channel=self.channel, error=repr(exc))
                # Waiters fall back to their deadlines meanwhile; wake them so they re-read.
                self._wake_all()
                await asyncio.sleep(1.0)

    def _wake(self, data: object) -> None:
        try:
            changed_id = uuid.UUID(str(data))
        except ValueError:
            return
        for callback in self._callbacks:
            callback(changed_id)
        for event in self._waiters.get(changed_id, ()):
            event.set()

    def _wake_all(self) -> None:
        for callback in self._callbacks:
            callback(None)
        for events in self._waiters.values():
            for event in events:
                event.set()
