"""Switchable faults (429 with Retry-After, 5xx, latency, drops) and the request counters."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.vitec_simulator.support import INSTALLATION
from vitec_simulator.middleware import ConnectionDropped

ESTATES = f"/{INSTALLATION}/Estates"


async def put_faults(client: httpx.AsyncClient, **spec: object) -> None:
    response = await client.put("/_control/faults", json=spec)
    assert response.status_code == 200, response.text


async def test_429_carries_retry_after_until_the_count_runs_out(client: httpx.AsyncClient) -> None:
    await put_faults(client, status=429, status_count=2, retry_after=3)
    for _ in range(2):
        response = await client.get(ESTATES)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        assert response.json()["status"] == 429
    assert (await client.get(ESTATES)).status_code == 200
    assert (await client.get("/_control/faults")).json()["status_count"] == 0


async def test_429_without_a_given_retry_after_still_sends_one(client: httpx.AsyncClient) -> None:
    await put_faults(client, status=429, status_count=1)
    assert (await client.get(ESTATES)).headers["retry-after"] == "1"


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_for_the_next_requests(client: httpx.AsyncClient, status: int) -> None:
    await put_faults(client, status=status, status_count=3)
    assert [(await client.get(ESTATES)).status_code for _ in range(4)] == [status, status, status, 200]


async def test_a_status_without_a_count_lasts_until_cleared(client: httpx.AsyncClient) -> None:
    await put_faults(client, status=503)
    assert {(await client.get("/Account/Methods")).status_code for _ in range(5)} == {503}
    assert (await client.delete("/_control/faults")).status_code == 204
    assert (await client.get("/Account/Methods")).status_code == 200


async def test_faults_only_hit_the_given_path_prefixes(client: httpx.AsyncClient) -> None:
    await put_faults(client, status=500, paths=[f"/{INSTALLATION.lower()}/Employees"])
    assert (await client.get(ESTATES)).status_code == 200
    assert (await client.get(f"/{INSTALLATION}/Employees")).status_code == 500
    assert (await client.get("/VITECPARTNER/Employees")).status_code == 200


async def test_latency_delays_every_request(client: httpx.AsyncClient) -> None:
    await put_faults(client, latency_ms=250)
    started = time.perf_counter()
    assert (await client.get("/Account/Methods")).status_code == 200
    assert time.perf_counter() - started >= 0.25
    started = time.perf_counter()
    await client.get("/_control/stats")
    assert time.perf_counter() - started < 0.25


async def test_a_dropped_connection_aborts_mid_response(client: httpx.AsyncClient) -> None:
    await put_faults(client, drop_count=1)
    with pytest.raises(ConnectionDropped):
        await client.get(ESTATES)
    assert (await client.get(ESTATES)).status_code == 200


async def test_the_control_api_is_never_faulted(client: httpx.AsyncClient) -> None:
    await put_faults(client, status=500, drop_count=5)
    assert (await client.get("/_control/stats")).status_code == 200
    assert (await client.post(f"/_control/estates/{INSTALLATION}")).status_code == 201


async def test_malformed_fault_specs_are_refused(client: httpx.AsyncClient) -> None:
    for spec in ({"status": 200}, {"latency_ms": -1}, {"unknown": 1}, {"status_count": -2}):
        assert (await client.put("/_control/faults", json=spec)).status_code == 400, spec


async def test_counters_per_route_template_and_path(client: httpx.AsyncClient) -> None:
    estate_id = (await client.get(ESTATES)).json()[0]["estateId"]
    for _ in range(3):
        await client.get(f"{ESTATES}/{estate_id}")
    await put_faults(client, status=429, status_count=1)
    await client.get(f"/{INSTALLATION}/Departments")
    await client.get("/nowhere", auth=None)
    await client.post(f"/_control/estates/{INSTALLATION}/mutate-random")
    stats = (await client.get("/_control/stats")).json()
    assert stats["total"] == 6
    assert stats["routes"] == {
        "GET /{inst}/Estates": 1,
        "GET /{inst}/Estates/{estateId}": 3,
        "GET /{inst}/Departments": 1,
        "GET <unmatched>": 1,
    }
    assert stats["paths"][f"GET {ESTATES}/{estate_id}"] == 3
    assert stats["statuses"] == {"200": 4, "404": 1, "429": 1}
    assert stats["faults"] == {"status": 1}


async def test_stats_can_be_cleared_and_reset_clears_everything(client: httpx.AsyncClient) -> None:
    await client.get("/Account/Methods")
    assert (await client.delete("/_control/stats")).status_code == 204
    assert (await client.get("/_control/stats")).json()["total"] == 0
    await client.get("/Account/Methods")
    await put_faults(client, status=500)
    await client.post("/_control/reset")
    assert (await client.get("/_control/stats")).json()["total"] == 0
    assert (await client.get("/Account/Methods")).status_code == 200
