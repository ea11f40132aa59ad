"""The hottest GET, answered below FastAPI's routing and parameter machinery.

Thousands of open tabs poll their jobs. For those, the framework's per-request work (route
matching, dependency and parameter resolution, response validation) costs more than the answer
itself (see bench/RESULTS.md). This layer answers, from the same code the routes use, a job poll:
`GET /api/v1/jobs/{id}` with no query or `?wait=N`.

Everything else goes on to the app untouched, and so does anything that fails here (a bad token, an
unknown job): the routes answer those, so errors are rendered in one place only. The layer sits
inside `RequestContextMiddleware`, so hot answers still carry the request id, the security headers,
the access log and the latency metrics.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import authenticate
from api.middleware import request_header
from api.routes import API_PREFIX
from api.routes.jobs import PollReply, answer_poll
from core.resources import Resources
from domain.errors import AppError
from domain.users import Principal
from service.job_polling import MAX_WAIT_SECONDS, JobPoller

JOB_POLL_PREFIX = f"{API_PREFIX}/jobs/"
_JSON = (b"content-type", b"application/json")


class HotPathMiddleware:
    """Answers well-formed job polls itself; passes everything else on."""

    def __init__(self, app: ASGIApp, *, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(JOB_POLL_PREFIX) and await self._poll(scope, send):
                return
        await self.app(scope, receive, send)

    async def _poll(self, scope: Scope, send: Send) -> bool:
        job_id = _uuid_or_none(scope["path"][len(JOB_POLL_PREFIX) :])
        wait = _wait_or_none(scope["query_string"])
        if job_id is None or wait is None:
            return False
        principal = await self._principal(scope)
        if principal is None:
            return False
        if_none_match = request_header(scope, b"if-none-match")
        poller = JobPoller(self._resources, self.api.state.job_cache)
        try:
            reply = await answer_poll(
                poller, principal, job_id,
                if_none_match=None if if_none_match is None else if_none_match.decode("latin-1"),
                wait=wait,
            )  # fmt: skip
        except AppError:
            return False
        if wait and await self._principal(scope) is None:
            return False  # signed out while it waited: the route answers the 401
        _mark_route(scope, _POLL_LABEL)
        await _send_poll(send, reply)
        return True

    @property
    def _resources(self) -> Resources:
        resources: Resources = self.api.state.resources
        return resources

    @staticmethod
    async def _principal(scope: Scope) -> Principal | None:
        """The caller, checked by the very function the routes depend on (revocation included)."""
        if request_header(scope, b"authorization") is None:
            return None
        try:
            return await authenticate(Request(scope))
        except AppError:
            return None


@dataclass(frozen=True, slots=True)
class _RouteLabel:
    """What routing leaves in `scope["route"]` that the latency metrics read: the route's template
    (relative to the API prefix, as the routers declare it)."""

    path_format: str


_POLL_LABEL = _RouteLabel("/jobs/{job_id}")


def _mark_route(scope: Scope, label: _RouteLabel) -> None:
    scope["route"] = label


def _uuid_or_none(text: str) -> uuid.UUID | None:
    """The id in its two usual spellings (36 characters with hyphens, or 32 hex digits); the other
    forms `uuid.UUID` accepts (braces, `urn:uuid:`) are the route's to judge, like any odd input."""
    hyphenated = len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-"
    if not (hyphenated or len(text) == 32):
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _wait_or_none(query: bytes) -> int | None:
    """`?wait=N` (0 ≤ N ≤ 30) or no query at all; anything else is the route's to judge."""
    if not query:
        return 0
    name, _, value = query.partition(b"=")
    if name != b"wait" or not value.isdigit() or len(value) > 2 or int(value) > MAX_WAIT_SECONDS:
        return None
    return int(value)


async def _send_poll(send: Send, reply: PollReply) -> None:
    headers = [(name.lower().encode(), value.encode()) for name, value in reply.headers.items()]
    if reply.body:
        headers += [_JSON, (b"content-length", str(len(reply.body)).encode())]
    await _send(send, reply.status, headers, reply.body)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
