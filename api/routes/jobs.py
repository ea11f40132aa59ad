"""Jobs: poll one (ETag, 304, Retry-After, long-poll) or follow it (Server-Sent Events), list, cancel, retry."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError
from sse_starlette import EventSourceResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from api.deps import (
    ADMIN_ONLY,
    AuthorizedFirstRoute,
    CurrentPrincipal,
    CursorCodecDep,
    JobFeedsDep,
    JobPollerDep,
    JobServiceDep,
    authenticate,
)
from api.exceptions import AUTH_ERRORS, error_responses
from api.pagination import Cursor, Limit
from api.responses import job_accepted, links
from api.routes import API_PREFIX
from api.schemas.jobs import JobCollection, JobLike, JobRead
from domain.errors import InvalidCursorError
from domain.jobs import JobKind, JobNotCancellableError, JobNotFoundError, JobNotRetryableError, JobStatus
from domain.users import AdminRequiredError, Principal
from service.job_events import nothing_left, resume_after
from service.job_polling import MAX_WAIT_SECONDS, JobPoller, retry_after_seconds
from service.jobs import JobStart

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=AuthorizedFirstRoute)

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": JobRead, "description": "Accepted: the job, with `Location` pointing at it."}
}


# An ETag names one version of one job, whose representation never changes: render it once.
_RENDERED: LRUCache[str, bytes] = LRUCache(maxsize=20_000)


def _rendered(etag: str, job: JobLike) -> bytes:
    body = _RENDERED.get(etag)
    if body is None:
        body = _RENDERED[etag] = JobRead.of(job).model_dump_json().encode()
    return body


@dataclass(frozen=True, slots=True)
class PollReply:
    """A poll's answer, ready to send: 200 with the job, or 304 with no body."""

    status: int
    headers: dict[str, str]
    body: bytes


async def answer_poll(
    poller: JobPoller, principal: Principal, job_id: uuid.UUID, *, if_none_match: str | None, wait: int
) -> PollReply:
    """The poll, as both `read_job` and `poll_route` answer it."""
    answer = await poller.poll(principal, job_id, if_none_match=if_none_match, wait_seconds=wait)
    headers = {"ETag": answer.etag}
    retry_after = retry_after_seconds(answer.job)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if answer.not_modified:
        return PollReply(status.HTTP_304_NOT_MODIFIED, headers, b"")
    return PollReply(status.HTTP_200_OK, headers, _rendered(answer.etag, answer.job))


@router.get(
    "/{job_id}",
    response_model=JobRead,
    responses={
        304: {"description": "Not modified since the `If-None-Match` ETag (no body)."},
        **error_responses(*AUTH_ERRORS, JobNotFoundError),
    },
)
async def read_job(
    request: Request,
    job_id: uuid.UUID,
    principal: CurrentPrincipal,
    poller: JobPollerDep,
    if_none_match: Annotated[str | None, Header()] = None,
    wait: Annotated[
        int, Query(ge=0, le=MAX_WAIT_SECONDS, description="Long-poll: answer as soon as the job changes, or after N s.")
    ] = 0,
) -> Response:
    """A job's state. Send the last `ETag` as `If-None-Match` to get `304` while nothing changed;
    honour `Retry-After` until the job has finished."""
    # Polls with the id in its canonical form are answered by `poll_route`, mounted before this
    # route; this one documents the operation and answers every other form of the id.
    return await _poll_response(request, poller, principal, job_id, if_none_match, wait)


async def _poll_response(
    request: Request, poller: JobPoller, principal: Principal, job_id: uuid.UUID, if_none_match: str | None, wait: int
) -> Response:
    reply = await answer_poll(poller, principal, job_id, if_none_match=if_none_match, wait=wait)
    if wait:  # the caller may have signed out (or been deactivated) while it waited
        await authenticate(request)
    if reply.status == status.HTTP_304_NOT_MODIFIED:
        return Response(status_code=reply.status, headers=reply.headers)
    return Response(reply.body, media_type="application/json", headers=reply.headers)


_WAIT: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=0, le=MAX_WAIT_SECONDS)])


async def _poll_job(request: Request) -> Response:
    """`read_job` without FastAPI's parameter machinery, which costs as much as the answer itself:
    the same `authenticate()`, the same poller and the same checks in FastAPI's order (the app-wide
    unknown-parameter check, then the caller, then `wait`), raising the same errors to the same
    handlers."""
    query = request.query_params
    unknown = sorted(set(query) - {"wait"})
    if unknown:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": "Unknown query parameter", "type": "extra_forbidden"} for name in unknown]
        )
    principal = await authenticate(request)
    try:
        wait = _WAIT.validate_python(query.get("wait", "0"), strict=False)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("query", "wait")} for error in exc.errors()]) from exc
    poller: JobPoller = request.app.state.job_poller
    job_id: uuid.UUID = request.path_params["job_id"]
    return await _poll_response(request, poller, principal, job_id, request.headers.get("if-none-match"), wait)


