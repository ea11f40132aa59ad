"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request on the hot path)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.exceptions import internal_error_response, service_unavailable_response
from api.request_context import choose_request_id, set_request_id
from core.logging import bind_log_context, clear_log_context, get_logger, log_request
from core.metrics import HTTP_REQUEST_DURATION
from core.outages import is_outage

logger = get_logger(__name__)

_SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
_NO_STORE = (b"cache-control", b"no-store")


def request_header(scope: Scope, name: bytes) -> bytes | None:
    """One request header from the raw ASGI list (names are lower-case there)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class RequestContextMiddleware:
    """Request id in and out, security headers, an access log line, and the last-resort 500.

    The catch-all lives here rather than in Starlette's outermost error middleware so that even a
    500 carries the request id and the security headers. Headers are read and written as raw ASGI
    lists: this runs on every request, job polls included.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = request_header(scope, b"x-request-id")
        request_id = choose_request_id(offered.decode("latin-1") if offered is not None else None)
        set_request_id(request_id)
        clear_log_context()
        bind_log_context(request_id=request_id)
        # Anything answered to an authenticated request is private to that caller.
        private = request_header(scope, b"authorization") is not None
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = self._response_headers(message.get("headers", []), request_id, private)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            outage = is_outage(exc)
            if outage:
                logger.warning("dependency_unavailable", path=scope["path"], method=scope["method"], error=repr(exc))
            else:
                logger.exception("unhandled_error", path=scope["path"], method=scope["method"])
            if response_started:
                raise
            answer = service_unavailable_response if outage else internal_error_response
            await answer(scope["path"])(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path_format", "unmatched")
            HTTP_REQUEST_DURATION.labels(method=scope["method"], route=route, status=status).observe(elapsed)
            log_request(scope["method"], scope["path"], status, round(elapsed * 1000, 2))

    def _response_headers(
        self, headers: Iterable[tuple[bytes, bytes]], request_id: str, private: bool
    ) -> list[tuple[bytes, bytes]]:
        out = [(key, value) for key, value in headers if not (private and key == b"cache-control")]
        present = {key for key, _ in out}
        out.append((b"x-request-id", request_id.encode("latin-1")))
        out.extend(header for header in _SECURITY_HEADERS if header[0] not in present)
        if private:
            out.append(_NO_STORE)
        if self.hsts:
            out.append(_HSTS)
        return out
