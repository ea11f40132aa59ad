"""`changedAfter` (strictly after; naive values are Europe/Oslo time) and `departmentId`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.vitec_simulator.support import INSTALLATION, estate_ids, get_json, instant

NAIVE = "%Y-%m-%dT%H:%M:%S"


async def summaries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await get_json(client, f"/{INSTALLATION}/Estates")
    return rows


def zoned_in_months(rows: list[dict[str, Any]], months: set[int]) -> dict[str, Any]:
    """An estate whose change date carries `Z` and falls in one of `months` (away from DST changes)."""
    return next(row for row in rows if row["changedDate"].endswith("Z") and int(row["changedDate"][5:7]) in months)


@pytest.mark.parametrize(("months", "offset_hours"), [({6, 7, 8}, 2), ({12, 1, 2}, 1)])
async def test_naive_changed_after_is_oslo_local_time(
    client: httpx.AsyncClient, months: set[int], offset_hours: int
) -> None:
    row = zoned_in_months(await summaries(client), months)
    changed = instant(row["changedDate"])
    oslo_wall_clock = changed + timedelta(hours=offset_hours)
    just_before = (oslo_wall_clock - timedelta(seconds=1)).strftime(NAIVE)
    assert row["estateId"] in await estate_ids(client, changedAfter=just_before)
    assert row["estateId"] not in await estate_ids(client, changedAfter=oslo_wall_clock.strftime(NAIVE))


async def test_changed_after_is_strict_and_accepts_z(client: httpx.AsyncClient) -> None:
    rows = await summaries(client)
    row = zoned_in_months(rows, set(range(1, 13)))
    changed = instant(row["changedDate"])
    later = await estate_ids(client, changedAfter=changed.strftime(NAIVE) + "Z")
    assert row["estateId"] not in later
    assert row["estateId"] in await estate_ids(
        client, changedAfter=(changed - timedelta(seconds=1)).strftime(NAIVE) + "Z"
    )
    assert 0 < len(later) < len(rows)


async def test_changed_after_returns_exactly_the_later_estates(client: httpx.AsyncClient) -> None:
    rows = await summaries(client)
    cutoff = datetime(2026, 3, 1, 12, tzinfo=UTC)  # 13:00 in Oslo (winter time)
    expected = [row["estateId"] for row in rows if instant(row["changedDate"]) > cutoff]
    assert await estate_ids(client, changedAfter="2026-03-01T13:00:00") == expected
    assert await estate_ids(client, changedAfter="2026-03-01T12:00:00Z") == expected
    assert await estate_ids(client, changedAfter="2099-01-01T00:00:00") == []


async def test_department_filter(client: httpx.AsyncClient) -> None:
    rows = await summaries(client)
    departments = await get_json(client, f"/{INSTALLATION}/Departments")
    seen: list[str] = []
    for department in departments:
        department_id = department["departmentId"]
        found = await get_json(client, f"/{INSTALLATION}/Estates", departmentId=str(department_id))
        assert found
        assert all(row["departmentId"] == department_id for row in found)
        seen.extend(row["estateId"] for row in found)
    assert sorted(seen) == sorted(row["estateId"] for row in rows)
    assert await estate_ids(client, departmentId="424242") == []


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    rows = await summaries(client)
    department_id = rows[0]["departmentId"]
    cutoff = datetime(2025, 11, 1, tzinfo=UTC)
    expected = [
        row["estateId"] for row in rows if row["departmentId"] == department_id and instant(row["changedDate"]) > cutoff
    ]
    found = await estate_ids(client, changedAfter="2025-11-01T00:00:00Z", departmentId=str(department_id))
    assert found == expected


@pytest.mark.parametrize("params", [{"changedAfter": "yesterday"}, {"departmentId": "sales"}])
async def test_malformed_filters_answer_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get(f"/{INSTALLATION}/Estates", params=params)
    assert response.status_code == 400