class _PollRoute(Route):
    """The job poll, the most frequent request there is, as an explicit route mounted before the
    routers (bench/RESULTS.md, issue 11: about half the Python per poll of the FastAPI route). It
    matches the canonical form of the id only; `read_job` answers the others."""

    def __init__(self) -> None:
        super().__init__(f"{API_PREFIX}/jobs/{{job_id:uuid}}", _poll_job, methods=["GET"], include_in_schema=False)
        # The latency metrics' label, as `read_job`'s (route templates relative to the API prefix).
        self.path_format = "/jobs/{job_id}"
        self.methods = {"GET"}  # not the HEAD Starlette adds: the API's routes answer HEAD with 405

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self  # what the metrics read; FastAPI's routes leave it, Starlette's do not
        return match, child_scope


poll_route = _PollRoute()


# Proxies close connections idle for 60 s or more (nginx's default): a comment line well before.
KEEP_ALIVE_SECONDS = 15.0
_EVENTS: LRUCache[tuple[uuid.UUID, int], bytes] = LRUCache(maxsize=20_000)


def _event(job: JobLike) -> bytes:
    """One version of a job as an SSE event, encoded once for all the streams that send it."""
    key = (job.id, job.version)
    event = _EVENTS.get(key)
    if event is None:
        body = JobRead.of(job).model_dump_json().encode()
        event = _EVENTS[key] = b"id: %d\ndata: %s\n\n" % (job.version, body)
    return event


async def _event_stream(states: AsyncGenerator[JobLike]) -> AsyncIterator[bytes]:
    # Closed with this stream, not whenever it is collected: the stream's subscription ends with it.
    async with contextlib.aclosing(states):
        async for job in states:
            yield _event(job)


# One event as a client's EventSource sees it (schemathesis checks each event against this).
_SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The job's version."},
        "event": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json", "description": "As `GET /jobs/{id}`."},
    },
    "required": ["data"],
}


def _version_or_none(last_event_id: str | None) -> int | None:
    """A browser sends back whatever `id:` it saw last; what is not one of ours starts the stream over."""
    if last_event_id is None or not last_event_id.isascii() or not last_event_id.isdigit():
        return None
    return int(last_event_id)


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`text/event-stream`: one event per state (`data` as in `GET /jobs/{id}`, `id` the "
            "job's version), `:` keep-alive comments; it ends after a final state.",
            "content": {"text/event-stream": {"schema": _SSE_EVENT}},
        },
        204: {"description": "`Last-Event-ID` is the job's final state: nothing more will come."},
        **error_responses(*AUTH_ERRORS, JobNotFoundError),
    },
)
async def follow_job(
    job_id: uuid.UUID,
    principal: CurrentPrincipal,
    poller: JobPollerDep,
    feeds: JobFeedsDep,
    last_event_id: Annotated[
        str | None,
        Header(max_length=64, description="The `id` of the last event received; any other value starts over."),
    ] = None,
) -> Response:
    """The job's state as Server-Sent Events: at once, then after every change, until it has finished.
    Reconnecting with `Last-Event-ID` resumes after that version."""
    job = await poller.read(principal, job_id)
    after = resume_after(job, _version_or_none(last_event_id))
    if nothing_left(job, after):
        # EventSource reconnects after a stream ends, but never after a 204.
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    states = feeds.follow(job, after_version=after)
    return EventSourceResponse(_event_stream(states), ping=KEEP_ALIVE_SECONDS, sep="\n")


@router.get(
    "",
    response_model=JobCollection,
    responses={
        200: {"links": links(read=dict(operationId="jobs-read_job", job_id="$response.body#/items/0/id"))},
        **error_responses(*AUTH_ERRORS, InvalidCursorError),
    },
)
async def list_jobs(
    principal: CurrentPrincipal,
    service: JobServiceDep,
    codec: CursorCodecDep,
    status_: Annotated[list[JobStatus] | None, Query(alias="status")] = None,
    kind: Annotated[list[JobKind] | None, Query(max_length=len(JobKind))] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JobCollection:
    """The organization's jobs, newest first; filter by `status` and `kind` (both repeatable)."""
    page = await service.list(
        principal,
        statuses=status_ or [],
        kinds=[k.value for k in kind or []],
        limit=limit,
        after=codec.decode_time_id(cursor),
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
    dependencies=ADMIN_ONLY,
    responses={
        **_ACCEPTED,
        **error_responses(*AUTH_ERRORS, AdminRequiredError, JobNotFoundError, JobNotRetryableError),
    },
)
async def retry_job(job_id: uuid.UUID, principal: CurrentPrincipal, service: JobServiceDep) -> Response:
    """Re-queue a failed job, with a fresh attempt budget (admins). Any other state: `409`."""
    return job_accepted(JobStart(await service.retry(principal, job_id), replayed=False))
