"""A Server-Sent Events client that drives one request straight through the app's ASGI interface.

httpx's ASGITransport hands back a response only once the app has sent all of it, so it cannot
watch a stream that is still open; this client sees every chunk as it is sent, and disconnects the
way a server tells the app a client went away (`http.disconnect`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass
class Event:
    id: str | None
    data: dict[str, Any]


@dataclass
class SseStream:
    app: ASGIApp
    path: str
    headers: dict[str, str]
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    ended: bool = False
    _buffer: bytes = b""
    _requested: bool = False
    _moved: asyncio.Event = field(default_factory=asyncio.Event)
    _disconnect: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    # After this many body chunks, sending fails as it does once the connection has broken.
    broken_after: int | None = None
    _chunks: int = 0

    def open(self) -> SseStream:
        self._task = asyncio.create_task(self._run())
        return self

    @property
    def versions(self) -> list[int]:
        return [int(event.id) for event in self.events if event.id is not None]

    async def wait_for(self, check: Any, seconds: float = 10.0) -> None:
        """Until `check(self)` holds, re-checked after every chunk the app sends."""
        async with asyncio.timeout(seconds):
            while not check(self):
                self._moved.clear()
                await self._moved.wait()

    async def until_ended(self, seconds: float = 10.0) -> None:
        assert self._task is not None
        async with asyncio.timeout(seconds):
            await self._task

    async def disconnect(self, seconds: float = 10.0) -> None:
        self._disconnect.set()
        await self.until_ended(seconds)

    async def _run(self) -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": self.path, "raw_path": self.path.encode(),
            "query_string": b"", "root_path": "", "client": ("10.9.8.7", 40000), "server": ("testserver", 80),
            "headers": [(name.lower().encode(), value.encode()) for name, value in self.headers.items()],
        }  # fmt: skip
        try:
            await self.app(scope, self._receive, self._send)
        finally:
            self.ended = True
            self._moved.set()

    async def _receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {name.decode(): value.decode() for name, value in message["headers"]}
        elif message["type"] == "http.response.body":
            if self.broken_after is not None and self._chunks >= self.broken_after:
                raise OSError("connection reset by peer")
            self._chunks += 1
            self._buffer += message.get("body", b"")
            self._parse()
        self._moved.set()

    def _parse(self) -> None:
        while b"\n\n" in self._buffer:
            block, self._buffer = self._buffer.split(b"\n\n", 1)
            fields: dict[str, str] = {}
            for line in block.decode().split("\n"):
                name, _, value = line.partition(":")
                if name == "":
                    self.comments.append(value.strip())
                else:
                    fields[name] = value.removeprefix(" ")
            if "data" in fields:
                self.events.append(Event(fields.get("id"), json.loads(fields["data"])))
