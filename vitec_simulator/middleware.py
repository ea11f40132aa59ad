"""The ASGI middleware that counts Hub requests and serves the configured faults."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitec_simulator.faults import FaultDecision, FaultKind
from vitec_simulator.responses import json_bytes, problem
from vitec_simulator.state import SimulatorState

CONTROL_PREFIX = "/_control"
UNMATCHED = "<unmatched>"


class ConnectionDropped(RuntimeError):
    """Raised after a response has started, so the server aborts the connection mid-response."""


def is_control(path: str) -> bool:
    """Whether a path belongs to the control API (never counted, never faulted)."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The path template of the route a request would reach, such as `/{inst}/Estates/{estateId}`."""
    partial = None
    for route in routes:
        if isinstance(route, Route):
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.path
            if match is Match.PARTIAL and partial is None:
                partial = route.path
    return partial or UNMATCHED


async def hang(seconds: float, receive: Receive) -> Receive | None:
    """Hold the request for `seconds`; None if the client gave up first, else a `receive` that replays."""
    received: list[Message] = []

    async def until_disconnect() -> None:
        while (message := await receive())["type"] != "http.disconnect":
            received.append(message)

    watcher = asyncio.ensure_future(until_disconnect())
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
    finally:
        watcher.cancel()
    if watcher in done:
        return None

    async def replay() -> Message:
        return received.pop(0) if received else await receive()

    return replay


async def drop(send: Send) -> None:
    """Start a response that promises more body than it will ever send, then abort."""
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'[{"estateId":', "more_body": True})
    raise ConnectionDropped("simulated dropped connection")


async def send_status(decision: FaultDecision, send: Send) -> None:
    """Answer with the fault's error status (429 always carries `Retry-After`)."""
    body = json_bytes(problem(decision.status, "simulated fault"))
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    retry_after = decision.retry_after if decision.retry_after is not None or decision.status != 429 else 1
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": decision.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    """Counts every Hub request and applies latency, timeouts, drops and error statuses to it."""

    def __init__(self, app: ASGIApp, *, state: SimulatorState, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.state = state
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI call."""
        if scope["type"] != "http" or is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        stats = self.state.stats
        stats.record_request(scope["method"], route_template(self.routes, scope), scope["path"])
        decision = self.state.faults.decide(scope["path"])
        if decision.latency_seconds:
            await asyncio.sleep(decision.latency_seconds)
        counting_send = self._counting(send)
        if decision.kind is not FaultKind.NONE:
            stats.record_fault(decision.kind.value)
            replay = await self._fault(decision, receive, send, counting_send)
            if replay is None:
                return
            receive = replay
        await self.app(scope, receive, counting_send)

    async def _fault(
        self, decision: FaultDecision, receive: Receive, send: Send, counting_send: Send
    ) -> Receive | None:
        """Serve a fault; a `receive` to go on with after a timeout the client sat through, else None.

        A dropped response is not counted under `statuses`: the client never gets one.
        """
        if decision.kind is FaultKind.TIMEOUT:
            return await hang(decision.timeout_seconds, receive)
        if decision.kind is FaultKind.DROP:
            await drop(send)
        await send_status(decision, counting_send)
        return None

    def _counting(self, send: Send) -> Send:
        stats = self.state.stats

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.record_status(message["status"])
            await send(message)

        return counting_send
