"""Seeded data: departments, employees, estate summaries (eagerly) and estate details (on demand).

Everything is drawn from `random.Random` instances seeded with strings, so one seed always gives
the same bytes. Summaries come from the installation's RNG in order; a detail comes from an RNG
seeded with the estate's own id, so it can be rebuilt at any time without being stored.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from vitec_simulator import vocabulary as words
from vitec_simulator.clock import render

JsonDict = dict[str, Any]

DAY = 86_400
SPAN_SECONDS = 730 * DAY
UNKNOWN_STATUS = 99  # not in any mapping table the client knows
STATUSES = (0, 1, 2, 2, 2, 3, 3, 4, 5)
BASE_TYPES = (1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 0)
ASSIGNMENT_GROUPS = (1, 1, 1, 1, 1, 1, 2, 3, 4, 0)
OWNERSHIPS = (0, 0, 0, 1, 1, 2, 3, 4, 4)
BROKER_COUNTS = (1, 1, 2, 2, 2, 3)
ENERGY_LETTERS = ("A", "B", "C", "C", "D", "D", "E", "F", "G", None)


@dataclass(frozen=True)
class Catalog:
    """One installation's departments and employees, with the lookups the estates need."""

    installation: str
    departments: list[JsonDict]
    employees: list[JsonDict]
    department_pictures: frozenset[int]
    employee_pictures: frozenset[str]
    brokers_by_department: dict[int, list[str]]
    all_brokers: list[str]
    # Shared `{employeeId, brokerRole}` objects: 100 000 estates need only a few hundred of them.
    broker_entries: dict[tuple[str, int], JsonDict] = field(default_factory=dict)

    def broker_entry(self, employee_id: str, role: int) -> JsonDict:
        """The one (never modified) broker object for this employee and role."""
        key = (employee_id, role)
        entry = self.broker_entries.get(key)
        if entry is None:
            entry = self.broker_entries[key] = {"employeeId": employee_id, "brokerRole": role}
        return entry


def new_guid(rng: random.Random) -> str:
    """An upper-case GUID drawn from `rng` (Vitec's id style)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


def _ascii(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "AE", "Ø": "O", "Å": "A", "&": "og", " ": ""})
    return text.translate(table).lower()


def _phone(rng: random.Random, first: str) -> str:
    digits = first + "".join(str(rng.randrange(10)) for _ in range(8 - len(first)))
    return " ".join(digits[i : i + 2] for i in range(0, 8, 2))


def _street(rng: random.Random) -> str:
    letter = rng.choice(("", "", "", "", "A", "B"))
    return f"{rng.choice(words.STREET_STEMS)}{rng.choice(words.STREET_SUFFIXES)} {rng.randint(1, 150)}{letter}"


def _department(rng: random.Random, index: int, firm: str) -> JsonDict:
    zip_code, city = rng.choice(words.PLACES)
    market_name = f"{firm} {city}" if index % 3 else f"{firm} {city} Sentrum"
    return {
        "departmentId": 100 + index * 3,
        "departmentNumber": 2000 + index * 10,
        "name": f"{firm} avd. {city} {index + 1}",
        "marketName": market_name,
        "legalName": f"{firm} {city} AS",
        "organisationNumber": str(rng.randint(910_000_000, 999_999_999)),
        "email": f"{_ascii(city)}{index + 1}@{_ascii(firm)}.no",
        "phone": _phone(rng, "2"),
        "streetAddress": _street(rng),
        "postalCode": zip_code,
        "city": city,
        "aboutDepartment": f"<p>Velkommen til <strong>{market_name}</strong>!</p><p>{rng.choice(words.SENTENCES)}</p>",
        "webPublish": rng.random() < 0.85,
    }


def _employee_id(first: str, last: str, taken: set[str]) -> str:
    base = _ascii(first[0] + last[:2]).upper()
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    taken.add(candidate)
    return candidate


def _employee_departments(rng: random.Random, department_ids: list[int]) -> int | list[int]:
    if rng.random() < 0.8 or len(department_ids) == 1:
        return rng.choice(department_ids)
    return sorted(rng.sample(department_ids, rng.randint(1, 2)))


def _employee(rng: random.Random, department_ids: list[int], taken: set[str], firm: str) -> JsonDict:
    first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
    employee_id = _employee_id(first, last, taken)
    about = rng.choice((None, "", f"<p>{first} har lang erfaring fra boligsalg.</p>"))
    return {
        "employeeId": employee_id,
        "departmentId": _employee_departments(rng, department_ids),
        "name": f"{first} {last}",
        "title": rng.choice(words.TITLES),
        "email": f"{_ascii(first)}.{_ascii(last)}.{employee_id.lower()}@{_ascii(firm)}.no",
        "mobilePhone": _phone(rng, rng.choice(("4", "9"))),
        "workPhone": rng.choice((None, _phone(rng, "2"))),
        "aboutMe": about,
        "employeeActive": rng.random() < 0.9,
        "employeePositions": [{"type": rng.randint(1, 4)} for _ in range(rng.randint(0, 2))],
    }


def _brokers_by_department(employees: list[JsonDict]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for employee in employees:
        department = employee["departmentId"]
        for department_id in department if isinstance(department, list) else [department]:
            result.setdefault(department_id, []).append(employee["employeeId"])
    return result


def make_catalog(rng: random.Random, installation: str, departments: int, employees: int) -> Catalog:
    """Draw an installation's departments and employees."""
    firm = rng.choice(words.FIRM_NAMES)
    department_rows = [_department(rng, index, firm) for index in range(departments)]
    department_ids = [row["departmentId"] for row in department_rows]
    taken: set[str] = set()
    employee_rows = [_employee(rng, department_ids, taken, firm) for _ in range(employees)]
    return Catalog(
        installation=installation,
        departments=department_rows,
        employees=employee_rows,
        department_pictures=frozenset(i for i in department_ids if rng.random() < 0.75),
        employee_pictures=frozenset(row["employeeId"] for row in employee_rows if rng.random() < 0.8),
        brokers_by_department=_brokers_by_department(employee_rows),
        all_brokers=[row["employeeId"] for row in employee_rows],
    )


