"""The access log: one JSON line per request, with the request id, on its own lean path."""

from __future__ import annotations

import io
import json
import logging

from httpx import AsyncClient

from core.logging import ACCESS_LOGGER


async def test_every_request_writes_one_json_access_line_with_its_request_id(client: AsyncClient) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    handler = access.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    original, level = handler.setStream(stream), access.level
    access.setLevel(logging.INFO)  # as in production (the tests' root level may be higher)
    try:
        answer = await client.get("/api/v1/estates", headers={"X-Request-ID": "access-line-test"})
    finally:
        handler.setStream(original)
        access.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert answer.status_code == 401
    assert {key: line[key] for key in ("event", "logger", "level", "method", "path", "status", "request_id")} == {
        "event": "request",
        "logger": ACCESS_LOGGER,
        "level": "info",
        "method": "GET",
        "path": "/api/v1/estates",
        "status": 401,
        "request_id": "access-line-test",
    }
    assert line["duration_ms"] >= 0
    assert line["timestamp"].endswith("Z")
