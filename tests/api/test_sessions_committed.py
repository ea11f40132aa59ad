"""Sessions on committed rows: a revocation reaches every API process within a second, and a
logout racing a refresh of the same session never leaves the refreshed tokens valid."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import delete, func, select, text

from api.main import create_app
from core.resources import Resources
from core.settings import Settings
from domain.users import UserRole
from repository.models import Job, Organization, User
from service.unit_of_work import transaction
from tests.factories.users import DEFAULT_PASSWORD, create_user


@dataclass
class Committed:
    organization_id: uuid.UUID
    admin_email: str
    broker_email: str
    broker_id: uuid.UUID
    job_id: uuid.UUID


@pytest.fixture
async def committed(resources: Resources) -> AsyncIterator[Committed]:
    async with transaction(resources) as session:
        organization = Organization(name="Committed AS", vitec_installation_id="C" + uuid.uuid4().hex[:12].upper())
        session.add(organization)
        await session.flush()
        admin = await create_user(session, resources, organization, role=UserRole.ADMIN)
        broker = await create_user(session, resources, organization, role=UserRole.BROKER)
        job = Job(organization_id=organization.id, kind="maintenance.cleanup")
        session.add(job)
        await session.flush()
    yield Committed(organization.id, admin.email, broker.email, broker.id, job.id)
    async with transaction(resources) as session:
        await session.execute(delete(Organization).where(Organization.id == organization.id))


def api_client(app: FastAPI) -> AsyncClient:
    transport = ASGITransport(app=app, client=(f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}", 1))
    return AsyncClient(transport=transport, base_url="http://testserver")


async def sign_in(client: AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", data={"username": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refused_within(client: AsyncClient, path: str, headers: dict[str, str], seconds: float) -> Response:
    """Repeat the request until it is refused (answered as soon as that happens), at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        response = await client.get(path, headers=headers)
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.01)


@pytest.fixture
async def second_process(settings: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    """Another API process: an app of its own, with its own caches and its own subscriptions."""
    other = create_app(settings)
    async with LifespanManager(other):
        for instance in (app, other):
            await instance.state.resources.access_changes.wait_until_subscribed()
        yield other


@pytest.mark.parametrize("revoke", ["logout", "deactivate", "role_change"])
async def test_a_revocation_on_one_process_is_enforced_by_another_within_a_second(
    app: FastAPI, second_process: FastAPI, committed: Committed, revoke: str
) -> None:
    poll = f"/api/v1/jobs/{committed.job_id}"
    async with api_client(app) as first, api_client(second_process) as second:
        admin = await sign_in(first, committed.admin_email)
        broker = await sign_in(first, committed.broker_email)
        for path in ("/api/v1/me", poll, "/api/v1/estates", "/api/v1/estates"):  # cached on the second process
            assert (await second.get(path, headers=bearer(broker))).status_code == 200

        started = time.monotonic()
        if revoke == "logout":
            changed = await first.post("/api/v1/auth/logout", json={"refresh_token": broker["refresh_token"]})
        else:
            body = {"is_active": False} if revoke == "deactivate" else {"role": "admin"}
            changed = await first.patch(f"/api/v1/users/{committed.broker_id}", json=body, headers=bearer(admin))
        assert changed.status_code in {200, 204}

        answers = [await refused_within(second, path, bearer(broker), 1.0) for path in (poll, "/api/v1/estates")]
        answers.append(await second.get("/api/v1/me", headers=bearer(broker)))
        elapsed = time.monotonic() - started

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert elapsed < 1.0


async def _waiting_on_a_lock(resources: Resources, count: int) -> None:
    """Until `count` other backends of this database wait on a row lock."""
    async with asyncio.timeout(10):
        while True:
            async with resources.engine.connect() as connection:
                waiting = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    )
                )
            if waiting == count:
                return
            await asyncio.sleep(0.01)


async def test_a_logout_racing_a_refresh_of_the_same_session_revokes_what_the_refresh_issued(
    app: FastAPI, resources: Resources, committed: Committed
) -> None:
    async with api_client(app) as client:
        tokens = await sign_in(client, committed.broker_email)
        # Hold the refresh mid-way, after it took its locks: issuing the new refresh token checks
        # its user (a foreign key), which waits for this lock on the user's row.
        async with resources.engine.connect() as blocker:
            await blocker.begin()
            await blocker.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": committed.broker_id})
            refresh = asyncio.create_task(
                client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            )
            await _waiting_on_a_lock(resources, 1)
            logout = asyncio.create_task(
                client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
            )
            await _waiting_on_a_lock(resources, 2)  # the logout waits for the refresh, whatever it locks
            await blocker.rollback()
        refreshed, logged_out = await refresh, await logout

        assert (refreshed.status_code, logged_out.status_code) == (200, 204)
        issued = refreshed.json()
        again = await client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
        me = await client.get("/api/v1/me", headers=bearer(issued))

    assert (again.status_code, again.json()["internal_code"]) == (401, "token_revoked")
    assert (me.status_code, me.json()["internal_code"]) == (401, "token_revoked")


