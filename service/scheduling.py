"""Scheduled ticks become job rows: one per tick (and per organization), however many schedulers run.

Each tick's jobs carry a `schedule_key` with a unique index; the insert does nothing when another
scheduler (or this one, restarted within the tick) got there first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.resources import Resources
from repository.jobs import DispatchItem, JobRepository
from repository.organizations import OrganizationRepository
from service.unit_of_work import enqueue_after_commit, transaction


class ScheduleScope(StrEnum):
    SYSTEM = "system"  # one job per tick
    ORGANIZATION = "organization"  # one job per organization per tick


def tick_of(now: datetime, *, interval_seconds: int | None) -> datetime:
    """The tick a firing belongs to: the minute for cron schedules, the interval slot otherwise."""
    now = now.astimezone(UTC)
    if interval_seconds:
        slot = int(now.timestamp()) // interval_seconds * interval_seconds
        return datetime.fromtimestamp(slot, UTC)
    return now.replace(second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Tick:
    """One firing of a schedule: which kind, for whom, and what its jobs carry."""

    kind: str
    schedule_id: str
    at: datetime
    scope: ScheduleScope = ScheduleScope.SYSTEM
    payload: dict[str, Any] = field(default_factory=dict)
    # Jobs that may only run one at a time per organization (a sync) skip a tick while one is active.
    dedupe_key: str | None = None


async def create_tick_jobs(resources: Resources, tick: Tick) -> list[uuid.UUID]:
    """Create (and send after commit) this tick's jobs; answers the ids that were new."""
    created: list[uuid.UUID] = []
    async with transaction(resources) as session:
        jobs = JobRepository(session)
        if tick.scope is ScheduleScope.ORGANIZATION:
            owners: list[uuid.UUID | None] = list(await OrganizationRepository(session).list_ids())
        else:
            owners = [None]
        for organization_id in owners:
            key = f"{tick.schedule_id}:{tick.at.isoformat()}" + (f":{organization_id}" if organization_id else "")
            job_id = await jobs.create_for_tick(
                {
                    "id": uuid.uuid4(),
                    "organization_id": organization_id,
                    "kind": tick.kind,
                    "schedule_key": key,
                    "dedupe_key": tick.dedupe_key,
                    "max_attempts": resources.settings.jobs.max_attempts,
                    "payload": {**tick.payload, "schedule_id": tick.schedule_id, "tick": tick.at.isoformat()},
                }
            )
            if job_id is not None:
                enqueue_after_commit(session, DispatchItem(job_id, tick.kind, None))
                created.append(job_id)
    return created
