"""Access that can be taken back: a logout, a reused refresh token, a deactivation or a demotion
ends the session's access tokens at once, on every kind of route (hot paths included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from core.security import TokenType
from domain.users import UserRole
from repository.models import Organization
from tests.factories.jobs import create_job
from tests.factories.users import SignedIn, signed_in


async def every_route_kind(client: AsyncClient, signed: SignedIn, job_path: str) -> dict[str, Response]:
    """A normal route, a job poll and a cached estate page (both answered by the hot path when the
    caller passes), and a refresh with the session's refresh token."""
    return {
        "me": await client.get("/api/v1/me", headers=signed.headers),
        "poll": await client.get(job_path, headers=signed.headers),
        "estates": await client.get("/api/v1/estates", headers=signed.headers),
        "refresh": await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token}),
    }


@pytest.fixture
async def job_path(session: AsyncSession, organization: Organization) -> str:
    job = await create_job(session, organization)
    await session.commit()
    return f"/api/v1/jobs/{job.id}"


async def warm(client: AsyncClient, signed: SignedIn, job_path: str) -> None:
    """Fill every cache the hot paths answer from: the session's access, the job, the page."""
    for path in ("/api/v1/me", job_path, "/api/v1/estates", "/api/v1/estates"):
        assert (await client.get(path, headers=signed.headers)).status_code == 200


def codes(answers: dict[str, Response]) -> dict[str, tuple[int, str]]:
    return {name: (answer.status_code, answer.json().get("internal_code", "")) for name, answer in answers.items()}


async def test_logout_ends_the_sessions_access_tokens_on_every_route_kind(
    client: AsyncClient, broker_user: SignedIn, job_path: str
) -> None:
    await warm(client, broker_user, job_path)

    assert (
        await client.post("/api/v1/auth/logout", json={"refresh_token": broker_user.refresh_token})
    ).status_code == 204

    assert codes(await every_route_kind(client, broker_user, job_path)) == {
        "me": (401, "token_revoked"),
        "poll": (401, "token_revoked"),
        "estates": (401, "token_revoked"),
        "refresh": (401, "token_revoked"),
    }


async def test_a_reused_refresh_token_ends_the_sessions_access_tokens(
    client: AsyncClient, broker_user: SignedIn, job_path: str
) -> None:
    child = (await client.post("/api/v1/auth/refresh", json={"refresh_token": broker_user.refresh_token})).json()
    rotated = SignedIn(broker_user.user, child["access_token"], child["refresh_token"])
    await warm(client, rotated, job_path)

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": broker_user.refresh_token})

    assert reused.json()["internal_code"] == "refresh_token_reused"
    assert {name: status for name, (status, _) in codes(await every_route_kind(client, rotated, job_path)).items()} == {
        "me": 401,
        "poll": 401,
        "estates": 401,
        "refresh": 401,
    }


async def test_deactivation_ends_the_users_access_on_every_route_kind(
    client: AsyncClient, admin: SignedIn, broker_user: SignedIn, job_path: str
) -> None:
    await warm(client, broker_user, job_path)

    response = await client.patch(
        f"/api/v1/users/{broker_user.user.id}", json={"is_active": False}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    answers = codes(await every_route_kind(client, broker_user, job_path))
    assert {name: status for name, (status, _) in answers.items()} == {
        "me": 401,
        "poll": 401,
        "estates": 401,
        "refresh": 401,
    }
    assert answers["me"][1] == answers["poll"][1] == answers["estates"][1] == "user_inactive"


async def test_a_reactivated_user_signs_in_again_rather_than_reviving_old_sessions(
    client: AsyncClient, admin: SignedIn, broker_user: SignedIn
) -> None:
    path = f"/api/v1/users/{broker_user.user.id}"
    await client.patch(path, json={"is_active": False}, headers=admin.headers)
    await client.patch(path, json={"is_active": True}, headers=admin.headers)

    me = await client.get("/api/v1/me", headers=broker_user.headers)
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": broker_user.refresh_token})

    assert (me.status_code, me.json()["internal_code"]) == (401, "token_revoked")
    assert (refreshed.status_code, refreshed.json()["internal_code"]) == (401, "token_revoked")


async def test_a_demoted_admin_loses_admin_access_at_once_and_refreshes_into_a_broker(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization, admin: SignedIn,
    job_path: str,
) -> None:  # fmt: skip
    other_admin = await signed_in(client, session, resources, organization, role=UserRole.ADMIN)
    await warm(client, admin, job_path)
    assert (await client.get("/api/v1/users", headers=admin.headers)).status_code == 200

    demoted = await client.patch(f"/api/v1/users/{admin.user.id}", json={"role": "broker"}, headers=other_admin.headers)

    assert demoted.status_code == 200
    assert demoted.json()["role"] == "broker"
    stale = await client.get("/api/v1/users", headers=admin.headers)
    poll = await client.get(job_path, headers=admin.headers)
    assert (stale.status_code, stale.json()["internal_code"]) == (401, "token_revoked")
    assert poll.status_code == 401
    fresh = (await client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})).json()
    as_broker = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert (await client.get("/api/v1/users", headers=as_broker)).status_code == 403
    assert (await client.get(job_path, headers=as_broker)).status_code == 200


async def test_an_unchanged_role_keeps_access(client: AsyncClient, admin: SignedIn, broker_user: SignedIn) -> None:
    renamed = await client.patch(
        f"/api/v1/users/{broker_user.user.id}", json={"full_name": "  Ola Nordmann ", "role": "broker"},
        headers=admin.headers,
    )  # fmt: skip

    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "Ola Nordmann"
    assert (await client.get("/api/v1/me", headers=broker_user.headers)).status_code == 200


async def test_an_access_token_without_a_session_is_refused(
    client: AsyncClient, resources: Resources, broker_user: SignedIn
) -> None:
    token, _ = resources.token_codec.encode(
        subject=broker_user.user.id, organization_id=broker_user.user.organization_id, role="broker",
        token_type=TokenType.ACCESS, ttl=timedelta(minutes=5),
    )  # fmt: skip

    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert (response.status_code, response.json()["internal_code"]) == (401, "token_invalid")
