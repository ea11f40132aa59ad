"""The guard every request passes before the app sees it: bounded bodies, declared media types,
text PostgreSQL can store, and no query parameter a route does not declare.

Bodies are counted whatever their content type (`MAX_JSON_BODY_BYTES`), by header or by what
arrives, so nothing unbounded is ever buffered. The one way out is explicit: a route that reads
its body as a stream under a limit of its own (document uploads) is marked with `@streams_body`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.exceptions import problem_response
from api.middleware import request_header

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_STREAMS_BODY = "__estate_bff_streams_body__"
_JSON_TYPES = ("/json", "+json")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
UNSTORABLE = "string_unstorable"
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or unpaired surrogates"


def streams_body(endpoint: Endpoint) -> Endpoint:
    """Declare that a route streams its body under its own limit: the body guard lets it through.

    Put it under the router's decorator: `@router.post(...)` then `@streams_body`.
    """
    setattr(endpoint, _STREAMS_BODY, True)
    return endpoint


def storable(text: str) -> bool:
    """PostgreSQL text holds no NUL, and UTF-8 has no unpaired surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _media_type(scope: Scope) -> str | None:
    value = request_header(scope, b"content-type")
    return None if value is None else value.decode("latin-1").split(";")[0].strip().lower()


class _Policy:
    """What one route accepts as a body."""

    def __init__(self, route: RouteContext | None) -> None:
        body_field = getattr(route, "body_field", None)
        self.streams = route is not None and bool(getattr(route.endpoint, _STREAMS_BODY, False))
        self.form = body_field is not None and isinstance(body_field.field_info, Form)
        self.json = body_field is not None and not self.form

    def accepts(self, media_type: str | None) -> bool:
        if media_type is None or not (self.json or self.form):
            return True
        return media_type in _FORM_TYPES if self.form else media_type.endswith(_JSON_TYPES)


_NO_ROUTE = _Policy(None)


class InputGuardMiddleware:
    """413 over the body limit, 415 for a media type the route does not take, 422 for text that
    PostgreSQL cannot store in the query, a JSON body or a form body."""

    def __init__(self, app: ASGIApp, *, api: FastAPI, max_bytes: int) -> None:
        self.app = app
        self.api = api
        self.max_bytes = max_bytes
        self._routes: list[tuple[RouteContext, _Policy]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad: list[str | int] | None = ["path"] if "\x00" in scope["path"] else _unstorable_query(scope["query_string"])
        if bad is not None:
            await _unstorable_response(bad)(scope, receive, send)
            return
        # No body (every GET, every poll): nothing to guard, and no route to look up for it.
        if not _has_body(scope):
            await self.app(scope, receive, send)
            return
        policy = self._policy(scope)
        if policy.streams:
            await self.app(scope, receive, send)
        else:
            await self._guard_body(scope, receive, send, policy)

    async def _guard_body(self, scope: Scope, receive: Receive, send: Send, policy: _Policy) -> None:
        declared = request_header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, 413)
            return
        media_type = _media_type(scope)
        if not policy.accepts(media_type):
            await self._refuse(scope, receive, send, 415)
            return
        body = await self._read(scope, receive, send)
        if body is None:
            return
        problem = _body_problem(body, media_type, policy)
        if problem is not None:
            await problem(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _policy(self, scope: Scope) -> _Policy:
        if self._routes is None:  # on first use: every router is included by then
            self._routes = [(route, _Policy(route)) for route in iter_route_contexts(self.api.routes)]
        for route, policy in self._routes:
            if route.matches(scope)[0] is Match.FULL:
                return policy
        return _NO_ROUTE

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once a 413 was sent (or the client went away)."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, 413)
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        if status == 413:
            code, title = "request_too_large", "Request body too large"
            detail = f"Request bodies are limited to {self.max_bytes} bytes."
        else:
            code, title = "unsupported_media_type", "Unsupported media type"
            detail = "This route does not accept that Content-Type; see the API description."
        response = problem_response(scope["path"], status=status, code=code, title=title, detail=detail)
        await response(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    length = request_header(scope, b"content-length")
    return (length is not None and length not in (b"0", b"")) or request_header(scope, b"transfer-encoding") is not None


def _unstorable_query(query: bytes) -> list[str | int] | None:
    """Where the query holds a NUL (the one thing a decoded query string cannot store), or None."""
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return ["query", name.replace("\x00", "")]
    return None


def _body_problem(body: bytes, media_type: str | None, policy: _Policy) -> ASGIApp | None:
    """A ready problem response for a body the app must not see, or None."""
    if policy.form and media_type == "application/x-www-form-urlencoded":
        text = body.decode("latin-1")
        for name, value in parse_qsl(text, keep_blank_values=True):
            if not (storable(name) and storable(value)):
                return _unstorable_response(["body", name])
        return None
    if not policy.json or not body:
        return None
    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        return _validation_response(["body"], "The body is not UTF-8 text", "json_invalid")
    except ValueError:
        return None  # malformed JSON: the framework's own 422 names the position
    bad = next(_unstorable_locations(document, ["body"]), None)
    return None if bad is None else _unstorable_response(bad)


def _unstorable_locations(value: object, loc: list[str | int]) -> Iterator[list[str | int]]:
    if isinstance(value, str):
        if not storable(value):
            yield loc
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_locations(item, [*loc, index])
    elif isinstance(value, dict):
        for key, item in value.items():
            if not storable(key):
                yield [*loc, "<key>"]
            yield from _unstorable_locations(item, [*loc, key])


def _validation_response(loc: list[str | int], msg: str, type_: str) -> ASGIApp:
    issue = {"loc": loc, "msg": msg, "type": type_}

    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            scope["path"], status=422, code="validation_error", title="The request is not valid",
            detail="One or more fields are missing or invalid; see `errors`.", errors=[issue],
        )  # fmt: skip
        await response(scope, receive, send)

    return respond


def _unstorable_response(loc: list[str | int]) -> ASGIApp:
    return _validation_response(loc, UNSTORABLE_MESSAGE, UNSTORABLE)


def _replay(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


_KNOWN_QUERY: dict[str, frozenset[str]] = {}


def _declared_query_names(route: APIRoute) -> frozenset[str]:
    names = _KNOWN_QUERY.get(route.unique_id)
    if names is None:
        names = _KNOWN_QUERY[route.unique_id] = frozenset(_query_names(route.dependant))
    return names


def _query_names(dependant: Dependant) -> Iterator[str]:
    yield from (field.alias for field in dependant.query_params)
    for dependency in dependant.dependencies:
        yield from _query_names(dependency)


async def no_unknown_query_parameters(request: Request) -> None:
    """Every route refuses query parameters it does not declare (SPEC: unknown query → 422)."""
    if not request.scope["query_string"]:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _declared_query_names(route))
    if unknown:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": "Unknown query parameter", "type": "extra_forbidden"} for name in unknown]
        )
