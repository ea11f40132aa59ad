"""Task definitions: thin. One task per registered job kind (`service.job_kinds.KINDS`); the
runner claims the job and calls the kind's handler. The task name is the job kind."""

from __future__ import annotations

import uuid
from typing import Any

from taskiq import AsyncBroker, Context, TaskiqDepends

from core.logging import get_logger
from core.settings import get_settings
from service.job_kinds import KINDS, JobKindRegistry, JobKindSpec
from service.job_runner import JobHandler, JobRunner
from worker.broker import broker

logger = get_logger(__name__)


def register_kind_task(target: AsyncBroker, spec: JobKindSpec) -> None:
    """Register the task that runs jobs of `spec.kind` with its handler (and its schedules, if any)."""
    handler: JobHandler = spec.handler

    async def run_job(
        job_id: str,
        request_id: str | None = None,
        context: Context = TaskiqDepends(),  # noqa: B008 - taskiq's way of declaring a dependency
    ) -> None:
        try:
            parsed = uuid.UUID(job_id)
        except ValueError:
            logger.error("job_message_malformed", kind=spec.kind, job_id=job_id)
            return
        runner: JobRunner = context.state.runner
        await runner.run(parsed, spec.kind, handler)

    labels: dict[str, Any] = {"schedule_scope": spec.scope.value}
    if spec.dedupe_key:
        labels["dedupe_key"] = spec.dedupe_key
    schedule = spec.schedules(get_settings())
    if schedule:
        labels["schedule"] = schedule
    target.register_task(run_job, task_name=spec.kind, **labels)


def register_kind_tasks(target: AsyncBroker, kinds: JobKindRegistry = KINDS) -> None:
    """A task on `target` for every registered kind it does not run yet."""
    for spec in kinds:
        if target.find_task(spec.kind) is None:
            register_kind_task(target, spec)


def register_job_task(target: AsyncBroker, spec: JobKindSpec) -> None:
    """Make a kind runnable in this process (creation accepts it) and run it on `target`."""
    KINDS.register(spec)
    register_kind_task(target, spec)


register_kind_tasks(broker)
