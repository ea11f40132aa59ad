"""The worker process: `taskiq worker worker.broker:broker worker.tasks`.

Start-up builds the process's resources once, starts the keep-alive loop (which also registers
this worker as live in Redis) and the metrics endpoint; shutdown gives the jobs still running back
to the queue, then closes them. `build_worker_broker` makes a broker of this kind for a process
that runs other task modules on a broker of its own (the benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from prometheus_client import start_http_server
from redis.exceptions import RedisError
from taskiq import TaskiqEvents, TaskiqState

from core.broker import JobStreamBroker, create_broker
from core.logging import configure_logging, get_logger
from core.resources import Resources
from core.settings import get_settings
from service.blobs import prepare_blob_storage
from service.job_runner import JobRunner
from service.metrics import refresh_queue_metrics
from service.workers import register_alive, unregister

settings = get_settings()
configure_logging(settings.app)
logger = get_logger("worker")

# taskiq 0.13's signal handler only sets an Event; with the loop asleep in XREADGROUP nothing
# wakes it, and SIGTERM never ends the worker. A short periodic tick keeps the loop turning.
_WAKE_INTERVAL_SECONDS = 0.2
# The system-wide job and queue gauges (service.metrics), as fresh as a usual scrape interval.
_METRICS_REFRESH_SECONDS = 10.0


async def _keep_alive(resources: Resources) -> None:
    ttl = max(5, int(resources.settings.jobs.stale_after_seconds))
    next_registration = 0.0
    loop = asyncio.get_running_loop()
    while True:
        if loop.time() >= next_registration:
            try:
                await register_alive(resources, ttl)
            except RedisError as exc:
                logger.warning("worker_registration_failed", error=repr(exc))
            next_registration = loop.time() + ttl / 3
        await asyncio.sleep(_WAKE_INTERVAL_SECONDS)


async def _refresh_metrics(resources: Resources) -> None:
    while True:
        try:
            await refresh_queue_metrics(resources)
        except Exception:  # a broken refresh must not end the loop; the next one may work
            logger.exception("queue_metrics_failed")
        await asyncio.sleep(_METRICS_REFRESH_SECONDS)


async def startup(state: TaskiqState, broker: JobStreamBroker) -> None:
    resources = Resources.build(settings, broker=broker)
    await resources.start_raw_pool()
    await prepare_blob_storage(resources)
    state.resources = resources
    state.runner = JobRunner(resources)
    state.keep_alive = asyncio.create_task(_keep_alive(resources), name="worker-keep-alive")
    state.metrics = None
    if settings.jobs.worker_metrics_port:
        start_http_server(settings.jobs.worker_metrics_port, addr=settings.app.api_host)
        state.metrics = asyncio.create_task(_refresh_metrics(resources), name="worker-metrics")
    # As in the API: what start-up built lives as long as the process; keep it out of the cyclic
    # collector's full passes, which otherwise stall every running job.
    gc.freeze()
    logger.info("worker_started", worker_id=resources.identity)


async def shutdown(state: TaskiqState) -> None:
    # Taskiq stops waiting for running tasks after --wait-tasks-timeout and would then drop them
    # mid-body: give their jobs back to the queue first, so they neither wait for the sweeper nor
    # lose an attempt.
    await state.runner.release_all()
    for task in (state.keep_alive, state.metrics):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    resources: Resources = state.resources
    with contextlib.suppress(RedisError):
        await unregister(resources)
    await resources.close()
    logger.info("worker_stopped", worker_id=resources.identity)


def build_worker_broker() -> JobStreamBroker:
    """A broker with the worker's start-up and shutdown; tasks are registered on it by kind."""
    built = create_broker(settings)

    async def start(state: TaskiqState) -> None:
        await startup(state, built)

    built.add_event_handler(TaskiqEvents.WORKER_STARTUP, start)
    built.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    return built


broker = build_worker_broker()
