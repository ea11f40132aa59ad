"""The simulated Hub API: PascalCase paths, HTTP Basic auth, bare JSON arrays, bytes for files."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from vitec_simulator import binaries, clock
from vitec_simulator.generator import JsonDict
from vitec_simulator.responses import HubError, json_bytes, json_response, not_found
from vitec_simulator.state import simulator
from vitec_simulator.store import EstateRecord, InstallationStore

METHODS = (
    "Account_GetMethods",
    "Departments_GetDepartments",
    "Departments_GetDepartment",
    "Departments_GetDepartmentPicture",
    "Employees_GetEmployees",
    "Employees_GetEmployee",
    "Employees_GetEmployeePicture",
    "Estates_GetEstates",
    "Estates_GetEstate",
    "Estates_GetEstateImage",
    "Estates_GetEstateDocument",
)


def _credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def require_basic_auth(request: Request) -> None:
    """401 with a `WWW-Authenticate: Basic` challenge unless the configured credentials came."""
    config = simulator(request).config
    given = _credentials(request.headers.get("authorization", ""))
    username_ok = given is not None and _same(given[0], config.username)
    password_ok = given is not None and _same(given[1], config.password)
    if not (username_ok and password_ok):
        raise HubError(401, "missing or wrong credentials", {"WWW-Authenticate": 'Basic realm="Vitec Hub"'})


def installation_store(request: Request, inst: str) -> InstallationStore:
    """The path's installation: 403 when these credentials have no rights to it, 404 when unknown."""
    return simulator(request).installation(inst)


Store = Annotated[InstallationStore, Depends(installation_store)]
router = APIRouter(dependencies=[Depends(require_basic_auth)])


@router.get("/Account/Methods")
async def account_methods() -> Response:
    """The functions these credentials may call."""
    return json_response(list(METHODS))


@router.get("/{inst}/Departments")
async def departments(store: Store) -> Response:
    """Every department, as a bare array."""
    return json_response(store.catalog.departments)


def _department(store: InstallationStore, department_id: str) -> JsonDict:
    for department in store.catalog.departments:
        if str(department["departmentId"]) == department_id.strip():
            return department
    raise not_found(f"department {department_id}")


@router.get("/{inst}/Departments/{departmentId}")
async def department(store: Store, department_id: Annotated[str, Path(alias="departmentId")]) -> Response:
    """One department."""
    return json_response(_department(store, department_id))


@router.get("/{inst}/Departments/{departmentId}/Picture")
async def department_picture(store: Store, department_id: Annotated[str, Path(alias="departmentId")]) -> Response:
    """The department's picture; 404 for departments without one."""
    found = _department(store, department_id)
    if found["departmentId"] not in store.catalog.department_pictures:
        raise not_found(f"picture of department {department_id}")
    return Response(binaries.png(f"department:{found['departmentId']}", 64, 48), media_type="image/png")


@router.get("/{inst}/Employees")
async def employees(store: Store) -> Response:
    """Every employee, as a bare array."""
    return json_response(store.catalog.employees)


def _employee(store: InstallationStore, employee_id: str) -> JsonDict:
    key = employee_id.upper()
    for employee in store.catalog.employees:
        if employee["employeeId"].upper() == key:
            return employee
    raise not_found(f"employee {employee_id}")


@router.get("/{inst}/Employees/{employeeId}")
async def employee(store: Store, employee_id: Annotated[str, Path(alias="employeeId")]) -> Response:
    """One employee (matched case-insensitively)."""
    return json_response(_employee(store, employee_id))


@router.get("/{inst}/Employees/{employeeId}/Picture")
async def employee_picture(store: Store, employee_id: Annotated[str, Path(alias="employeeId")]) -> Response:
    """The employee's portrait; 404 for employees without one."""
    found = _employee(store, employee_id)
    if found["employeeId"] not in store.catalog.employee_pictures:
        raise not_found(f"picture of employee {employee_id}")
    return Response(binaries.png(f"employee:{found['employeeId']}", 48, 64), media_type="image/png")


def _changed_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return clock.parse(value)
    except clock.DateFormatError as error:
        raise HubError(400, str(error)) from None


def _department_filter(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise HubError(400, f"departmentId must be an integer, got {value!r}") from None


def _listing(store: InstallationStore, changed_after: float | None, department_id: int | None) -> bytes:
    """The JSON of a listing; the unfiltered one is cached until the estates change."""
    if changed_after is not None or department_id is not None:
        return json_bytes(store.summaries(changed_after, department_id))
    cached = store.listing_cache
    if cached is None or cached[0] != store.version:
        cached = store.listing_cache = (store.version, json_bytes(store.summaries(None, None)))
    return cached[1]


@router.get("/{inst}/Estates")
async def estates(
    store: Store,
    changed_after: Annotated[str | None, Query(alias="changedAfter")] = None,
    department_id: Annotated[str | None, Query(alias="departmentId")] = None,
) -> Response:
    """Estate summaries, all in one bare array; `changedAfter` is Oslo local time unless it ends in `Z`."""
    body = _listing(store, _changed_after(changed_after), _department_filter(department_id))
    return Response(body, media_type="application/json; charset=utf-8")


def _estate(store: InstallationStore, estate_id: str) -> EstateRecord:
    record = store.find(estate_id)
    if record is None:
        raise not_found(f"estate {estate_id}")
    return record


@router.get("/{inst}/Estates/{estateId}")
async def estate(store: Store, estate_id: Annotated[str, Path(alias="estateId")]) -> Response:
    """The full estate (id matched case-insensitively)."""
    return json_response(store.detail(_estate(store, estate_id)))


def _attachment(items: list[dict[str, Any]], key: str, wanted: str, what: str) -> JsonDict:
    for item in items:
        if str(item[key]).upper() == wanted.upper():
            return item
    raise not_found(what)


@router.get("/{inst}/Estates/{estateId}/Images/{imageId}")
async def estate_image(
    request: Request,
    store: Store,
    estate_id: Annotated[str, Path(alias="estateId")],
    image_id: Annotated[str, Path(alias="imageId")],
) -> Response:
    """An estate image as PNG bytes (new bytes once a mutation re-stamped the image's `changedDate`)."""
    detail = store.detail(_estate(store, estate_id))
    image = _attachment(detail["images"], "imageId", image_id, f"image {image_id}")
    key = f"image:{image['imageId']}:{image.get('changedDate')}"
    content = binaries.png(key, min_bytes=simulator(request).config.image_bytes)
    return Response(content, media_type="image/png")


@router.get("/{inst}/Estates/{estateId}/Documents/{documentId}")
async def estate_document(
    store: Store,
    estate_id: Annotated[str, Path(alias="estateId")],
    document_id: Annotated[str, Path(alias="documentId")],
) -> Response:
    """An estate document: a PDF for extension `pdf`, plain text otherwise."""
    detail = store.detail(_estate(store, estate_id))
    document = _attachment(detail["documents"], "documentId", document_id, f"document {document_id}")
    subtitle = f"{detail['streetAdress']}, {detail['zipCode']} {detail['city']} ({detail['estateId']})"
    if document["extension"] == "pdf":
        return Response(binaries.pdf(document["head"], subtitle), media_type="application/pdf")
    return Response(binaries.text_document(document["head"], subtitle), media_type="text/plain; charset=utf-8")
