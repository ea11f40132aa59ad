"""Vitec JSON → domain objects: the only module that knows Vitec's field names and quirks.

Lenient on purpose (VITEC.md): unknown fields are ignored (the raw JSON is kept beside the mapped
values), ids and numbers may come as strings, `departmentId` of an employee is an int or a list,
`streetAdress` is spelt Vitec's way, and dates come with `Z`, with an offset, or naive (naive means
Europe/Oslo wall time). A mapping that changes when the real Swagger is at hand changes only here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from domain.vitec import (
    BrokerAssignment,
    BrokerRole,
    JsonObject,
    VitecDepartment,
    VitecDocument,
    VitecEmployee,
    VitecEstate,
    VitecEstateSummary,
    VitecImage,
    VitecResponseInvalidError,
)

OSLO = ZoneInfo("Europe/Oslo")

# [L] brokerRole; [L] estateBaseType; [A] status: Vitec's values are not public, this table is ours.
BROKER_ROLES = {
    1: BrokerRole.MAIN_BROKER,
    2: BrokerRole.RESPONSIBLE_BROKER,
    3: BrokerRole.ASSISTANT,
    4: BrokerRole.RESPONSIBLE_SETTLEMENT,
    5: BrokerRole.SECONDARY_ASSISTANT,
}
ESTATE_TYPES = {0: "not_set", 1: "residential", 2: "leisure", 3: "business", 4: "project", 5: "plot"}
ESTATE_STATUSES = {0: "request", 1: "preparation", 2: "for_sale", 3: "reserved", 4: "sold", 5: "archived"}
UNKNOWN = "unknown"


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 with `Z`, an offset, or no zone at all (then Europe/Oslo); None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=OSLO)
    return parsed.astimezone(UTC)


def format_changed_after(moment: datetime) -> str:
    """`changedAfter` as the Hub wants it: Oslo wall time, `YYYY-MM-DDTHH:MM:SS`, no zone."""
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M:%S")


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _str(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _require_id(raw: Mapping[str, Any], key: str) -> str:
    value = _str(raw.get(key))
    if value is None:
        raise VitecResponseInvalidError(f"a Vitec record without {key}")
    return value


def department(raw: JsonObject) -> VitecDepartment:
    vitec_id = _int(raw.get("departmentId"))
    if vitec_id is None:
        raise VitecResponseInvalidError("a Vitec department without departmentId")
    return VitecDepartment(
        vitec_id=vitec_id,
        name=_str(raw.get("name")) or _str(raw.get("marketName")) or f"Department {vitec_id}",
        market_name=_str(raw.get("marketName")),
        email=_str(raw.get("email")),
        phone=_str(raw.get("phone")),
        street=_str(raw.get("streetAddress")),
        zip_code=_str(raw.get("postalCode")),
        city=_str(raw.get("city")),
        raw=raw,
    )


def employee(raw: JsonObject) -> VitecEmployee:
    department_ids = raw.get("departmentId")
    ids = department_ids if isinstance(department_ids, list) else [department_ids]
    return VitecEmployee(
        vitec_id=_require_id(raw, "employeeId"),
        name=_str(raw.get("name")) or "",
        title=_str(raw.get("title")),
        email=_str(raw.get("email")),
        mobile_phone=_str(raw.get("mobilePhone")) or _str(raw.get("workPhone")),
        department_ids=tuple(parsed for parsed in (_int(item) for item in ids) if parsed is not None),
        active=raw.get("employeeActive") is not False,
        raw=raw,
    )


def estate_summary(raw: JsonObject) -> VitecEstateSummary:
    return VitecEstateSummary(
        vitec_id=_require_id(raw, "estateId").upper(),
        changed_at=parse_datetime(raw.get("changedDate")),
        department_vitec_id=_int(raw.get("departmentId")),
    )


def _broker(raw: Mapping[str, Any]) -> BrokerAssignment | None:
    employee_id = _str(raw.get("employeeId"))
    if employee_id is None:
        return None
    code = _int(raw.get("brokerRole"))
    return BrokerAssignment(
        employee_id, BROKER_ROLES.get(code, BrokerRole.UNKNOWN) if code is not None else BrokerRole.UNKNOWN, code
    )


def _image(raw: Mapping[str, Any], position: int) -> VitecImage | None:
    image_id = _str(raw.get("imageId"))
    if image_id is None:
        return None
    return VitecImage(
        vitec_id=image_id,
        sequence=_int(raw.get("imageSequence")) or position,
        description=_str(raw.get("imageDescription")),
        category=_str(raw.get("imageCategoryName")),
        changed_at=parse_datetime(raw.get("changedDate")),
    )


def _document(raw: Mapping[str, Any]) -> VitecDocument | None:
    document_id = _str(raw.get("documentId"))
    if document_id is None:
        return None
    return VitecDocument(
        vitec_id=document_id,
        doc_type=_str(raw.get("docType")),
        title=_str(raw.get("head")),
        extension=_str(raw.get("extension")),
        changed_at=parse_datetime(raw.get("changedDate")),
    )


def estate(raw: JsonObject) -> VitecEstate:
    """A full estate; the address comes from `address` when present, else from the summary fields."""
    address = _object(raw.get("address"))
    price = _object(raw.get("price"))
    area = _object(raw.get("area"))
    status_code = _int(raw.get("status"))
    type_code = _int(raw.get("estateBaseType"))
    brokers = (_broker(item) for item in _objects(raw.get("brokersIdWithRoles")))
    images = (_image(item, position) for position, item in enumerate(_objects(raw.get("images")), start=1))
    documents = (_document(item) for item in _objects(raw.get("documents")))
    return VitecEstate(
        vitec_id=_require_id(raw, "estateId").upper(),
        changed_at=parse_datetime(raw.get("changedDate")),
        assignment_number=_str(raw.get("assignmentNum")),
        status=ESTATE_STATUSES.get(status_code, UNKNOWN) if status_code is not None else UNKNOWN,
        status_code=status_code,
        estate_type=ESTATE_TYPES.get(type_code, UNKNOWN) if type_code is not None else UNKNOWN,
        estate_type_code=type_code,
        department_vitec_id=_int(raw.get("departmentId")),
        street=_str(address.get("streetAdress")) or _str(raw.get("streetAdress")),
        zip_code=_str(address.get("zipCode")) or _str(raw.get("zipCode")),
        city=_str(address.get("city")) or _str(raw.get("city")),
        heading=_str(raw.get("heading")),
        description=_str(raw.get("description")),
        asking_price=_decimal(price.get("askingPrice")),
        total_price=_decimal(price.get("totalPrice")),
        primary_area=_decimal(area.get("primaryRoom")),
        usable_area=_decimal(area.get("usableArea")),
        rooms=_int(raw.get("rooms")),
        bedrooms=_int(raw.get("bedrooms")),
        construction_year=_int(raw.get("constructionYear")),
        energy_letter=_str(raw.get("energyLetter")),
        brokers=tuple(broker for broker in brokers if broker is not None),
        images=tuple(sorted((image for image in images if image is not None), key=lambda image: image.sequence)),
        documents=tuple(document for document in documents if document is not None),
        raw=raw,
    )


def records(payload: object, what: str) -> list[JsonObject]:
    """A list endpoint's bare JSON array, keeping only objects; anything else is unreadable."""
    if not isinstance(payload, list):
        raise VitecResponseInvalidError(f"expected a JSON array of {what}")
    return [item for item in payload if isinstance(item, dict)]
