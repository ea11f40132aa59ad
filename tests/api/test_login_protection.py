"""Sign-in under attack: whose attempts count, and what a flood can and cannot exhaust."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.main import create_app
from core.resources import Resources
from core.security import PasswordHasher
from core.settings import Settings
from repository.models import Organization
from service.unit_of_work import transaction
from tests.conftest import random_client_address
from tests.factories.users import DEFAULT_PASSWORD, create_organization, create_user

TOKEN_URL = "/api/v1/auth/token"


def client_at(app: object, address: str) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver")  # type: ignore[arg-type]


async def test_an_address_over_its_limit_does_not_lock_out_the_emails_it_tries(
    app: FastAPI, client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    victim = await create_user(session, resources, organization)
    await session.commit()
    for _ in range(10):  # the attacker's address uses up its window on other emails
        probe = f"probe-{uuid.uuid4().hex[:8]}@example.com"
        assert (await client.post(TOKEN_URL, data={"username": probe, "password": "x"})).status_code == 401

    refused = [await client.post(TOKEN_URL, data={"username": victim.email, "password": "guess"}) for _ in range(12)]

    assert {response.status_code for response in refused} == {429}
    async with client_at(app, random_client_address()) as victims_own:
        own = await victims_own.post(TOKEN_URL, data={"username": victim.email, "password": DEFAULT_PASSWORD})
    assert own.status_code == 200


@pytest.mark.usefixtures("connection")
async def test_a_forwarded_for_header_is_trusted_only_from_the_configured_proxy(app: FastAPI) -> None:
    """uvicorn's --proxy-headers with FORWARDED_ALLOW_IPS decides the client address the limit is
    keyed on; the application itself never reads the header."""
    behind_proxy = ProxyHeadersMiddleware(app, trusted_hosts="10.200.0.1")

    async def attempts(client_address: str) -> list[int]:
        async with client_at(behind_proxy, client_address) as http:
            return [
                (await http.post(TOKEN_URL, data={"username": f"p{n}-{uuid.uuid4().hex[:6]}@example.com",
                                                  "password": "x"},
                                 headers={"X-Forwarded-For": random_client_address()})).status_code
                for n in range(11)
            ]  # fmt: skip

    through_the_proxy = await attempts("10.200.0.1")
    spoofed_directly = await attempts(random_client_address())

    assert through_the_proxy == [401] * 11  # each forwarded address has a window of its own
    assert spoofed_directly == [401] * 10 + [429]  # the header is ignored: one address, one window


async def test_a_saturated_password_check_answers_503_with_retry_after(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization)
    await session.commit()

    async with all_slots(resources.password_hasher, resources.settings.auth.password_hash_concurrency):
        busy = await client.post(TOKEN_URL, data={"username": user.email, "password": DEFAULT_PASSWORD})
    after = await client.post(TOKEN_URL, data={"username": user.email, "password": DEFAULT_PASSWORD})

    assert busy.status_code == 503
    assert busy.json()["internal_code"] == "service_unavailable"
    assert busy.headers["retry-after"] == "1"
    assert after.status_code == 200


@contextlib.asynccontextmanager
async def all_slots(hasher: PasswordHasher, count: int) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(count):
            await stack.enter_async_context(hasher.slot())
        yield


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


@pytest.fixture
async def patient_app(settings: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    """An API process whose sign-ins wait long for a hashing slot, so the wait can be watched."""
    patient = settings.model_copy(
        update={
            "auth": settings.auth.model_copy(update={"password_hash_concurrency": 1, "password_hash_wait_seconds": 30})
        }
    )
    instance = create_app(patient)
    async with LifespanManager(instance):
        yield instance


async def test_a_sign_in_waiting_for_argon2_holds_no_database_connection(patient_app: FastAPI) -> None:
    resources: Resources = patient_app.state.resources
    async with transaction(resources) as session:
        organization = await create_organization(session, name="Flood AS")
        user = await create_user(session, resources, organization)
    try:
        async with client_at(patient_app, random_client_address()) as http:
            async with all_slots(resources.password_hasher, 1):
                checked_out = resources.engine.pool.checkedout()  # type: ignore[attr-defined]
                sign_in = asyncio.create_task(
                    http.post(TOKEN_URL, data={"username": user.email, "password": DEFAULT_PASSWORD})
                )
                await until(lambda: resources.password_hasher.waiting == 1)
                held_while_waiting = resources.engine.pool.checkedout() - checked_out  # type: ignore[attr-defined]
            response = await sign_in
    finally:
        async with transaction(resources) as session:
            await session.execute(delete(Organization).where(Organization.id == organization.id))

    assert held_while_waiting == 0
    assert response.status_code == 200
