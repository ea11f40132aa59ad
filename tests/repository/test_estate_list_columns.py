"""An estate's list columns (broker ids, first image) follow its brokers and images, whoever writes them."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from repository.models import Employee, Estate, EstateBroker, EstateImage, Organization
from tests.factories.documents import create_estate
from tests.factories.users import create_organization


async def employee(session: AsyncSession, organization: Organization, name: str) -> Employee:
    person = Employee(organization_id=organization.id, vitec_id=f"P{uuid.uuid4().hex[:8]}", name=name,
                      department_vitec_ids=[], active=True, raw={}, content_hash="0" * 64)  # fmt: skip
    session.add(person)
    await session.flush()
    return person


async def list_columns(session: AsyncSession, estate: Estate) -> tuple[list[uuid.UUID], uuid.UUID | None, str | None]:
    row = (
        await session.execute(
            text("SELECT broker_ids, thumbnail_image_id, thumbnail_blob_name FROM estates WHERE id = :id"),
            {"id": estate.id},
        )
    ).one()
    return list(row[0]), row[1], row[2]


def image(estate: Estate, sequence: int) -> dict[str, object]:
    return {"id": uuid.uuid4(), "estate_id": estate.id, "vitec_id": f"I{uuid.uuid4().hex[:8]}", "sequence": sequence}


async def test_broker_ids_follow_the_brokers_by_role_code_and_each_once(session: AsyncSession) -> None:
    organization = await create_organization(session)
    estate = await create_estate(session, organization)
    main, assistant = await employee(session, organization, "Main"), await employee(session, organization, "Assistant")
    await session.execute(
        insert(EstateBroker),
        [
            {"estate_id": estate.id, "employee_id": assistant.id, "employee_vitec_id": assistant.vitec_id,
             "role": "assistant", "role_code": 2},
            {"estate_id": estate.id, "employee_id": main.id, "employee_vitec_id": main.vitec_id,
             "role": "main_broker", "role_code": 1},
            {"estate_id": estate.id, "employee_id": main.id, "employee_vitec_id": main.vitec_id,
             "role": "settlement", "role_code": 3},
            {"estate_id": estate.id, "employee_id": None, "employee_vitec_id": "UNSYNCED",
             "role": "assistant", "role_code": 2},
        ],
    )  # fmt: skip
    assert (await list_columns(session, estate))[0] == [main.id, assistant.id]

    await session.execute(delete(Employee).where(Employee.id == main.id))  # the brokers' FK sets NULL
    assert (await list_columns(session, estate))[0] == [assistant.id]

    await session.execute(delete(EstateBroker).where(EstateBroker.estate_id == estate.id))
    assert (await list_columns(session, estate))[0] == []


async def test_the_thumbnail_is_the_first_image_and_its_blob_once_mirrored(session: AsyncSession) -> None:
    organization = await create_organization(session)
    estate = await create_estate(session, organization)
    other = await create_estate(session, organization)
    second, first = image(estate, 2), image(estate, 1)
    await session.execute(insert(EstateImage), [second, first, image(other, 1)])
    assert await list_columns(session, estate) == ([], first["id"], None)

    mirrored = {"blob_name": "images/a.jpg", "mirrored_at": text("now()")}
    await session.execute(update(EstateImage).where(EstateImage.id == second["id"]).values(**mirrored))
    assert await list_columns(session, estate) == ([], first["id"], None)  # not the first image
    await session.execute(update(EstateImage).where(EstateImage.id == first["id"]).values(**mirrored))
    assert await list_columns(session, estate) == ([], first["id"], "images/a.jpg")

    await session.execute(update(EstateImage).where(EstateImage.id == first["id"]).values(mirrored_at=None))
    assert await list_columns(session, estate) == ([], first["id"], None)  # changed in Vitec: not served

    await session.execute(delete(EstateImage).where(EstateImage.id == first["id"]))
    assert await list_columns(session, estate) == ([], second["id"], "images/a.jpg")
    await session.execute(delete(EstateImage).where(EstateImage.estate_id == estate.id))
    assert await list_columns(session, estate) == ([], None, None)
    assert (await list_columns(session, other))[1] is not None  # the other estate's own, untouched


async def test_keeping_the_columns_moves_no_updated_at(session: AsyncSession) -> None:
    """A mirrored thumbnail must not move an estate to the top of the list."""
    organization = await create_organization(session)
    estate = await create_estate(session, organization)
    # In the past: within the test's one transaction now() would not tell a move from none.
    await session.execute(
        text("UPDATE estates SET updated_at = '2020-01-01T00:00:00Z' WHERE id = :id"), {"id": estate.id}
    )
    before = (await session.execute(text("SELECT updated_at FROM estates WHERE id = :id"), {"id": estate.id})).scalar()
    await session.execute(insert(EstateImage), [image(estate, 1)])

    after = (await session.execute(text("SELECT updated_at FROM estates WHERE id = :id"), {"id": estate.id})).scalar()
    assert after == before
