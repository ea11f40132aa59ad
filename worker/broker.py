"""The worker process: `taskiq worker worker.broker:broker worker.tasks`.

Start-up builds the process's resources once, starts the keep-alive loop (which also registers
this worker as live in Redis) and the metrics endpoint; shutdown closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from prometheus_client import start_http_server
from redis.exceptions import RedisError
from taskiq import TaskiqEvents, TaskiqState

from core.broker import create_broker
from core.logging import configure_logging, get_logger
from core.resources import Resources
from core.settings import get_settings
from service.blobs import prepare_blob_storage
from service.job_runner import JobRunner
from service.vitec_sync import close_vitec_clients
from service.workers import register_alive, unregister

settings = get_settings()
configure_logging(settings.app)
logger = get_logger("worker")

broker = create_broker(settings)

# taskiq 0.13's signal handler only sets an Event; with the loop asleep in XREADGROUP nothing
# wakes it, and SIGTERM never ends the worker. A short periodic tick keeps the loop turning.
_WAKE_INTERVAL_SECONDS = 0.2


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


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def startup(state: TaskiqState) -> None:
    resources = Resources.build(settings, broker=broker)
    await resources.start_raw_pool()
    await prepare_blob_storage(resources)
    state.resources = resources
    state.runner = JobRunner(resources)
    state.keep_alive = asyncio.create_task(_keep_alive(resources), name="worker-keep-alive")
    if settings.jobs.worker_metrics_port:
        start_http_server(settings.jobs.worker_metrics_port, addr=settings.app.api_host)
    # As in the API: what start-up built lives as long as the process; keep it out of the cyclic
    # collector's full passes, which otherwise stall every running job.
    gc.freeze()
    logger.info("worker_started", worker_id=resources.identity)


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def shutdown(state: TaskiqState) -> None:
    state.keep_alive.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await state.keep_alive
    resources: Resources = state.resources
    await close_vitec_clients()
    with contextlib.suppress(RedisError):
        await unregister(resources)
    await resources.close()
    logger.info("worker_stopped", worker_id=resources.identity)
