"""The raw pool of the polling hot path reads exactly what the session path reads."""

from __future__ import annotations

import uuid

from core.resources import Resources
from domain.jobs import JobStatus
from domain.users import Principal, UserRole
from repository.jobs import read_snapshot, read_snapshot_from_pool
from repository.models import Job
from service.job_polling import JobPoller
from service.unit_of_work import transaction


async def test_pool_and_session_reads_agree(live: Resources, organization_id: uuid.UUID) -> None:
    await live.start_raw_pool()
    assert live.raw_pool is not None
    try:
        job_id = uuid.uuid4()
        async with transaction(live) as session:
            session.add(
                Job(id=job_id, organization_id=organization_id, kind="maintenance.cleanup",
                    status=JobStatus.SUCCEEDED.value, result={"document_id": "d-1", "nested": {"n": 1}})
            )  # fmt: skip

        from_pool = await read_snapshot_from_pool(live.raw_pool, organization_id, job_id)
        async with live.session_factory() as session:
            from_session = await read_snapshot(session, organization_id, job_id)
        other_organization = await read_snapshot_from_pool(live.raw_pool, uuid.uuid4(), job_id)
        polled = await JobPoller(live).read(
            Principal(user_id=uuid.uuid4(), organization_id=organization_id, role=UserRole.BROKER), job_id
        )
    finally:
        await live.raw_pool.close()
        live.raw_pool = None

    assert from_pool == from_session == polled
    assert from_pool is not None
    assert from_pool.result == {"document_id": "d-1", "nested": {"n": 1}}
    assert other_organization is None
