"""Answers shared by routes of several features."""

from __future__ import annotations

from typing import Any

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


def links(**targets: dict[str, str]) -> dict[str, Any]:
    """OpenAPI links of a response: `name={"operationId": ..., "<param>": "$response.body#/..."}`, so
    a generated client (or a stateful fuzzer) knows where an answer's ids lead."""
    return {
        name: {
            "operationId": target["operationId"],
            "parameters": {k: v for k, v in target.items() if k != "operationId"},
        }
        for name, target in targets.items()
    }


# The job a 202 answered, and what can be done with it.
JOB_LINKS = links(
    read=dict(operationId="jobs-read_job", job_id="$response.body#/id"),
    cancel=dict(operationId="jobs-cancel_job", job_id="$response.body#/id"),
    retry=dict(operationId="jobs-retry_job", job_id="$response.body#/id"),
)
