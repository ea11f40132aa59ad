"""Test-only job kinds, loaded by the worker and scheduler subprocesses of the test suite as an
extra module (`taskiq worker worker.broker:broker worker.tasks tests.worker.support`).

`test.effect` records each start and end in Redis and applies its effect (an upsert counting runs)
inside the job's unit of work, so tests can see how often a job started, whether two runs ever
overlapped, and that its effect was applied exactly once.

With `TEST_REPORT_PHOTOS=1`, `reports.render` reads camera-sized photos instead of the simulator's
small images: a render long enough to outlast a short stale threshold.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from sqlalchemy import text

from core.settings import Settings
from domain.jobs import PermanentJobError, TransientJobError
from repository.models import Estate, EstateImage
from service import report_jobs
from service.job_kinds import JobKindSpec
from service.job_runner import JobContext
from service.reports import ImageBytes, ImageSource
from service.scheduling import ScheduleScope
from tests.factories.reports import photo
from worker.broker import broker
from worker.tasks import register_job_task

EFFECT_KIND = "test.effect"
TICK_KIND = "test.tick"
EFFECTS_TABLE = "test_support.effects"


def starts_key(job_id: object) -> str:
    return f"test:starts:{job_id}"


def ends_key(job_id: object) -> str:
    return f"test:ends:{job_id}"


async def effect(context: JobContext) -> dict[str, Any]:
    payload = context.payload
    redis = context.resources.redis
    await redis.rpush(starts_key(context.job_id), f"{context.resources.identity}|{context.attempt}|{time.time()}")
    await redis.expire(starts_key(context.job_id), 3600)
    steps = int(payload.get("steps", 0))
    for step in range(steps):
        await asyncio.sleep(float(payload.get("step_seconds", 0.1)))
        await context.progress((step + 1) * 100 // steps, f"step {step + 1} of {steps}")
    if context.attempt <= int(payload.get("fail_attempts", 0)):
        raise TransientJobError("flaky on purpose", code="test_flaky")
    if payload.get("permanent"):
        raise PermanentJobError("refused on purpose", code="test_permanent")
    await context.session.execute(
        text(
            f"INSERT INTO {EFFECTS_TABLE} (job_id, runs) VALUES (:job_id, 1) "
            f"ON CONFLICT (job_id) DO UPDATE SET runs = {EFFECTS_TABLE}.runs + 1"
        ),
        {"job_id": context.job_id},
    )
    await redis.rpush(ends_key(context.job_id), f"{context.resources.identity}|{time.time()}")
    await redis.expire(ends_key(context.job_id), 3600)
    return {"steps": steps, "attempt": context.attempt}


async def tick(context: JobContext) -> dict[str, Any]:
    return {"tick": context.payload.get("tick")}


def tick_schedules(settings: Settings) -> list[dict[str, Any]]:
    return [{"interval": 2, "schedule_id": TICK_KIND}]


class Photos:
    """A photo of 2400x1600 pixels for every image row, made off the event loop as a download would be."""

    async def fetch(self, installation: str, estate: Estate, image: EstateImage, longest: int) -> ImageBytes | None:
        return ImageBytes(await asyncio.to_thread(photo, image.sequence))


def photos(resources: object) -> ImageSource:
    return Photos()


if os.environ.get("TEST_REPORT_PHOTOS"):
    report_jobs.image_source = photos

register_job_task(broker, JobKindSpec(EFFECT_KIND, effect))
register_job_task(broker, JobKindSpec(TICK_KIND, tick, tick_schedules, scope=ScheduleScope.SYSTEM))
