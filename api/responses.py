"""Answers shared by routes of several features."""

from __future__ import annotations

from fastapi import Response, status
from fastapi.responses import JSONResponse

from api.schemas.jobs import JobRead
from service.jobs import JobStart


def job_accepted(start: JobStart) -> Response:
    """`202` with the job and its `Location`; a replayed Idempotency-Key says so."""
    headers = {"Location": f"/api/v1/jobs/{start.job.id}"}
    if start.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = JobRead.of(start.job).model_dump(mode="json")
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED, headers=headers)
