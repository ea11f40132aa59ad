"""Task definitions: thin. Each kind's task loads nothing itself; the runner claims the job and
calls the kind's service handler. The task name is the job kind."""

from __future__ import annotations

import uuid
from typing import Any

from taskiq import AsyncBroker, Context, TaskiqDepends

from core.logging import get_logger
from core.settings import get_settings
from domain.jobs import JobKind
from service.image_mirror import mirror as mirror_images
from service.job_runner import JobHandler, JobRunner
from service.maintenance import cleanup
from service.scheduling import ScheduleScope
from service.vitec_sync import sync as vitec_sync
from service.vitec_sync import sync_schedules
from worker.broker import broker

logger = get_logger(__name__)


def register_job_task(
    target: AsyncBroker,
    kind: str,
    handler: JobHandler,
    *,
    schedule: list[dict[str, Any]] | None = None,
    scope: ScheduleScope = ScheduleScope.SYSTEM,
    dedupe_key: str | None = None,
) -> None:
    """Register the task that runs jobs of `kind` with `handler` (and its schedules, if any)."""

    async def run_job(
        job_id: str,
        request_id: str | None = None,
        context: Context = TaskiqDepends(),  # noqa: B008 - taskiq's way of declaring a dependency
    ) -> None:
        try:
            parsed = uuid.UUID(job_id)
        except ValueError:
            logger.error("job_message_malformed", kind=kind, job_id=job_id)
            return
        runner: JobRunner = context.state.runner
        await runner.run(parsed, kind, handler)

    labels: dict[str, Any] = {"schedule_scope": scope.value}
    if dedupe_key:
        labels["dedupe_key"] = dedupe_key
    if schedule:
        labels["schedule"] = schedule
    target.register_task(run_job, task_name=kind, **labels)


register_job_task(
    broker,
    JobKind.MAINTENANCE_CLEANUP,
    cleanup,
    schedule=[{"cron": get_settings().jobs.cleanup_cron, "schedule_id": JobKind.MAINTENANCE_CLEANUP.value}],
)
register_job_task(
    broker,
    JobKind.VITEC_SYNC,
    vitec_sync,
    schedule=sync_schedules(get_settings().vitec),
    scope=ScheduleScope.ORGANIZATION,
    dedupe_key=JobKind.VITEC_SYNC.value,
)
register_job_task(broker, JobKind.BLOBS_MIRROR, mirror_images)
