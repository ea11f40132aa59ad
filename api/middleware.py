"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request on the hot path)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.exceptions import internal_error_response, problem_response
from api.request_context import choose_request_id, set_request_id
from core.logging import bind_log_context, clear_log_context, get_logger
from core.metrics import HTTP_REQUEST_DURATION

logger = get_logger("api.access")

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
        except Exception:
            logger.exception("unhandled_error", path=scope["path"], method=scope["method"])
            if response_started:
                raise
            await internal_error_response(scope["path"])(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path_format", "unmatched")
            HTTP_REQUEST_DURATION.labels(method=scope["method"], route=route, status=status).observe(elapsed)
            logger.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )

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


_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class JsonBodyLimitMiddleware:
    """Refuse JSON bodies over the limit with 413, by header or by counting what arrives.

    Uploads (multipart, raw files) have their own, much larger limit, enforced by the route that
    streams them; this guard is only for the bodies we parse into memory.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt: re.Pattern[str] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS or not self._is_json(scope) or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = request_header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        # Read the (small, bounded) body here and replay it: an error raised from inside the
        # framework's body parsing would be turned into a 400 there.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _exempt(self, scope: Scope) -> bool:
        return self.exempt is not None and self.exempt.match(scope["path"]) is not None

    @staticmethod
    def _is_json(scope: Scope) -> bool:
        content_type = (request_header(scope, b"content-type") or b"").decode("latin-1")
        return content_type.split(";")[0].strip().lower().endswith(("/json", "+json"))

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            scope["path"],
            status=413,
            code="request_too_large",
            title="Request body too large",
            detail=f"JSON bodies are limited to {self.max_bytes} bytes.",
        )
        await response(scope, receive, send)
