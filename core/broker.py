"""The Taskiq broker: Redis Streams with a consumer group, hardened against taskiq-redis's traps.

Read TASKIQ.md for the why. In short: messages carry only a job id; the job row decides whether a
delivery runs (so redelivery never runs a job twice at once); the stream is capped; the group is
created by producers too, and re-created when Redis lost it; a broken connection is retried, never
fatal; and nothing relies on XAUTOCLAIM (it only runs after unrelated traffic): the sweeper re-sends
the jobs of dead workers from the job table.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncGenerator

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

from core.logging import get_logger
from core.settings import Settings

logger = get_logger(__name__)

_RECONNECT_DELAY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


def worker_identity(settings: Settings) -> str:
    """A stable name for this process: the stream consumer name and the job rows' `claimed_by`."""
    return settings.jobs.worker_name or f"{socket.gethostname()}:{os.getpid()}"


class JobStreamBroker(RedisStreamBroker):
    """RedisStreamBroker that survives Redis restarts and connection loss while listening."""

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        failures = 0
        while True:
            try:
                async for message in super().listen():
                    failures = 0
                    yield message
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis restarted without persistence: the stream and its group are gone.
                logger.warning("job_stream_group_missing", stream=self.queue_name)
                await self._declare_consumer_group()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                delay = _RECONNECT_DELAY_SECONDS[min(failures, len(_RECONNECT_DELAY_SECONDS) - 1)]
                failures += 1
                logger.warning("job_stream_unreachable", error=repr(exc), retry_in_seconds=delay)
                await asyncio.sleep(delay)

    async def startup(self) -> None:
        """Start even when Redis is down: sends fail until it is back (the sweeper re-sends them),
        and the listener creates the consumer group when it first finds it missing."""
        try:
            await super().startup()
        except (RedisError, OSError) as exc:
            logger.warning("job_stream_unreachable_at_start", error=repr(exc))


def create_broker(settings: Settings, consumer_name: str | None = None) -> JobStreamBroker:
    jobs = settings.jobs
    return JobStreamBroker(
        url=settings.redis.url,
        queue_name=jobs.stream,
        consumer_group_name=jobs.consumer_group,
        consumer_name=consumer_name or worker_identity(settings),
        # A group created after messages were sent must still read them.
        consumer_id="0",
        xread_block=1000,
        maxlen=jobs.stream_maxlen,
        approximate=True,
        idle_timeout=int(jobs.stream_idle_timeout_seconds * 1000),
        # One message at a time: a busy consumer must not hoard deliveries others could run.
        xread_count=1,
        unacknowledged_batch_size=10,
        # A worker killed while holding the autoclaim lock must not block the others forever.
        unacknowledged_lock_timeout=5.0,
        socket_connect_timeout=1,
        socket_timeout=5,
    )
