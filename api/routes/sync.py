"""Vitec sync: start one (admins) and see how the last one went."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import ADMIN_ONLY, AuthorizedFirstRoute, CurrentPrincipal, JobServiceDep, SessionDep
from api.exceptions import AUTH_ERRORS, JOB_CREATE_ERRORS, error_responses
from api.idempotency import IdempotencyDep
from api.responses import JOB_LINKS, job_accepted, links
from api.schemas.jobs import JobRead
from api.schemas.sync import SyncCounts, SyncError, SyncRequest, SyncStatusRead
from domain.users import AdminRequiredError
from service.vitec_sync import request_sync, sync_status

router = APIRouter(prefix="/sync", tags=["sync"], route_class=AuthorizedFirstRoute)


@router.post(
    "/vitec",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=ADMIN_ONLY,
    responses={
        202: {
            "model": JobRead,
            "description": "Accepted: the sync job (the active one, if a sync is running).",
            # What a sync fills: the organization's estates (and from there, their images).
            "links": {**JOB_LINKS, **links(estates=dict(operationId="estates-list_estates"))},
        },
        **error_responses(*JOB_CREATE_ERRORS, AdminRequiredError),
    },
)
async def start_vitec_sync(
    body: SyncRequest, principal: CurrentPrincipal, service: JobServiceDep, idempotency: IdempotencyDep
) -> Response:
    """Sync the organization's Vitec data now (admins): `incremental` fetches what changed since the
    last sync, `full` re-reads everything and removes estates gone from Vitec."""
    return job_accepted(await request_sync(service, principal, body.mode, idempotency))


@router.get("/vitec", response_model=SyncStatusRead, responses=error_responses(*AUTH_ERRORS))
async def read_vitec_sync(principal: CurrentPrincipal, session: SessionDep) -> SyncStatusRead:
    """The last sync's outcome, the watermark, the read model's live totals, and the active sync job."""
    state = await sync_status(session, principal)
    error = (
        SyncError(internal_code=state.last_error_code, message=state.last_error_message or "")
        if state.last_error_code
        else None
    )
    return SyncStatusRead(
        last_success_at=state.last_success_at,
        last_attempt_at=state.last_attempt_at,
        last_error=error,
        watermark=state.watermark,
        counts=SyncCounts(departments=state.departments, employees=state.employees, estates=state.estates),
        active_job_id=state.active_job_id,
    )
