"""Operations for organization admins: the queue at a glance, maintenance on demand."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import ADMIN_ONLY, AuthorizedFirstRoute, CurrentPrincipal, JobServiceDep
from api.exceptions import AUTH_ERRORS, JOB_CREATE_ERRORS, error_responses
from api.idempotency import IdempotencyDep
from api.responses import JOB_LINKS, job_accepted
from api.schemas.jobs import JobRead, KindCounts, QueueRead, StreamInfo, WorkerInfo
from domain.users import AdminRequiredError
from service.maintenance import request_cleanup

router = APIRouter(prefix="/admin", tags=["admin"], route_class=AuthorizedFirstRoute)


@router.get(
    "/queue",
    response_model=QueueRead,
    dependencies=ADMIN_ONLY,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError),
)
async def read_queue(principal: CurrentPrincipal, service: JobServiceDep) -> QueueRead:
    """The organization's jobs by kind and status, the oldest queued job's age, the stream's
    length, pending and lag, and the live workers (admins)."""
    overview = await service.overview(principal)
    return QueueRead(
        kinds={kind: KindCounts(**counts) for kind, counts in overview.counts.items()},
        oldest_queued_age_seconds=overview.oldest_queued_age_seconds,
        stream=StreamInfo(length=overview.stream_length, pending=overview.stream_pending, lag=overview.stream_lag),
        workers=[WorkerInfo(id=worker_id, last_seen_at=seen) for worker_id, seen in overview.workers],
    )


@router.post(
    "/maintenance/cleanup",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=ADMIN_ONLY,
    responses={
        202: {
            "model": JobRead,
            "description": "Accepted: the cleanup job (the active one, if any).",
            "links": JOB_LINKS,
        },
        **error_responses(*JOB_CREATE_ERRORS, AdminRequiredError),
    },
)
async def start_cleanup(principal: CurrentPrincipal, service: JobServiceDep, idempotency: IdempotencyDep) -> Response:
    """Run `maintenance.cleanup` now (admins): purges expired tokens and keys, old finished jobs,
    and dead stream consumers. While one is queued or running, that job is answered."""
    return job_accepted(await request_cleanup(service, principal, idempotency))
