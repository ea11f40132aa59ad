"""JSON and error responses: compact UTF-8 JSON, errors as small problem objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"


def json_bytes(data: Any) -> bytes:
    """Compact JSON, non-ASCII letters kept as UTF-8 (the same data always gives the same bytes)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response that skips FastAPI's encoder (too slow for 100 000 estates)."""
    return Response(json_bytes(data), status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def problem(status: int, detail: str) -> dict[str, Any]:
    """The error body: `{"status", "title", "detail"}`. Clients must only log it."""
    return {"status": status, "title": HTTPStatus(status).phrase, "detail": detail}


class HubError(Exception):
    """An error answer of the simulated Hub."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The error as an HTTP response."""
        return json_response(problem(self.status, self.detail), self.status, self.headers)


def not_found(what: str) -> HubError:
    """A 404 for an unknown installation or id."""
    return HubError(404, f"{what} not found")
