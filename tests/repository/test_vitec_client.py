"""The Vitec client against the simulator: mapping through real HTTP answers, retries that honour
Retry-After, permanent 401/403, the shared circuit, the cache, dropped connections and timeouts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from prometheus_client import REGISTRY

from core.resources import Resources
from core.settings import VitecSettings
from domain.vitec import (
    EstateImageTooLargeError,
    VitecForbiddenError,
    VitecNotFoundError,
    VitecResponseInvalidError,
    VitecUnauthorizedError,
    VitecUnavailableError,
)
from repository.vitec.client import VitecClient
from tests.worker.processes import start_simulator
from vitec_simulator.app import create_app
from vitec_simulator.config import Config

PASSWORD = "simulator-access-key"


@dataclass
class Hub:
    """A simulator app, its control client, and one installation of its own."""

    app: FastAPI
    control: httpx.AsyncClient
    installation: str

    async def faults(self, **spec: object) -> None:
        response = await self.control.put("/_control/faults", json=spec)
        assert response.status_code < 300, response.text

    async def stats(self) -> dict[str, object]:
        stats: dict[str, object] = (await self.control.get("/_control/stats")).json()
        return stats


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    # An installation name of the test's own: circuit and cache keys in Redis never meet another test's.
    installation = "T" + uuid.uuid4().hex[:10].upper()
    app = create_app(Config(installations=(installation, "LOCKED" + installation[1:]),
                            forbidden_installations=("LOCKED" + installation[1:],), estates=25))  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vitec.test") as control:
        yield Hub(app, control, installation)


def settings(base_url: str = "http://vitec.test", password: str = PASSWORD, **changes: object) -> VitecSettings:
    values: dict[str, object] = {
        "base_url": base_url,
        "username": "estate-bff",
        "password": password,
        "max_attempts": 4,
        "retry_base_seconds": 0.01,
        "retry_cap_seconds": 0.05,
        "rate_limit": "1000/second",
        "circuit_failure_threshold": 10,
        **changes,
    }
    return VitecSettings(**values)  # type: ignore[arg-type]


def client_for(hub: Hub, resources: Resources, **changes: object) -> VitecClient:
    return VitecClient(
        settings(**changes), resources.redis, resources.rate_limiter, transport=httpx.ASGITransport(app=hub.app)
    )


async def test_reads_map_through_real_answers(hub: Hub, resources: Resources) -> None:
    client = client_for(hub, resources)
    try:
        departments = await client.list_departments(hub.installation)
        employees = await client.list_employees(hub.installation)
        summaries = await client.list_estate_summaries(hub.installation)
        estate = await client.get_estate(hub.installation, summaries[0].vitec_id.lower())
    finally:
        await client.close()

    assert len(summaries) == 25
    assert departments
    assert employees
    assert all(employee.department_ids for employee in employees)
    assert estate.vitec_id == summaries[0].vitec_id
    assert estate.changed_at is not None
    assert estate.street


async def test_429_is_retried_after_its_retry_after(hub: Hub, resources: Resources) -> None:
    await hub.faults(status=429, status_count=2, retry_after=1)
    client = client_for(hub, resources)
    started = time.monotonic()
    try:
        summaries = await client.list_estate_summaries(hub.installation)
    finally:
        await client.close()

    assert len(summaries) == 25
    assert time.monotonic() - started >= 2.0  # two waits of Retry-After: 1
    assert (await hub.stats())["total"] == 3


async def test_5xx_is_retried_then_answers(hub: Hub, resources: Resources) -> None:
    await hub.faults(status=503, status_count=3)
    client = client_for(hub, resources)
    try:
        assert len(await client.list_estate_summaries(hub.installation)) == 25
    finally:
        await client.close()


async def test_persistent_5xx_ends_unavailable(hub: Hub, resources: Resources) -> None:
    await hub.faults(status=500, status_count=-1)
    client = client_for(hub, resources)
    try:
        with pytest.raises(VitecUnavailableError):
            await client.list_estate_summaries(hub.installation)
    finally:
        await client.close()
    assert (await hub.stats())["total"] == 4


async def test_401_and_403_are_permanent_and_never_retried(hub: Hub, resources: Resources) -> None:
    wrong_password = client_for(hub, resources, password="wrong")
    right = client_for(hub, resources)
    try:
        with pytest.raises(VitecUnauthorizedError):
            await wrong_password.list_estate_summaries(hub.installation)
        with pytest.raises(VitecForbiddenError):
            await right.list_estate_summaries("LOCKED" + hub.installation[1:])
        with pytest.raises(VitecNotFoundError):
            await right.get_estate(hub.installation, "00000000-0000-0000-0000-000000000000")
    finally:
        await wrong_password.close()
        await right.close()
    assert (await hub.stats())["total"] == 3


async def test_the_circuit_opens_after_repeated_failures_and_fails_fast(hub: Hub, resources: Resources) -> None:
    await hub.faults(status=500, status_count=-1)
    client = client_for(hub, resources, circuit_failure_threshold=3, circuit_open_seconds=30)
    try:
        with pytest.raises(VitecUnavailableError):
            await client.list_estate_summaries(hub.installation)
        requests_so_far = (await hub.stats())["total"]
        await hub.control.delete("/_control/faults")
        with pytest.raises(VitecUnavailableError, match="circuit"):
            await client.list_estate_summaries(hub.installation)
    finally:
        await client.close()
    assert requests_so_far == 3
    assert (await hub.stats())["total"] == 3  # open: nothing more was sent


async def test_departments_and_employees_are_cached(hub: Hub, resources: Resources) -> None:
    client = client_for(hub, resources)
    try:
        first = await client.list_departments(hub.installation)
        second = await client.list_departments(hub.installation)
    finally:
        await client.close()

    assert first == second
    assert (await hub.stats())["total"] == 1


@pytest.fixture
def served_hub() -> Iterator[str]:
    """The simulator as a real server, for faults that need a socket (drops, timeouts)."""
    process, url = start_simulator(SIMULATOR_ESTATES="10")
    yield url
    process.terminate()
    process.wait(10)


async def test_dropped_connections_and_timeouts_are_retried(served_hub: str, resources: Resources) -> None:
    async with httpx.AsyncClient(base_url=served_hub) as control:
        await control.put("/_control/faults", json={"drop_count": 1, "timeout_count": 1, "timeout_seconds": 5})
        client = VitecClient(
            settings(base_url=served_hub, timeout_seconds=0.5), resources.redis, resources.rate_limiter
        )
        try:
            summaries = await client.list_estate_summaries("DEMOINSTALL")
        finally:
            await client.close()
        stats = (await control.get("/_control/stats")).json()

    assert len(summaries) == 10
    assert stats["total"] == 3  # a dropped connection, a timeout, then the answer


async def test_requests_in_flight_per_installation_are_limited(hub: Hub, resources: Resources) -> None:
    await hub.faults(latency_ms=150)
    clients = [client_for(hub, resources, max_concurrency=2) for _ in range(2)]  # two "processes"
    started = time.monotonic()
    try:
        await asyncio.gather(*(clients[n % 2].list_estate_summaries(hub.installation) for n in range(6)))
    finally:
        for client in clients:
            await client.close()

    # Six requests of 150 ms, two at a time: three rounds, never one.
    assert time.monotonic() - started >= 0.45


class _Recording(httpx.AsyncBaseTransport):
    """The simulator's transport, remembering every path it was asked for."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.raw_path.decode())
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(
    ("estate_id", "image_id"),
    [("../../Account/Methods", "1"), ("..", "1"), ("A", "../../../Account/Methods"), ("A?x=1", "1"),
     ("A#frag", "1"), ("A%2F..", "1"), ("A B", "1"), ("", "1"), ("A", "x" * 200)],
)  # fmt: skip
async def test_ids_that_could_steer_a_request_elsewhere_are_refused_before_sending(
    hub: Hub, resources: Resources, estate_id: str, image_id: str
) -> None:
    recording = _Recording(hub.app)
    client = VitecClient(settings(), resources.redis, resources.rate_limiter, transport=recording)
    try:
        with pytest.raises(VitecResponseInvalidError):
            await client.get_estate_image(hub.installation, estate_id, image_id)
        with pytest.raises(VitecResponseInvalidError):
            await client.get_estate_document(hub.installation, estate_id, image_id)
        if image_id == "1":
            with pytest.raises(VitecResponseInvalidError):
                await client.get_estate(hub.installation, estate_id)
    finally:
        await client.close()

    assert recording.paths == []


