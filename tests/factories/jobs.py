"""Jobs written straight through the repository, in any state a test needs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs import JobStatus
from repository.models import Job, Organization


async def create_job(
    session: AsyncSession,
    organization: Organization,
    *,
    kind: str = "maintenance.cleanup",
    status: JobStatus = JobStatus.QUEUED,
    **values: Any,
) -> Job:
    job = Job(id=uuid.uuid4(), organization_id=organization.id, kind=kind, status=status.value, **values)
    session.add(job)
    await session.flush()
    return job
