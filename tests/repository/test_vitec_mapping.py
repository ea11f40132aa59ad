"""Every Vitec quirk of VITEC.md, mapped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.vitec import BrokerRole, VitecResponseInvalidError
from repository.vitec import mapping

ESTATE_ID = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"


def full_estate(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "estateId": ESTATE_ID.lower(),
        "changedDate": "2026-11-20T14:03:00",
        "assignmentNum": "1-0042/26",
        "status": 2,
        "estateBaseType": 1,
        "departmentId": "7",
        "address": {"streetAdress": "Storgata 1", "zipCode": "0155", "city": "Oslo"},
        "streetAdress": "ignored when address is present",
        "heading": "Lys og romslig",
        "description": "<p>Fin leilighet</p>",
        "price": {"askingPrice": 4500000, "totalPrice": "4612345.50"},
        "area": {"primaryRoom": 62.5, "usableArea": "70"},
        "rooms": "3",
        "bedrooms": 2,
        "constructionYear": 1936,
        "energyLetter": "D",
        "brokersIdWithRoles": [{"employeeId": "E1", "brokerRole": 1}, {"employeeId": "E2", "brokerRole": 9},
                               {"brokerRole": 1}],
        "images": [{"imageId": "I2", "imageSequence": 2}, {"imageId": "I1", "imageSequence": 1,
                   "imageCategoryName": "Stue", "changedDate": "2026-01-02T10:00:00Z"}],
        "documents": [{"documentId": "D1", "docType": "Salgsoppgave", "head": "Prospekt", "extension": "pdf"}],
        "partnerTags": ["unknown fields are kept raw, never break parsing"],
    }  # fmt: skip
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T14:03:00", datetime(2026, 11, 20, 13, 3, tzinfo=UTC)),  # naive, winter: Oslo is UTC+1
        ("2026-07-01T12:00:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),  # naive, summer: UTC+2
        ("2026-11-20T14:03:00Z", datetime(2026, 11, 20, 14, 3, tzinfo=UTC)),
        ("2026-11-20T14:03:00.123+01:00", datetime(2026, 11, 20, 13, 3, 0, 123000, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_parsed_leniently(text: object, expected: datetime | None) -> None:
    assert mapping.parse_datetime(text) == expected


def test_changed_after_is_sent_as_oslo_wall_time_without_zone() -> None:
    assert mapping.format_changed_after(datetime(2026, 7, 1, 10, 0, 59, tzinfo=UTC)) == "2026-07-01T12:00:59"


def test_a_full_estate_maps_every_field() -> None:
    estate = mapping.estate(full_estate())

    assert estate.vitec_id == ESTATE_ID
    assert estate.changed_at == datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
    assert (estate.status, estate.status_code, estate.estate_type) == ("for_sale", 2, "residential")
    assert estate.department_vitec_id == 7
    assert (estate.street, estate.zip_code, estate.city) == ("Storgata 1", "0155", "Oslo")
    assert (estate.asking_price, estate.total_price) == (Decimal("4500000"), Decimal("4612345.50"))
    assert (estate.primary_area, estate.usable_area) == (Decimal("62.5"), Decimal("70"))
    assert (estate.rooms, estate.bedrooms, estate.construction_year, estate.energy_letter) == (3, 2, 1936, "D")
    assert [(b.employee_vitec_id, b.role) for b in estate.brokers] == [("E1", BrokerRole.MAIN_BROKER),
                                                                       ("E2", BrokerRole.UNKNOWN)]  # fmt: skip
    assert [image.vitec_id for image in estate.images] == ["I1", "I2"]
    assert estate.images[0].category == "Stue"
    assert estate.documents[0].title == "Prospekt"
    assert estate.raw["partnerTags"]


def test_unknown_status_and_type_keep_their_raw_codes() -> None:
    estate = mapping.estate(full_estate(status=99, estateBaseType=42))

    assert (estate.status, estate.status_code) == ("unknown", 99)
    assert (estate.estate_type, estate.estate_type_code) == ("unknown", 42)


def test_summary_fields_stand_in_for_a_missing_address() -> None:
    estate = mapping.estate(
        full_estate(address=None, streetAdress="Kirkeveien 3", zipCode="0368", city="Oslo", price="n/a", area=None)
    )

    assert (estate.street, estate.zip_code) == ("Kirkeveien 3", "0368")
    assert estate.asking_price is None
    assert estate.primary_area is None


def test_employee_department_is_an_int_or_a_list() -> None:
    single = mapping.employee({"employeeId": "E1", "name": "Kari", "departmentId": 3})
    several = mapping.employee(
        {"employeeId": "E2", "name": "Ola", "departmentId": [3, "4", None], "employeeActive": False}
    )

    assert single.department_ids == (3,)
    assert single.active
    assert several.department_ids == (3, 4)
    assert not several.active


def test_department_and_summary() -> None:
    department = mapping.department(
        {"departmentId": "12", "marketName": "Eiendom Sentrum", "streetAddress": "Torget 1"}
    )
    summary = mapping.estate_summary({"estateId": ESTATE_ID.lower(), "changedDate": "2026-01-01T00:00:00Z"})

    assert (department.vitec_id, department.name, department.street) == (12, "Eiendom Sentrum", "Torget 1")
    assert summary.vitec_id == ESTATE_ID
    assert summary.changed_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_records_without_ids_and_non_arrays_are_refused() -> None:
    with pytest.raises(VitecResponseInvalidError):
        mapping.estate({"heading": "no id"})
    with pytest.raises(VitecResponseInvalidError):
        mapping.records({"contacts": []}, "estates")
    assert mapping.records([{"a": 1}, "junk", 3], "estates") == [{"a": 1}]
