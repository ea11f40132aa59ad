"""SSE fan-out: 1 000 open streams of one job on one API process (uvicorn, as `make run` serves it);
per round, the job changes as a worker changes it (UPDATE, commit, announce on the job channel) and
the clock runs from the announcement until the last stream has received the new version.
Target: the last stream under 250 ms, medians over the rounds.

The streams are raw HTTP/1.1 connections read by one asyncio client in this process, so the client's
own work (on the same two cores) is inside the figure.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import update

from core.change_events import JOB_CHANNEL, publish_change
from core.resources import Resources
from domain.jobs import JobStatus
from repository.models import Job
from service.unit_of_work import transaction

STREAMS = int(os.environ.get("BENCH_SSE_STREAMS", "1000"))
CHANGES = int(os.environ.get("BENCH_SSE_ROUNDS", "5"))
_EVENT_ID = re.compile(rb"(?:^|\n)id: (\d+)\n")


class Fanout:
    """Every stream's arrival time of every version, and who waits for a version to reach them all."""

    def __init__(self, streams: int) -> None:
        self.streams = streams
        self.arrivals: dict[int, list[float]] = {}
        self._complete: dict[int, asyncio.Event] = {}

    def arrived(self, version: int) -> None:
        times = self.arrivals.setdefault(version, [])
        times.append(time.perf_counter())
        if len(times) == self.streams:
            self._event(version).set()

    async def everywhere(self, version: int, seconds: float = 30) -> None:
        async with asyncio.timeout(seconds):
            await self._event(version).wait()

    def _event(self, version: int) -> asyncio.Event:
        return self._complete.setdefault(version, asyncio.Event())


async def _stream(port: int, token: str, job_id: uuid.UUID, fanout: Fanout) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET /api/v1/jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    )
    writer.write(request.encode())
    try:
        pending = b""
        while chunk := await reader.read(65536):
            # Each event is one chunk of the chunked body; keep a partial line for the next read.
            text = pending + chunk
            cut = text.rfind(b"\n")
            pending = text[cut + 1 :]
            for match in _EVENT_ID.finditer(text[: cut + 1]):
                fanout.arrived(int(match.group(1)))
    finally:
        writer.close()


async def _change(resources: Resources, job_id: uuid.UUID, percent: int) -> float:
    """The job moves on as a worker moves it; answers when the change was announced."""
    async with resources.session_factory() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(progress_percent=percent, version=Job.version + 1)
        )
        await session.commit()
    announced = time.perf_counter()
    await publish_change(resources.redis, JOB_CHANNEL, job_id)
    return announced


async def sse_benchmark(
    resources: Resources,
    organization_id: uuid.UUID,
    token: str,
    start_api: Callable[[], tuple[int, subprocess.Popen[bytes]]],
) -> dict[str, Any]:
    """`start_api()` serves the API and answers its port and process."""
    async with transaction(resources) as session:
        job = Job(organization_id=organization_id, kind="maintenance.cleanup", status=JobStatus.RUNNING.value)
        session.add(job)
    port, api = await asyncio.to_thread(start_api)
    fanout = Fanout(STREAMS)
    readers: list[asyncio.Task[None]] = []
    try:
        opened = time.perf_counter()
        readers = [asyncio.create_task(_stream(port, token, job.id, fanout)) for _ in range(STREAMS)]
        await fanout.everywhere(1, seconds=120)
        open_seconds = time.perf_counter() - opened
        rounds = []
        for version in range(2, CHANGES + 2):
            announced = await _change(resources, job.id, percent=version)
            await fanout.everywhere(version)
            arrivals = fanout.arrivals[version]
            rounds.append(
                {"first_ms": (min(arrivals) - announced) * 1000, "last_ms": (max(arrivals) - announced) * 1000}
            )
            await asyncio.sleep(0.2)  # let the last round's sends settle before the next change
        closed = time.perf_counter()
        await _close(readers)
        await _until_no_stream_is_open(port)
        released_seconds = time.perf_counter() - closed
    finally:
        await _close(readers)
        api.terminate()
        await asyncio.to_thread(api.wait, 10)
    return {
        "streams": STREAMS,
        "open_seconds": open_seconds,
        "rounds": rounds,
        "last_ms_median": statistics.median(r["last_ms"] for r in rounds),
        "first_ms_median": statistics.median(r["first_ms"] for r in rounds),
        "released_seconds": released_seconds,
    }


async def _close(readers: list[asyncio.Task[None]]) -> None:
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


async def _until_no_stream_is_open(port: int, seconds: float = 30) -> None:
    """The server's own gauge: every stream whose client went away has let go of its subscription."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http, asyncio.timeout(seconds):
        while True:  # another process: nothing to wait on but its answers
            if "estate_bff_job_event_streams 0.0" in (await http.get("/metrics")).text:
                return
            await asyncio.sleep(0.05)


def report_lines(sse: dict[str, Any]) -> list[str]:
    rounds = ", ".join(f"{r['last_ms']:.0f}" for r in sse["rounds"])
    return [
        f"SSE fan-out: {sse['streams']} streams of one job opened in {sse['open_seconds']:.1f} s; "
        f"announcement to the last stream: median {sse['last_ms_median']:.0f} ms (rounds {rounds}; target < 250), "
        f"to the first: median {sse['first_ms_median']:.1f} ms; all streams released "
        f"{sse['released_seconds']:.2f} s after their clients closed",
    ]