async def test_concurrent_logouts_and_refreshes_never_leave_a_session_alive(app: FastAPI, committed: Committed) -> None:
    # Two users take turns, from a new address each time: within the sign-in limits (10/minute).
    for email in [committed.admin_email, committed.broker_email] * 8:
        async with api_client(app) as client:
            tokens = await sign_in(client, email)
            body = {"refresh_token": tokens["refresh_token"]}
            *refreshes, logout = await asyncio.gather(
                client.post("/api/v1/auth/refresh", json=body),
                client.post("/api/v1/auth/refresh", json=body),
                client.post("/api/v1/auth/logout", json=body),
            )

            assert logout.status_code == 204
            assert sorted(response.status_code for response in refreshes) in ([200, 401], [401, 401])
            for issued in (response.json() for response in refreshes if response.status_code == 200):
                again = await client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
                assert again.status_code == 401
                assert (await client.get("/api/v1/me", headers=bearer(issued))).status_code == 401


# The canonical id is answered by the explicit poll route, the hex spelling by the FastAPI route.
@pytest.mark.parametrize(
    "path", ["/api/v1/jobs/{id}?wait=2", "/api/v1/jobs/{hex}?wait=2"], ids=["poll_route", "fastapi_route"]
)
async def test_a_long_poll_in_flight_when_its_session_ends_answers_401(
    app: FastAPI, resources: Resources, committed: Committed, path: str
) -> None:
    poll = f"/api/v1/jobs/{committed.job_id}"
    async with api_client(app) as client:
        tokens = await sign_in(client, committed.broker_email)
        etag = (await client.get(poll, headers=bearer(tokens))).headers["etag"]
        waiting = asyncio.create_task(
            client.get(
                path.format(id=committed.job_id, hex=committed.job_id.hex),
                headers={**bearer(tokens), "If-None-Match": etag},
            )
        )
        async with asyncio.timeout(5):
            while True:
                if committed.job_id in resources.job_changes._waiters:  # the poll is waiting now
                    break
                await asyncio.sleep(0.01)
        await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        response = await waiting

    assert (response.status_code, response.json()["internal_code"]) == (401, "token_revoked")


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: FastAPI, resources: Resources, committed: Committed
) -> None:
    async with transaction(resources) as session:
        organization = await session.get(Organization, committed.organization_id)
        assert organization is not None
        second = await create_user(session, resources, organization, role=UserRole.ADMIN)
    async with api_client(app) as first_client, api_client(app) as second_client:
        first = await sign_in(first_client, committed.admin_email)
        other = await sign_in(second_client, second.email)
        first_id = (await first_client.get("/api/v1/me", headers=bearer(first))).json()["id"]
        answers = await asyncio.gather(
            first_client.patch(f"/api/v1/users/{second.id}", json={"role": "broker"}, headers=bearer(first)),
            second_client.patch(f"/api/v1/users/{first_id}", json={"is_active": False}, headers=bearer(other)),
        )

    async with resources.session_factory() as session:
        admins = await session.scalar(
            select(func.count()).select_from(User).where(
                User.organization_id == committed.organization_id, User.role == "admin", User.is_active
            )
        )  # fmt: skip
    assert admins == 1
    assert sorted(answer.status_code for answer in answers) in ([200, 401], [200, 409])


async def test_deactivating_a_user_while_they_refresh_never_deadlocks(app: FastAPI, committed: Committed) -> None:
    user = f"/api/v1/users/{committed.broker_id}"
    async with api_client(app) as admin_client:
        admin = await sign_in(admin_client, committed.admin_email)
        for _ in range(8):  # within the broker's sign-in limit (10/minute)
            async with api_client(app) as client:
                tokens = await sign_in(client, committed.broker_email)
                refreshed, deactivated = await asyncio.gather(
                    client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
                    admin_client.patch(user, json={"is_active": False}, headers=bearer(admin)),
                )
                assert (refreshed.status_code in {200, 401}, deactivated.status_code) == (True, 200)
                if refreshed.status_code == 200:
                    assert (await client.get("/api/v1/me", headers=bearer(refreshed.json()))).status_code == 401
            reactivated = await admin_client.patch(user, json={"is_active": True}, headers=bearer(admin))
            assert reactivated.status_code == 200
