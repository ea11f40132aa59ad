"""One seed, one set of bytes: the data never depends on the clock or on process state."""

from __future__ import annotations

import dataclasses

import httpx

from tests.vitec_simulator.support import INSTALLATION, SMALL, open_client


async def snapshot(client: httpx.AsyncClient, installation: str = INSTALLATION) -> list[bytes]:
    """The bytes of the lists, a few details and one image."""
    paths = [f"/{installation}/Departments", f"/{installation}/Employees", f"/{installation}/Estates"]
    bodies = [(await client.get(path)).content for path in paths]
    rows = (await client.get(f"/{installation}/Estates")).json()
    responses = [await client.get(f"/{installation}/Estates/{row['estateId']}") for row in rows[:10]]
    bodies.extend(response.content for response in responses)
    details = [response.json() for response in responses]
    detail = next(detail for detail in details if detail["images"])
    image_path = f"/{installation}/Estates/{detail['estateId']}/Images/{detail['images'][0]['imageId']}"
    bodies.append((await client.get(image_path)).content)
    return bodies


async def test_two_apps_with_one_seed_answer_identical_bytes() -> None:
    async with open_client(SMALL) as first, open_client(SMALL) as second:
        assert await snapshot(first) == await snapshot(second)


async def test_another_seed_gives_other_data() -> None:
    async with open_client(SMALL) as first, open_client(dataclasses.replace(SMALL, seed=43)) as second:
        assert (await first.get(f"/{INSTALLATION}/Estates")).content != (
            await second.get(f"/{INSTALLATION}/Estates")
        ).content


async def test_installations_have_their_own_data(client: httpx.AsyncClient) -> None:
    demo = (await client.get(f"/{INSTALLATION}/Estates")).json()
    partner = (await client.get("/VITECPARTNER/Estates")).json()
    assert {row["estateId"] for row in demo}.isdisjoint(row["estateId"] for row in partner)


async def test_reset_restores_the_seeded_bytes(client: httpx.AsyncClient) -> None:
    before = await snapshot(client)
    first_id = (await client.get(f"/{INSTALLATION}/Estates")).json()[0]["estateId"]
    await client.post(f"/_control/estates/{INSTALLATION}/mutate-random", params={"count": 20})
    await client.post(f"/_control/estates/{INSTALLATION}")
    await client.delete(f"/_control/estates/{INSTALLATION}/{first_id}")
    assert await snapshot(client) != before
    assert (await client.post("/_control/reset")).status_code == 204
    assert await snapshot(client) == before
