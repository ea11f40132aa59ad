"""A large installation: 100 000 estates are generated and listed in one bare array. (How fast is
`make bench`'s business, not a test's: the machines are shared.)"""

from __future__ import annotations

from tests.vitec_simulator.support import get_json, open_client
from vitec_simulator.config import Config

LARGE = Config(installations=("LARGEINSTALL",), estates=100_000, departments=12, employees=150)


async def test_one_hundred_thousand_estates() -> None:
    async with open_client(LARGE) as client:
        rows = await get_json(client, "/LARGEINSTALL/Estates")
        assert len(rows) == 100_000
        assert len({row["estateId"] for row in rows}) == 100_000
        last = rows[-1]["estateId"]
        assert (await get_json(client, f"/LARGEINSTALL/Estates/{last}"))["estateId"] == last
        mutated = (await client.post("/_control/estates/LARGEINSTALL/mutate-random", params={"count": 50})).json()
        changed = await get_json(client, "/LARGEINSTALL/Estates", changedAfter="2026-11-02T00:00:00")
        assert sorted(row["estateId"] for row in changed) == sorted(mutated["estateIds"])
        assert len(await get_json(client, "/LARGEINSTALL/Estates")) == 100_000
