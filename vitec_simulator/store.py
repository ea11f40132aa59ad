"""One installation's data: the seeded catalog and estates, plus an overlay of control-API changes.

Seeded estates are never modified: mutations, creations and deletions live in an overlay that
`reset()` drops, which brings the installation back to its seeded state without regenerating it.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass

from vitec_simulator.clock import render
from vitec_simulator.config import Config
from vitec_simulator.details import description, detail_seed, heading, make_detail
from vitec_simulator.generator import Catalog, JsonDict, make_catalog, make_summaries, make_summary


@dataclass(slots=True)
class EstateRecord:
    """An estate's summary (exactly as served), its change time, and its detail once mutated."""

    summary: JsonDict
    changed: int
    detail: JsonDict | None = None


class InstallationStore:
    """The departments, employees and estates of one installation."""

    def __init__(self, config: Config, installation: str) -> None:
        self.name = installation
        self._seed = config.seed
        rng = random.Random(f"{config.seed}:{installation}")
        self.catalog: Catalog = make_catalog(rng, installation, config.departments, config.employees)
        rows = make_summaries(rng, self.catalog, config.estates, int(config.anchor.timestamp()))
        self._base = [EstateRecord(summary, changed) for summary, changed in rows]
        self._index = {record.summary["estateId"]: position for position, record in enumerate(self._base)}
        self._overrides: dict[str, EstateRecord] = {}
        self._deleted: set[str] = set()
        self._created: dict[str, EstateRecord] = {}
        self._mutations = 0
        self._creations = 0
        self.version = 0
        self.listing_cache: tuple[int, bytes] | None = None

    def reset(self) -> None:
        """Forget every mutation, creation and deletion."""
        self._overrides.clear()
        self._deleted.clear()
        self._created.clear()
        self._mutations = 0
        self._creations = 0
        self.version += 1

    def records(self) -> Iterator[EstateRecord]:
        """Every live estate: the seeded ones in their order, then the created ones."""
        overrides, deleted = self._overrides, self._deleted
        for record in self._base:
            estate_id = record.summary["estateId"]
            if estate_id in deleted:
                continue
            yield overrides.get(estate_id, record)
        yield from self._created.values()

    def summaries(self, changed_after: float | None, department_id: int | None) -> list[JsonDict]:
        """The live summaries, filtered by change time (strictly after) and department."""
        return [
            record.summary
            for record in self.records()
            if (changed_after is None or record.changed > changed_after)
            and (department_id is None or record.summary["departmentId"] == department_id)
        ]

    def find(self, estate_id: str) -> EstateRecord | None:
        """A live estate by id, matched case-insensitively."""
        key = estate_id.upper()
        if key in self._created:
            return self._created[key]
        if key in self._deleted or key not in self._index:
            return None
        return self._overrides.get(key) or self._base[self._index[key]]

    def detail(self, record: EstateRecord) -> JsonDict:
        """The full estate: stored if it was mutated, otherwise rebuilt from its seed."""
        if record.detail is not None:
            return record.detail
        rng = random.Random(detail_seed(self._seed, self.name, record.summary["estateId"]))
        return make_detail(rng, record.summary, record.changed)

    def mutate(self, estate_id: str, now: int, *, images: bool = False) -> EstateRecord | None:
        """Change an estate's heading and price and stamp it changed at `now`; with `images`, its
        images too (new `changedDate`, new bytes)."""
        record = self.find(estate_id)
        if record is None:
            return None
        self._mutations += 1
        rng = random.Random(f"{self._seed}:{self.name}:mutation:{self._mutations}")
        changed_date = render(now, rng.random() < 0.5)
        detail = copy.deepcopy(self.detail(record))
        _rewrite(rng, detail)
        detail["changedDate"] = changed_date
        if images:
            for image in detail["images"]:
                image["changedDate"] = changed_date
        updated = EstateRecord({**record.summary, "changedDate": changed_date}, now, detail)
        self._store(updated)
        return updated

    def mutate_random(self, count: int, now: int) -> list[str]:
        """Mutate `count` distinct live estates, chosen by an RNG seeded with the mutation count."""
        live = [record.summary["estateId"] for record in self.records()]
        rng = random.Random(f"{self._seed}:{self.name}:pick:{self._mutations}")
        chosen = rng.sample(live, min(count, len(live)))
        for estate_id in chosen:
            self.mutate(estate_id, now)
        return chosen

    def delete(self, estate_id: str) -> bool:
        """Remove a live estate from lists and details; False if there is none."""
        key = estate_id.upper()
        if self.find(key) is None:
            return False
        if self._created.pop(key, None) is None:
            self._overrides.pop(key, None)
            self._deleted.add(key)
        self.version += 1
        return True

    def create(self, now: int) -> EstateRecord:
        """Add a new estate changed at `now`; its detail is rebuilt from its own seed."""
        self._creations += 1
        rng = random.Random(f"{self._seed}:{self.name}:created:{self._creations}")
        record = EstateRecord(make_summary(rng, self.catalog, len(self._base) + self._creations - 1, now), now)
        self._created[record.summary["estateId"]] = record
        self.version += 1
        return record

    def _store(self, record: EstateRecord) -> None:
        estate_id = record.summary["estateId"]
        if estate_id in self._created:
            self._created[estate_id] = record
        else:
            self._overrides[estate_id] = record
        self.version += 1


def _rewrite(rng: random.Random, detail: JsonDict) -> None:
    """The fields a mutation changes: heading, description and price (about ±10 %)."""
    detail["heading"] = heading(rng, detail["estateBaseType"])
    detail["description"] = description(rng, detail["heading"])
    price = detail["price"]
    factor = rng.uniform(0.9, 1.1)
    new_asking = max(10_000, round(price["askingPrice"] * factor / 10_000) * 10_000)
    price["totalPrice"] += new_asking - price["askingPrice"]
    price["askingPrice"] = new_asking
