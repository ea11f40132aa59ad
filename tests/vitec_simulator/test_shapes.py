"""Paths and shapes, quirks included: bare arrays, `streetAdress`, int-or-list ids, mixed dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.vitec_simulator.support import INSTALLATION, get_json, instant
from vitec_simulator.config import DEFAULT_ANCHOR

GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
SUMMARY_FIELDS = {
    "estateId", "changedDate", "streetAdress", "zipCode", "city", "assignmentNum", "estateBaseType",
    "assignmentTypeGroup", "ownership", "status", "departmentId", "brokersIdWithRoles",
}  # fmt: skip
DEPARTMENT_FIELDS = {
    "departmentId", "departmentNumber", "name", "marketName", "legalName", "organisationNumber", "email",
    "phone", "streetAddress", "postalCode", "city", "aboutDepartment", "webPublish",
}  # fmt: skip
EMPLOYEE_FIELDS = {
    "employeeId", "departmentId", "name", "title", "email", "mobilePhone", "workPhone", "aboutMe",
    "employeeActive", "employeePositions",
}  # fmt: skip

DOCUMENT_FIELDS = {"documentId", "docType", "head", "extension", "changedDate"}


async def details(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    rows = await get_json(client, f"/{INSTALLATION}/Estates")
    return [await get_json(client, f"/{INSTALLATION}/Estates/{row['estateId']}") for row in rows[:count]]


async def test_lists_are_bare_arrays(client: httpx.AsyncClient) -> None:
    for path in ("/Account/Methods", f"/{INSTALLATION}/Departments", f"/{INSTALLATION}/Employees"):
        assert isinstance(await get_json(client, path), list), path
    response = await client.get(f"/{INSTALLATION}/Estates")
    assert response.headers["content-type"].startswith("application/json")
    assert response.content.startswith(b"[{")
    assert len(response.json()) == 300


async def test_account_methods_lists_strings(client: httpx.AsyncClient) -> None:
    methods = await get_json(client, "/Account/Methods")
    assert methods
    assert all(isinstance(method, str) for method in methods)


async def test_departments_have_the_production_shape(client: httpx.AsyncClient) -> None:
    departments = await get_json(client, f"/{INSTALLATION}/Departments")
    assert len(departments) == 4
    for department in departments:
        assert set(department) == DEPARTMENT_FIELDS
        assert isinstance(department["departmentId"], int)
        assert isinstance(department["webPublish"], bool)
        assert department["aboutDepartment"].startswith("<p>")
    one = departments[1]
    assert await get_json(client, f"/{INSTALLATION}/Departments/{one['departmentId']}") == one


async def test_employee_department_is_an_int_for_most_and_a_list_for_some(client: httpx.AsyncClient) -> None:
    employees = await get_json(client, f"/{INSTALLATION}/Employees")
    assert len(employees) == 20
    kinds = {type(employee["departmentId"]) for employee in employees}
    assert kinds == {int, list}
    assert sum(isinstance(employee["departmentId"], int) for employee in employees) > len(employees) / 2
    for employee in employees:
        assert set(employee) == EMPLOYEE_FIELDS
        assert isinstance(employee["employeeId"], str)
        assert all(isinstance(position["type"], int) for position in employee["employeePositions"])
    lower = employees[0]["employeeId"].lower()
    assert await get_json(client, f"/{INSTALLATION}/Employees/{lower}") == employees[0]


async def test_estate_summaries_keep_vitec_spelling_and_enums(client: httpx.AsyncClient) -> None:
    summaries = await get_json(client, f"/{INSTALLATION}/Estates")
    employee_ids = {row["employeeId"] for row in await get_json(client, f"/{INSTALLATION}/Employees")}
    for row in summaries:
        assert set(row) == SUMMARY_FIELDS
        assert GUID.match(row["estateId"])
        assert re.fullmatch(r"\d{4}", row["zipCode"])
        assert 0 <= row["estateBaseType"] <= 5
        assert 0 <= row["assignmentTypeGroup"] <= 4
        assert 0 <= row["ownership"] <= 4
        assert 1 <= len(row["brokersIdWithRoles"]) <= 3
        for broker in row["brokersIdWithRoles"]:
            assert broker["employeeId"] in employee_ids
            assert 1 <= broker["brokerRole"] <= 5
    statuses = {row["status"] for row in summaries}
    assert 99 in statuses
    assert statuses <= {0, 1, 2, 3, 4, 5, 99}
    assert sum(row["status"] == 99 for row in summaries) >= 3


async def test_dates_mix_naive_and_utc_values_over_two_years(client: httpx.AsyncClient) -> None:
    dates = [row["changedDate"] for row in await get_json(client, f"/{INSTALLATION}/Estates")]
    zoned = [value for value in dates if value.endswith("Z")]
    assert 50 < len(zoned) < 250
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ?", value) for value in dates)
    instants = [instant(value) for value in dates]
    assert min(instants) > DEFAULT_ANCHOR - timedelta(days=731)
    assert max(instants) < DEFAULT_ANCHOR + timedelta(hours=2) < datetime.now(UTC)


async def test_estate_detail_adds_listing_content_and_unknown_fields(client: httpx.AsyncClient) -> None:
    estates = await details(client, 40)
    for estate in estates:
        assert estate["address"] == {key: estate[key] for key in ("streetAdress", "zipCode", "city")}
        assert set(estate["price"]) == {"askingPrice", "totalPrice", "sharedDebt", "commonCosts"}
        assert set(estate["area"]) == {"primaryRoom", "usableArea", "plotSize"}
        assert "partnerTags" in estate
        assert "internalNote" in estate
        assert estate["description"].startswith("<p><strong>")
        assert len(estate["images"]) <= 6
        assert len(estate["documents"]) <= 3
        assert [image["imageSequence"] for image in estate["images"]] == list(range(1, len(estate["images"]) + 1))
        assert all(set(doc) == DOCUMENT_FIELDS for doc in estate["documents"])
    assert any("&amp;" in estate["description"] for estate in estates)
    image_counts = {len(estate["images"]) for estate in estates}
    assert 0 in image_counts
    assert max(image_counts) == 6


async def test_summary_fields_repeat_in_the_detail(client: httpx.AsyncClient) -> None:
    summary = (await get_json(client, f"/{INSTALLATION}/Estates"))[3]
    detail = await get_json(client, f"/{INSTALLATION}/Estates/{summary['estateId']}")
    assert {key: detail[key] for key in summary} == summary


async def test_installation_and_estate_ids_match_case_insensitively(client: httpx.AsyncClient) -> None:
    upper = await client.get(f"/{INSTALLATION}/Estates")
    lower = await client.get(f"/{INSTALLATION.lower()}/Estates")
    assert upper.content == lower.content
    estate_id = upper.json()[0]["estateId"]
    detail = await get_json(client, f"/DemoInstall/Estates/{estate_id.lower()}")
    assert detail["estateId"] == estate_id