async def test_an_installation_id_is_a_path_segment_too(hub: Hub, resources: Resources) -> None:
    recording = _Recording(hub.app)
    client = VitecClient(settings(), resources.redis, resources.rate_limiter, transport=recording)
    try:
        with pytest.raises(VitecResponseInvalidError):
            await client.list_departments(f"Account/Methods?{hub.installation}")
        summaries = await client.list_estate_summaries(hub.installation)
        await client.get_estate(hub.installation, summaries[0].vitec_id)
    finally:
        await client.close()

    assert recording.paths == [f"/{hub.installation}/Estates", f"/{hub.installation}/Estates/{summaries[0].vitec_id}"]


def _calls(route: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("estate_bff_vitec_requests_total", {"route": route, "outcome": outcome}) or 0.0


async def test_vitec_calls_are_counted_by_route_template_and_outcome(hub: Hub, resources: Resources) -> None:
    image_route = "Estates/{id}/Images/{id}"
    before = (_calls("Estates", "ok"), _calls(image_route, "not_found"), _calls("Estates/{id}", "retryable"))
    client = client_for(hub, resources)
    try:
        summaries = await client.list_estate_summaries(hub.installation)
        with pytest.raises(VitecNotFoundError):
            await client.get_estate_image(hub.installation, summaries[0].vitec_id, "NO-SUCH-IMAGE")
        await hub.faults(status=503, status_count=1)
        await client.get_estate(hub.installation, summaries[0].vitec_id)
    finally:
        await client.close()

    after = (_calls("Estates", "ok"), _calls(image_route, "not_found"), _calls("Estates/{id}", "retryable"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert _calls("Estates/{id}", "ok") >= 1


def oversized_images(chunks: int, declare: bool) -> tuple[FastAPI, list[int]]:
    """A Hub stand-in whose images are 4 KiB chunks, with or without a Content-Length (the simulator
    serves only small, honest images)."""
    app, calls = FastAPI(), []

    @app.get("/{inst}/Estates/{estate_id}/Images/{image_id}")
    async def image() -> StreamingResponse:
        calls.append(1)

        async def body() -> AsyncIterator[bytes]:
            for _ in range(chunks):
                yield b"\x89" * 4096

        headers = {"content-length": str(chunks * 4096)} if declare else {}
        return StreamingResponse(body(), media_type="image/png", headers=headers)

    return app, calls


@pytest.mark.parametrize("declare", [True, False], ids=["declared", "undeclared"])
async def test_an_image_over_the_cap_is_refused_once_and_not_retried(resources: Resources, declare: bool) -> None:
    app, calls = oversized_images(chunks=4, declare=declare)
    client = VitecClient(settings(), resources.redis, resources.rate_limiter, transport=httpx.ASGITransport(app=app))
    try:
        small = await client.get_estate_image("INST" + uuid.uuid4().hex[:6], "E", "I", max_bytes=4 * 4096)
        with pytest.raises(EstateImageTooLargeError):
            await client.get_estate_image("INST" + uuid.uuid4().hex[:6], "E", "I", max_bytes=4 * 4096 - 1)
    finally:
        await client.close()

    assert (len(small.content), small.content_type) == (4 * 4096, "image/png")
    assert len(calls) == 2
