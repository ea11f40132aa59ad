"""The API with the job poll served two other ways, for the read-path benchmark's comparison only.

`fastapi_route_app()`: without `api.routes.jobs.poll_route`, so every poll takes the FastAPI route
`read_job` (dependencies for the caller and the poller, `Header` and `Query` parameters).

`middleware_app()`: with the job-poll fast path that `api/hot_paths.py` had until issue 11. It
answered a well-formed `GET /api/v1/jobs/{id}` (no query, or `?wait=N`) below FastAPI's routing: the
same `authenticate()`, the same poller and the same `answer_poll` as the route, sent as raw ASGI
messages. It is mounted where it was, just inside `RequestContextMiddleware`, so its answers still
pay for the request id, the security headers, the access log line and the latency metric.

The read-path benchmark (`bench/read_path.py`) polls through both and through the API as it is in
the same run; bench/RESULTS.md has the comparison. Served with `uvicorn --factory`.
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import authenticate
from api.main import create_app
from api.middleware import RequestContextMiddleware, request_header
from api.routes import API_PREFIX
from api.routes.jobs import PollReply, answer_poll, poll_route
from domain.errors import AppError
from domain.users import Principal
from service.job_polling import MAX_WAIT_SECONDS, JobPoller

JOB_POLL_PREFIX = f"{API_PREFIX}/jobs/"
_JSON = (b"content-type", b"application/json")


class _RouteLabel:
    path_format = "/jobs/{job_id}"


class PollFastPath:
    """Answers well-formed job polls itself; passes everything else (and every failure) on."""

    def __init__(self, app: ASGIApp, *, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(JOB_POLL_PREFIX):
            if await self._poll(scope, send):
                return
        await self.app(scope, receive, send)

    async def _poll(self, scope: Scope, send: Send) -> bool:
        job_id = _uuid_or_none(scope["path"][len(JOB_POLL_PREFIX) :])
        wait = _wait_or_none(scope["query_string"])
        if job_id is None or wait is None:
            return False
        principal = await _principal(scope)
        if principal is None:
            return False
        if_none_match = request_header(scope, b"if-none-match")
        poller = JobPoller(self.api.state.resources, self.api.state.job_cache)
        try:
            reply = await answer_poll(
                poller, principal, job_id,
                if_none_match=None if if_none_match is None else if_none_match.decode("latin-1"),
                wait=wait,
            )  # fmt: skip
        except AppError:
            return False
        if wait and await _principal(scope) is None:
            return False
        scope["route"] = _RouteLabel()
        await _send_poll(send, reply)
        return True


async def _principal(scope: Scope) -> Principal | None:
    if request_header(scope, b"authorization") is None:
        return None
    try:
        return await authenticate(Request(scope))
    except AppError:
        return None


def _uuid_or_none(text: str) -> uuid.UUID | None:
    hyphenated = len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-"
    if not (hyphenated or len(text) == 32):
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _wait_or_none(query: bytes) -> int | None:
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
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def fastapi_route_app() -> FastAPI:
    api = create_app()
    api.router.routes.remove(poll_route)
    return api


def middleware_app() -> FastAPI:
    api = create_app()
    # `user_middleware` is outermost first and built into the stack on the first request: put the
    # fast path right inside the request context, where `api/hot_paths.py` had it.
    context = next(i for i, m in enumerate(api.user_middleware) if m.cls is RequestContextMiddleware)  # type: ignore[comparison-overlap]
    api.user_middleware.insert(context + 1, Middleware(PollFastPath, api=api))
    return api
