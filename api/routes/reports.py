"""Reports: start the rendering of an estate's PDF report (the worker renders it)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from api.deps import AuthorizedFirstRoute, CurrentPrincipal, JobServiceDep, SessionDep
from api.exceptions import JOB_CREATE_ERRORS, error_responses
from api.idempotency import IdempotencyDep
from api.responses import JOB_LINKS, job_accepted
from api.schemas.jobs import JobRead
from api.schemas.reports import ReportRequest
from domain.vitec import EstateNotFoundError
from service.report_jobs import request_report

router = APIRouter(tags=["reports"], route_class=AuthorizedFirstRoute)


@router.post(
    "/estates/{estate_id}/reports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses={
        202: {
            "model": JobRead,
            "description": "Accepted: the `reports.render` job; its `result` names the report's document.",
            "links": JOB_LINKS,
        },
        **error_responses(*JOB_CREATE_ERRORS, EstateNotFoundError),
    },
)
async def create_report(
    estate_id: uuid.UUID,
    body: ReportRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    jobs: JobServiceDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Render a PDF report of the estate in the worker: a document of kind `report`, whose id the job's
    `result` holds (`{document_id, reused}`; `reused` when the estate is unchanged since that report)."""
    return job_accepted(await request_report(session, jobs, principal, estate_id, body.template, idempotency))
