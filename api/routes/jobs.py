"""Jobs: poll one (ETag, 304, Retry-After, long-poll), list, cancel, retry."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import APIRouter, Header, Query, Request, Response, status

from api.deps import CurrentPrincipal, CursorCodecDep, JobServiceDep, authenticate, job_poller
from api.exceptions import error_responses
from api.pagination import Cursor, Limit
from api.responses import job_accepted
from api.routes.users import AUTH_ERRORS
from api.schemas.jobs import JobCollection, JobLike, JobRead
from domain.errors import InvalidCursorError
from domain.jobs import JobNotCancellableError, JobNotFoundError, JobNotRetryableError, JobStatus
from domain.users import AdminRequiredError
from service.job_polling import MAX_WAIT_SECONDS, retry_after_seconds
from service.jobs import JobStart

router = APIRouter(prefix="/jobs", tags=["jobs"])

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": JobRead, "description": "Accepted: the job, with `Location` pointing at it."}
}


@router.get(
    "/{job_id}",
    response_model=JobRead,
    openapi_extra={"security": [{"BearerPrincipal": []}]},
    responses={
        304: {"description": "Not modified since the `If-None-Match` ETag (no body)."},
        **error_responses(*AUTH_ERRORS, JobNotFoundError),
    },
)
async def read_job(
    job_id: uuid.UUID,
    request: Request,
    if_none_match: Annotated[str | None, Header()] = None,
    wait: Annotated[
        int, Query(ge=0, le=MAX_WAIT_SECONDS, description="Long-poll: answer as soon as the job changes, or after N s.")
    ] = 0,
) -> Response:
    """A job's state. Send the last `ETag` as `If-None-Match` to get `304` while nothing changed;
    honour `Retry-After` until the job has finished."""
    # The hot path: authentication and the poller are resolved here rather than as dependencies,
    # whose resolution would cost more than the whole cached poll (see bench/RESULTS.md).
    principal = await authenticate(request)
    poller = job_poller(request)
    answer = await poller.poll(principal, job_id, if_none_match=if_none_match, wait_seconds=wait)
    headers = {"ETag": answer.etag}
    retry_after = retry_after_seconds(answer.job)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if answer.not_modified:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(_rendered(answer.etag, answer.job), media_type="application/json", headers=headers)


# An ETag names one version of one job, whose representation never changes: render it once.
_RENDERED: LRUCache[str, bytes] = LRUCache(maxsize=20_000)


def _rendered(etag: str, job: JobLike) -> bytes:
    body = _RENDERED.get(etag)
    if body is None:
        body = _RENDERED[etag] = JobRead.of(job).model_dump_json().encode()
    return body


@router.get("", response_model=JobCollection, responses=error_responses(*AUTH_ERRORS, InvalidCursorError))
async def list_jobs(
    principal: CurrentPrincipal,
    service: JobServiceDep,
    codec: CursorCodecDep,
    status_: Annotated[list[JobStatus] | None, Query(alias="status")] = None,
    kind: Annotated[list[str] | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JobCollection:
    """The organization's jobs, newest first; filter by `status` and `kind` (both repeatable)."""
    page = await service.list(
        principal, statuses=status_ or [], kinds=kind or [], limit=limit, after=codec.decode_time_id(cursor)
    )
    return JobCollection(items=[JobRead.of(job) for job in page.items], next_cursor=codec.encode_time_id(page.next_key))


@router.post(
    "/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses={**_ACCEPTED, **error_responses(*AUTH_ERRORS, JobNotFoundError, JobNotCancellableError)},
)
async def cancel_job(job_id: uuid.UUID, principal: CurrentPrincipal, service: JobServiceDep) -> Response:
    """Cancel: a queued job never runs; a running one stops at its next checkpoint. `409` once finished."""
    return job_accepted(JobStart(await service.cancel(principal, job_id), replayed=False))


@router.post(
    "/{job_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses={
        **_ACCEPTED,
        **error_responses(*AUTH_ERRORS, AdminRequiredError, JobNotFoundError, JobNotRetryableError),
    },
)
async def retry_job(job_id: uuid.UUID, principal: CurrentPrincipal, service: JobServiceDep) -> Response:
    """Re-queue a failed job, with a fresh attempt budget (admins). Any other state: `409`."""
    return job_accepted(JobStart(await service.retry(principal, job_id), replayed=False))
