"""The scheduler process: `taskiq scheduler worker.scheduler:scheduler --skip-first-run`.

It never sends a schedule's message itself: each tick becomes job rows (unique per tick), sent
after commit like every other job, so two schedulers produce one job per tick. The same process
runs the sweeper.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from taskiq import ScheduleSource, TaskiqScheduler
from taskiq.schedule_sources import LabelScheduleSource
from taskiq.scheduler.scheduled_task import ScheduledTask

import worker.tasks  # noqa: F401 - registers the tasks whose labels hold the schedules
from core.logging import get_logger
from core.resources import Resources
from core.settings import get_settings
from service.job_sweeper import JobSweeper
from service.scheduling import ScheduleScope, Tick, create_tick_jobs, tick_of
from worker.broker import broker

logger = get_logger("scheduler")


class JobScheduler(TaskiqScheduler):
    """Turns schedule firings into job rows and runs the sweeper beside them."""

    resources: Resources
    _sweeper: asyncio.Task[None]

    async def startup(self) -> None:
        # The broker is ours (a JobStreamBroker); the resources own its start and stop.
        self.resources = Resources.build(get_settings(), broker=broker)
        await self.resources.start_producer()
        self._sweeper = asyncio.create_task(JobSweeper(self.resources).run_forever(), name="job-sweeper")
        logger.info("scheduler_started")

    async def on_ready(self, source: ScheduleSource, task: ScheduledTask) -> None:
        interval = task.interval
        seconds = int(interval.total_seconds()) if isinstance(interval, timedelta) else interval
        tick = tick_of(datetime.now(UTC), interval_seconds=seconds or None)
        created = await create_tick_jobs(
            self.resources,
            Tick(
                kind=task.task_name,
                schedule_id=task.schedule_id,
                at=tick,
                scope=ScheduleScope(task.labels.get("schedule_scope", ScheduleScope.SYSTEM.value)),
                payload=dict(task.kwargs),
                dedupe_key=task.labels.get("dedupe_key"),
            ),
        )
        logger.info("schedule_fired", schedule_id=task.schedule_id, tick=tick.isoformat(), jobs=len(created))

    async def shutdown(self) -> None:
        self._sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sweeper
        await self.resources.close()


scheduler = JobScheduler(broker, sources=[LabelScheduleSource(broker)])
