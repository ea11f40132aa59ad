"""Sending jobs to the workers: one stream message per job, carrying only its id."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker

from core.settings import JobSettings
from repository.jobs import DispatchItem

SEND_TIMEOUT_SECONDS = 1.0


class JobQueue:
    """Sends job ids by kind (the kind is the task name: no task function is imported here)."""

    def __init__(self, broker: AsyncBroker) -> None:
        self._broker = broker

    async def send(self, item: DispatchItem) -> None:
        """Raises when Redis does not take the message in time; the caller decides what that means."""
        kicker: AsyncKicker[[str, str | None], None] = AsyncKicker(item.kind, self._broker, labels={})
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            await kicker.kiq(str(item.job_id), item.request_id)


@dataclass(frozen=True, slots=True)
class StreamStats:
    length: int
    pending: int
    lag: int | None


async def stream_stats(redis: Redis, settings: JobSettings) -> StreamStats:
    """Length of the stream; delivered-but-unacked (pending) and not-yet-delivered (lag) of the group."""
    try:
        length = int(await redis.xlen(settings.stream))
        groups = await redis.xinfo_groups(settings.stream)
    except ResponseError:  # no stream yet
        return StreamStats(length=0, pending=0, lag=0)
    group = next((g for g in groups if g.get("name") == settings.consumer_group), None)
    if group is None:
        return StreamStats(length=length, pending=0, lag=None)
    lag = group.get("lag")
    return StreamStats(length=length, pending=int(group.get("pending", 0)), lag=int(lag) if lag is not None else None)


async def delete_dead_consumers(redis: Redis, settings: JobSettings, live: set[str], idle_after_ms: int) -> list[str]:
    """Remove consumers that are not live and were idle longer than `idle_after_ms`.

    Their pending entries go with them; the jobs behind those were re-sent by the sweeper already.
    """
    try:
        consumers = await redis.xinfo_consumers(settings.stream, settings.consumer_group)
    except ResponseError:
        return []
    removed: list[str] = []
    for consumer in consumers:
        name = str(consumer["name"])
        if name not in live and int(consumer.get("idle", 0)) > idle_after_ms:
            await redis.xgroup_delconsumer(settings.stream, settings.consumer_group, name)
            removed.append(name)
    return removed
