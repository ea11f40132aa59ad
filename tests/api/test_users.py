"""Users of an organization: tenancy, roles, pagination, and bad input."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.users import UserRole
from repository.models import Organization, User
from tests.conftest import unique_email
from tests.factories.users import SignedIn, create_organization, create_user, signed_in


@pytest.fixture
async def broker(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> SignedIn:
    return await signed_in(client, session, resources, organization, role=UserRole.BROKER)


def new_user_body(**overrides: object) -> dict[str, object]:
    return {
        "email": unique_email("new"),
        "full_name": "Kari Nordmann",
        "password": "long enough password",
        "role": "broker",
        **overrides,
    }


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def test_admin_creates_a_user_who_can_sign_in(admin: SignedIn, client: AsyncClient) -> None:
    body = new_user_body(email="Kari.Nordmann@Example.COM")

    response = await client.post("/api/v1/users", json=body, headers=admin.headers)

    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "kari.nordmann@example.com"
    assert created["organization_id"] == str(admin.user.organization_id)
    assert "password" not in created
    assert "password_hash" not in created
    login = await client.post("/api/v1/auth/token", data={"username": body["email"], "password": body["password"]})
    assert login.status_code == 200


async def test_duplicate_email_is_a_409_whatever_the_case(
    admin: SignedIn, client: AsyncClient, session: AsyncSession
) -> None:
    body = new_user_body()
    assert (await client.post("/api/v1/users", json=body, headers=admin.headers)).status_code == 201
    before = await count_users(session)

    again = await client.post(
        "/api/v1/users", json={**body, "email": str(body["email"]).upper()}, headers=admin.headers
    )

    assert again.status_code == 409
    assert again.json()["internal_code"] == "user_email_taken"
    assert await count_users(session) == before


async def test_broker_is_refused_admin_endpoints(
    broker_user: SignedIn, client: AsyncClient, session: AsyncSession
) -> None:
    before = await count_users(session)

    created = await client.post("/api/v1/users", json=new_user_body(), headers=broker_user.headers)
    listed = await client.get("/api/v1/users", headers=broker_user.headers)
    read = await client.get(f"/api/v1/users/{broker_user.user.id}", headers=broker_user.headers)

    assert [created.status_code, listed.status_code, read.status_code] == [403, 403, 403]
    assert created.json()["internal_code"] == "admin_required"
    assert await count_users(session) == before


async def test_another_organizations_user_is_not_found(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    other_organization = await create_organization(session, name="Konkurrent AS")
    stranger = await create_user(session, resources, other_organization)
    await session.commit()

    response = await client.get(f"/api/v1/users/{stranger.id}", headers=admin.headers)
    missing = await client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.headers)

    assert response.status_code == 404
    assert response.json()["internal_code"] == "user_not_found"
    assert response.json()["detail"] == missing.json()["detail"]
    listed = await client.get("/api/v1/users", headers=admin.headers)
    assert str(stranger.id) not in {item["id"] for item in listed.json()["items"]}


async def test_a_user_in_the_organization_is_read(admin: SignedIn, broker_user: SignedIn, client: AsyncClient) -> None:
    response = await client.get(f"/api/v1/users/{broker_user.user.id}", headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["email"] == broker_user.user.email


async def test_non_uuid_path_id_is_a_422(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.get("/api/v1/users/not-a-uuid", headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "user_id"]


async def test_cursor_walk_returns_every_user_exactly_once(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    for _ in range(6):
        await create_user(session, resources, organization)
    await session.commit()
    expected = {
        str(user_id)
        for user_id in (await session.execute(select(User.id).where(User.organization_id == organization.id))).scalars()
    }

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/users", params=params, headers=admin.headers)).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == len(expected) == 7
    assert set(seen) == expected
    assert pages == 3


async def test_tampered_cursor_is_a_400(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    await create_user(session, resources, organization)
    await session.commit()
    page = (await client.get("/api/v1/users", params={"limit": 1}, headers=admin.headers)).json()
    cursor = page["next_cursor"]
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]

    for bad in (flipped, "!!!", "e30"):
        response = await client.get("/api/v1/users", params={"cursor": bad}, headers=admin.headers)
        assert response.status_code == 400, bad
        assert response.json()["internal_code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, 101, "ten"])
async def test_limit_out_of_range_is_a_422(admin: SignedIn, client: AsyncClient, limit: object) -> None:
    response = await client.get("/api/v1/users", params={"limit": limit}, headers=admin.headers)

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        (new_user_body(role="owner"), "role"),
        (new_user_body(email="not-an-email"), "email"),
        (new_user_body(password="short"), "password"),
        (new_user_body(full_name=42), "full_name"),
        (new_user_body(unexpected="field"), "unexpected"),
    ],
)
async def test_invalid_user_bodies_are_422_and_create_nothing(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, body: dict[str, object], bad_field: str
) -> None:
    before = await count_users(session)

    response = await client.post("/api/v1/users", json=body, headers=admin.headers)

    assert response.status_code == 422
    assert bad_field in {issue["loc"][-1] for issue in response.json()["errors"]}
    assert "long enough password" not in response.text
    assert await count_users(session) == before


async def test_malformed_json_is_a_422_not_a_500(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", content=b'{"email": ', headers={**admin.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_oversize_json_body_is_a_413(admin: SignedIn, client: AsyncClient, session: AsyncSession) -> None:
    before = await count_users(session)
    body = new_user_body(full_name="x" * (1024 * 1024 + 1))

    response = await client.post("/api/v1/users", json=body, headers=admin.headers)

    assert response.status_code == 413
    assert response.json()["internal_code"] == "request_too_large"
    assert await count_users(session) == before


async def test_oversize_json_body_without_content_length_is_a_413(admin: SignedIn, client: AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"email": "a@b.test", "full_name": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'

    response = await client.post(
        "/api/v1/users", content=chunks(), headers={**admin.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 413


async def test_an_admin_patches_a_user_and_gets_it_back(
    admin: SignedIn, broker_user: SignedIn, client: AsyncClient
) -> None:
    response = await client.patch(
        f"/api/v1/users/{broker_user.user.id}", json={"full_name": "Kari Nordmann", "role": "admin"},
        headers=admin.headers,
    )  # fmt: skip

    assert response.status_code == 200
    assert (response.json()["full_name"], response.json()["role"]) == ("Kari Nordmann", "admin")
    assert (await client.get(f"/api/v1/users/{broker_user.user.id}", headers=admin.headers)).json()["role"] == "admin"


@pytest.mark.parametrize(
    "body", [{"email": "new@example.com"}, {"password": "long enough password"}, {"role": "owner"}, {"role": None},
             {"is_active": "maybe"}, {"full_name": ""}],
)  # fmt: skip
async def test_patch_refuses_unknown_fields_and_bad_values(
    admin: SignedIn, broker_user: SignedIn, client: AsyncClient, body: dict[str, object]
) -> None:
    response = await client.patch(f"/api/v1/users/{broker_user.user.id}", json=body, headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["internal_code"] == "validation_error"


@pytest.mark.parametrize("body", [{"role": "broker"}, {"is_active": False}])
async def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization,
    body: dict[str, object],
) -> None:  # fmt: skip
    # An inactive admin does not count as the one that would remain.
    await create_user(session, resources, organization, role=UserRole.ADMIN, is_active=False)
    await session.commit()

    response = await client.patch(f"/api/v1/users/{admin.user.id}", json=body, headers=admin.headers)

    assert response.status_code == 409
    assert response.json()["internal_code"] == "last_admin"
    assert (await client.get("/api/v1/users", headers=admin.headers)).status_code == 200


async def test_an_admin_may_step_down_while_another_admin_remains(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    await create_user(session, resources, organization, role=UserRole.ADMIN)
    await session.commit()

    response = await client.patch(f"/api/v1/users/{admin.user.id}", json={"role": "broker"}, headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["role"] == "broker"


async def test_patching_another_organizations_user_is_not_found(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    stranger = await create_user(session, resources, await create_organization(session, name="Konkurrent AS"))
    await session.commit()

    response = await client.patch(f"/api/v1/users/{stranger.id}", json={"is_active": False}, headers=admin.headers)

    assert response.status_code == 404
    assert response.json()["internal_code"] == "user_not_found"
    await session.refresh(stranger)
    assert stranger.is_active is True
