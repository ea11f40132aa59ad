"""Cached estate-list pages, answered below FastAPI's routing and parameter machinery.

Thousands of open tabs page through the same estate lists. For those, the framework's per-request
work (route matching, dependency and parameter resolution, response validation) cost more than the
answer itself (see bench/RESULTS.md). This layer answers a page the page cache holds
(`api.page_cache`): a read-model GET that its route rendered before for the same organization and the
same query string.

Job polls are no longer answered here but by an explicit route mounted before the routers
(`api.routes.jobs.poll_route`), at 1.0-1.3x the Python this layer spent on one and about half the
FastAPI route's (bench/RESULTS.md, issue 11).

Everything else goes on to the app untouched, and so does anything that fails here (a bad token):
the routes answer those, so errors are rendered in one place only. The layer sits inside
`RequestContextMiddleware`, so hot answers still carry the request id, the security headers, the
access log and the latency metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import authenticate
from api.middleware import request_header
from api.routes import API_PREFIX
from domain.errors import AppError
from domain.users import Principal

_JSON = (b"content-type", b"application/json")


class HotPathMiddleware:
    """Answers cached pages itself; passes everything else on."""

    def __init__(self, app: ASGIApp, *, api: FastAPI, cached_paths: frozenset[str]) -> None:
        self.app = app
        self.api = api
        self.cached_paths = cached_paths
        self._page_labels = {path: _RouteLabel(path.removeprefix(API_PREFIX)) for path in cached_paths}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] in self.cached_paths
            and await self._cached_page(scope, send)
        ):
            return
        await self.app(scope, receive, send)

    async def _cached_page(self, scope: Scope, send: Send) -> bool:
        principal = await self._principal(scope)
        if principal is None:
            return False
        body = self.api.state.page_cache.get(principal.organization_id, scope["path"], scope["query_string"])
        if body is None:
            return False
        _mark_route(scope, self._page_labels[scope["path"]])
        await _send(send, 200, [_JSON, (b"content-length", str(len(body)).encode())], body)
        return True

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


def _mark_route(scope: Scope, label: _RouteLabel) -> None:
    scope["route"] = label


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
