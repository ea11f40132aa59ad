"""The control API: mutate, create and delete estates, so incremental and full syncs can be tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.vitec_simulator.support import INSTALLATION, OSLO, estate_ids, get_json, instant

CONTROL = f"/_control/estates/{INSTALLATION}"


def a_moment_ago() -> str:
    """Oslo wall-clock time a few seconds ago, as a naive `changedAfter` value."""
    return (datetime.now(UTC) - timedelta(seconds=5)).astimezone(OSLO).strftime("%Y-%m-%dT%H:%M:%S")


async def test_mutate_changes_content_and_stamps_the_change(client: httpx.AsyncClient) -> None:
    estate_id = (await estate_ids(client))[5]
    before = await get_json(client, f"/{INSTALLATION}/Estates/{estate_id}")
    response = await client.post(f"{CONTROL}/{estate_id.lower()}/mutate")
    assert response.status_code == 200
    assert response.json()["estateId"] == estate_id
    after = await get_json(client, f"/{INSTALLATION}/Estates/{estate_id}")
    assert (after["heading"], after["price"]) != (before["heading"], before["price"])
    assert after["changedDate"] == response.json()["changedDate"]
    assert abs(instant(after["changedDate"]) - datetime.now(UTC)) < timedelta(seconds=5)
    assert after["images"] == before["images"]
    summary = next(row for row in await get_json(client, f"/{INSTALLATION}/Estates") if row["estateId"] == estate_id)
    assert summary["changedDate"] == after["changedDate"]


async def test_changed_after_finds_exactly_the_mutated_estates(client: httpx.AsyncClient) -> None:
    since = a_moment_ago()
    assert await estate_ids(client, changedAfter=since) == []
    response = await client.post(f"{CONTROL}/mutate-random", params={"count": 7})
    mutated = response.json()["estateIds"]
    assert len(set(mutated)) == 7
    single = (await estate_ids(client))[0]
    await client.post(f"{CONTROL}/{single}/mutate")
    assert sorted(await estate_ids(client, changedAfter=since)) == sorted({*mutated, single})


async def test_mutations_stamp_naive_and_utc_dates(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{CONTROL}/mutate-random", params={"count": 30})
    stamps = {
        (await get_json(client, f"/{INSTALLATION}/Estates/{estate_id}"))["changedDate"].endswith("Z")
        for estate_id in response.json()["estateIds"]
    }
    assert stamps == {True, False}


async def test_delete_removes_an_estate_from_list_and_detail(client: httpx.AsyncClient) -> None:
    estate_id = (await estate_ids(client))[10]
    detail = await get_json(client, f"/{INSTALLATION}/Estates/{estate_id}")
    assert (await client.delete(f"{CONTROL}/{estate_id}")).status_code == 204
    assert estate_id not in await estate_ids(client)
    assert len(await estate_ids(client)) == 299
    assert (await client.get(f"/{INSTALLATION}/Estates/{estate_id}")).status_code == 404
    for image in detail["images"]:
        assert (await client.get(f"/{INSTALLATION}/Estates/{estate_id}/Images/{image['imageId']}")).status_code == 404
    assert (await client.delete(f"{CONTROL}/{estate_id}")).status_code == 404
    assert (await client.post(f"{CONTROL}/{estate_id}/mutate")).status_code == 404


async def test_created_estates_are_listed_served_and_deletable(client: httpx.AsyncClient) -> None:
    since = a_moment_ago()
    response = await client.post(CONTROL)
    assert response.status_code == 201
    estate_id = response.json()["estateId"]
    assert (await estate_ids(client))[-1] == estate_id
    assert await estate_ids(client, changedAfter=since) == [estate_id]
    detail = await get_json(client, f"/{INSTALLATION}/Estates/{estate_id}")
    assert detail["changedDate"] == response.json()["changedDate"]
    await client.post(f"{CONTROL}/{estate_id}/mutate")
    assert (await client.delete(f"{CONTROL}/{estate_id}")).status_code == 204
    assert estate_id not in await estate_ids(client)


async def test_reset_brings_back_deleted_and_drops_created_estates(client: httpx.AsyncClient) -> None:
    original = await estate_ids(client)
    await client.delete(f"{CONTROL}/{original[0]}")
    await client.post(CONTROL)
    await client.post(f"{CONTROL}/mutate-random", params={"count": 3})
    await client.post("/_control/reset")
    assert await estate_ids(client) == original
    assert await estate_ids(client, changedAfter=a_moment_ago()) == []


async def test_control_answers_404_for_unknown_installations(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_control/estates/NOPE")).status_code == 404
    assert (await client.post("/_control/estates/NOPE/mutate-random")).status_code == 404
