"""Following a job: every state it reaches, pushed to the streams that follow it (Server-Sent Events).

Each API process keeps one feed per followed job: a single task that waits on the job-change channel
and reads the job once per change, however many streams follow it; the streams only look at the
feed's latest state. A thousand tabs on one job cost one read per change, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator

from core.logging import get_logger
from core.metrics import JOB_EVENT_STREAMS
from core.resources import Resources
from repository.jobs import JobSnapshot
from service.job_polling import JobPoller, JobSnapshotCache, is_finished

# A job change whose notification was lost (publishing is best effort) still reaches the streams
# after this long; it costs one read per followed job and period, whatever the number of streams.
RECHECK_SECONDS = 30.0
logger = get_logger(__name__)


def resume_after(job: JobSnapshot, last_event_id: int | None) -> int:
    """The version a stream resumes after: the client's last one, unless it is none of this job's
    (then the stream starts over with the current state)."""
    if last_event_id is None or last_event_id > job.version:
        return 0
    return last_event_id


def nothing_left(job: JobSnapshot, after_version: int) -> bool:
    """The client has the job's final state already: a stream would never send anything."""
    return is_finished(job) and after_version >= job.version


class JobFeed:
    """One job's latest state in this process, and the wake-up of the streams waiting for the next."""

    def __init__(self, first: JobSnapshot) -> None:
        self.latest = first
        self.gone = False
        self.followers = 0
        self.task: asyncio.Task[None] | None = None
        # Set once the feed has read the job after subscribing to its changes.
        self.ready = asyncio.Event()
        self._next = asyncio.Event()

    @property
    def done(self) -> bool:
        """Nothing will follow: the job reached a final state or is gone."""
        return self.gone or is_finished(self.latest)

    def publish(self, job: JobSnapshot | None) -> None:
        """A fresh read of the job (None: it no longer exists); wakes the streams if it moved on."""
        if job is None:
            self.gone = True
        elif job.version > self.latest.version:
            self.latest = job
        else:
            return
        self._wake()

    def close(self) -> None:
        self.gone = True
        self.ready.set()
        self._wake()

    async def next_change(self) -> None:
        await self._next.wait()

    def _wake(self) -> None:
        # A fresh event per state: streams that wake late still see this one set.
        event, self._next = self._next, asyncio.Event()
        event.set()


class JobFeeds:
    """The process's feeds, one per followed job, each alive while at least one stream follows it."""

    def __init__(
        self, resources: Resources, cache: JobSnapshotCache | None, recheck_seconds: float = RECHECK_SECONDS
    ) -> None:
        self._resources = resources
        self._poller = JobPoller(resources, cache)
        self.recheck_seconds = recheck_seconds
        self._feeds: dict[uuid.UUID, JobFeed] = {}

    def followers(self, job_id: uuid.UUID) -> int:
        feed = self._feeds.get(job_id)
        return 0 if feed is None else feed.followers

    @property
    def open_feeds(self) -> int:
        return len(self._feeds)

    async def follow(self, first: JobSnapshot, *, after_version: int = 0) -> AsyncGenerator[JobSnapshot]:
        """The job's current state (`first`, or newer), then every later one, each once and in
        order, skipping versions up to `after_version`; ends after a final state."""
        JOB_EVENT_STREAMS.inc()
        try:
            if is_finished(first):
                if first.version > after_version:
                    yield first
                return
            async with self._following(first) as feed:
                sent = after_version
                while True:
                    job = feed.latest
                    if job.version > sent:
                        yield job
                        sent = job.version
                    if feed.done:
                        return
                    await feed.next_change()
        finally:
            JOB_EVENT_STREAMS.dec()

    async def close(self) -> None:
        """End every stream and stop every feed (the process is shutting down)."""
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            feed.close()
            if feed.task is not None:
                feed.task.cancel()
        await asyncio.gather(*(feed.task for feed in feeds if feed.task is not None), return_exceptions=True)

    @contextlib.asynccontextmanager
    async def _following(self, first: JobSnapshot) -> AsyncIterator[JobFeed]:
        feed = self._feeds.get(first.id)
        if feed is None or feed.done:  # a done feed may be draining while a retried job starts over
            feed = self._feeds[first.id] = JobFeed(first)
            feed.task = asyncio.create_task(self._run(feed), name=f"job-feed-{first.id}")
        else:
            feed.publish(first)  # the stream's own read may be the newer one
        feed.followers += 1
        try:
            # Usually a cache hit; it makes a stream's first state one the feed has checked since
            # it subscribed, so no change can fall between the two.
            await feed.ready.wait()
            yield feed
        finally:
            feed.followers -= 1
            if feed.followers == 0:
                if feed.task is not None:
                    feed.task.cancel()
                if self._feeds.get(first.id) is feed:
                    del self._feeds[first.id]

    async def _run(self, feed: JobFeed) -> None:
        """Read the job after every change until it is done: registered before the first read, so a
        change between the stream's own read and this one is not missed."""
        job_id, organization_id = feed.latest.id, feed.latest.organization_id
        assert organization_id is not None  # streams follow only their organization's jobs
        async with self._resources.job_changes.watch(job_id) as changed:
            while True:
                changed.clear()
                try:
                    feed.publish(await self._poller.current(organization_id, job_id))
                except Exception as exc:  # the next change or recheck reads again
                    logger.warning("job_feed_read_failed", job_id=str(job_id), error=repr(exc))
                feed.ready.set()
                if feed.done:
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.recheck_seconds):
                        await changed.wait()