def _brokers(rng: random.Random, catalog: Catalog, department_id: int) -> list[JsonDict]:
    pool = catalog.brokers_by_department.get(department_id) or catalog.all_brokers
    chosen = rng.sample(pool, min(rng.choice(BROKER_COUNTS), len(pool)))
    roles = [1, *rng.sample((2, 3, 4, 5), len(chosen) - 1)] if chosen else []
    return [catalog.broker_entry(employee, role) for employee, role in zip(chosen, roles, strict=True)]


def make_summary(rng: random.Random, catalog: Catalog, index: int, changed: int) -> JsonDict:
    """One estate summary as `GET /Estates` lists it; `changed` is its change time (UTC epoch)."""
    estate_id = new_guid(rng)
    zip_code, city = rng.choice(words.PLACES)
    department = rng.choice(catalog.departments)
    return {
        "estateId": estate_id,
        "changedDate": render(changed, rng.random() < 0.5),
        "streetAdress": _street(rng),
        "zipCode": zip_code,
        "city": city,
        "assignmentNum": f"{department['departmentNumber']}-{index + 1:05d}",
        "estateBaseType": rng.choice(BASE_TYPES),
        "assignmentTypeGroup": rng.choice(ASSIGNMENT_GROUPS),
        "ownership": rng.choice(OWNERSHIPS),
        "status": UNKNOWN_STATUS if index % 53 == 17 else rng.choice(STATUSES),
        "departmentId": department["departmentId"],
        "brokersIdWithRoles": _brokers(rng, catalog, department["departmentId"]),
    }


def make_summaries(rng: random.Random, catalog: Catalog, count: int, end: int) -> list[tuple[JsonDict, int]]:
    """`count` seeded summaries with their change times, spread over the two years before `end`."""
    start = end - SPAN_SECONDS
    rows = []
    for index in range(count):
        changed = start + rng.randrange(SPAN_SECONDS)
        rows.append((make_summary(rng, catalog, index, changed), changed))
    return rows
