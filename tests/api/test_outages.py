"""Outages answered honestly: with PostgreSQL really stopped, requests that need it answer 503
`service_unavailable` with `Retry-After`, readiness names only PostgreSQL, and everything works
again once it is back. (Redis down at enqueue: tests/worker/test_durability.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from alembic import command
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from api.main import create_app
from core.resources import Resources
from core.settings import DatabaseSettings
from domain.users import UserRole
from repository.databases import create_database_if_missing
from service.unit_of_work import transaction
from tests.conftest import alembic_config, make_settings
from tests.factories.users import committed_user_headers, create_organization
from tests.private_postgres import PrivatePostgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
async def outage_app(postgres: PrivatePostgres) -> AsyncIterator[tuple[AsyncClient, dict[str, str]]]:
    """The app on the private cluster, with an admin's bearer header."""
    url = postgres.url("estate_bff_outage")
    await create_database_if_missing(url)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = make_settings().model_copy(update={"database": DatabaseSettings(url=url, pool_size=2)})
    app = create_app(settings)
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        yield http, await _admin_headers(app.state.resources)


async def _admin_headers(resources: Resources) -> dict[str, str]:
    async with transaction(resources) as session:
        organization = await create_organization(session)
    return await committed_user_headers(resources, organization.id, UserRole.ADMIN)


async def test_postgres_down_is_a_503_with_retry_after_and_readiness_names_it_alone(
    postgres: PrivatePostgres, outage_app: tuple[AsyncClient, dict[str, str]]
) -> None:
    http, headers = outage_app
    assert (await http.get("/api/v1/estates", headers=headers)).status_code == 200

    postgres.stop()
    try:
        # A query string of its own: the page answered above may be served from the page cache.
        estates = await http.get("/api/v1/estates", params={"limit": 7}, headers=headers)
        sync = await http.post("/api/v1/sync/vitec", json={"mode": "full"}, headers=headers)
        ready = await http.get("/readyz")
    finally:
        postgres.start()

    for response in (estates, sync):
        assert response.status_code == 503, response.text
        assert response.json()["internal_code"] == "service_unavailable"
        assert 1 <= int(response.headers["retry-after"]) <= 30
        assert response.headers["content-type"] == "application/problem+json"
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"postgres": False, "redis": True, "blob_storage": True}

    back = await http.get("/api/v1/estates", params={"limit": 7}, headers=headers)
    started = await http.post("/api/v1/sync/vitec", json={"mode": "full"}, headers=headers)
    assert back.status_code == 200
    assert started.status_code == 202
    assert (await http.get("/readyz")).json()["checks"] == {"postgres": True, "redis": True, "blob_storage": True}
