"""Shared fixtures: one migrated database per test run, one app, a rolled-back transaction per test.

The run creates its own database (`<TEST_DATABASE_URL>_<random>`), migrates it with Alembic (never
`create_all`) and drops it at the end, so concurrent runs on one machine never meet. Redis is the
real server on a database index of its own; tests use unique keys (emails, client addresses).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from api.main import create_app
from core.blob_client import create_blob_service
from core.resources import Resources
from core.settings import (
    AppSettings,
    AuthSettings,
    AzureSettings,
    DatabaseSettings,
    Environment,
    JobSettings,
    RedisSettings,
    Settings,
)
from repository.blob_store import BlobStore
from repository.databases import create_database_if_missing, drop_database
from tests.azurite import BlobEndpoint, start_blob_endpoint

TEST_DATABASE_BASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/estate_bff_test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_JWT_SECRET = "test-jwt-secret-" + "x" * 32
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_settings(**app_overrides: object) -> Settings:
    return Settings(
        app=AppSettings(environment=Environment.TEST, log_level="WARNING", **app_overrides),  # type: ignore[arg-type]
        database=DatabaseSettings(url=f"{TEST_DATABASE_BASE_URL}_{RUN_ID}", pool_size=5),
        redis=RedisSettings(url=TEST_REDIS_URL),
        # Cheap Argon2 parameters: hashing is exercised, not benchmarked, by the suite.
        auth=AuthSettings(
            jwt_secret=TEST_JWT_SECRET,  # type: ignore[arg-type]
            password_hash_time_cost=1,
            password_hash_memory_kib=1024,
            password_hash_parallelism=1,
        ),
        jobs=JobSettings(**TEST_JOB_SETTINGS),  # type: ignore[arg-type]
        azure=blob_settings(),
    )


# Set by the `blob_endpoint` fixture before any test builds settings.
_BLOB_ENDPOINT: list[BlobEndpoint] = []


def blob_settings(**overrides: object) -> AzureSettings:
    assert _BLOB_ENDPOINT, "the blob_endpoint session fixture starts Blob Storage first"
    values: dict[str, object] = {
        "connection_string": _BLOB_ENDPOINT[0].connection_string,
        "container": f"test-{RUN_ID}",
        "account_url": "",
        **overrides,
    }
    return AzureSettings(**values)  # type: ignore[arg-type]


RUN_ID = uuid.uuid4().hex[:10]
# A stream and group of this run's own; short leases so crash recovery is observable quickly.
TEST_JOB_SETTINGS: dict[str, object] = {
    "stream": f"estate-bff:test:{RUN_ID}:jobs",
    "consumer_group": f"estate-bff:test:{RUN_ID}:workers",
    "heartbeat_seconds": 0.3,
    "stale_after_seconds": 2.0,
    "dispatch_grace_seconds": 0.5,
    "sweep_interval_seconds": 0.3,
    "retry_base_seconds": 0.2,
    "retry_cap_seconds": 1.0,
    "progress_min_interval_seconds": 0.1,
    "worker_metrics_port": 0,
}


def alembic_config(database_url: str) -> Config:
    config = Config(os.path.join(ROOT, "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session", autouse=True)
async def blob_endpoint() -> AsyncIterator[BlobEndpoint]:
    """Blob Storage for the whole run; the run's container is deleted at the end."""
    endpoint = await asyncio.to_thread(start_blob_endpoint, ROOT)
    _BLOB_ENDPOINT.append(endpoint)
    yield endpoint
    azure = blob_settings()
    service = create_blob_service(azure)
    try:
        await BlobStore(service, azure).delete_container()
    finally:
        await service.close()
        endpoint.stop()


@pytest.fixture(scope="session")
def settings(blob_endpoint: BlobEndpoint) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def migrated_database(settings: Settings) -> AsyncIterator[str]:
    url = settings.database.url
    await create_database_if_missing(url)
    # env.py runs its own event loop, so migrate from a worker thread.
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated_database: str) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture(scope="session")
def resources(app: FastAPI) -> Resources:
    value: Resources = app.state.resources
    return value


@pytest.fixture
async def connection(resources: Resources) -> AsyncIterator[AsyncConnection]:
    """One connection in an outer transaction that is rolled back after the test.

    The app's session factory is pointed at it with `create_savepoint`, so each request's unit of
    work commits to a savepoint and the test still sees (and then discards) everything.
    """
    original, raw_pool = resources.session_factory, resources.raw_pool
    # Polls read through the session too, so they see the test's uncommitted rows.
    resources.raw_pool = None
    async with resources.engine.connect() as conn:
        transaction = await conn.begin()
        resources.session_factory = async_sessionmaker(
            bind=conn, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield conn
        finally:
            resources.session_factory, resources.raw_pool = original, raw_pool
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection, resources: Resources) -> AsyncIterator[AsyncSession]:
    """A session in the test's transaction, for factories and assertions."""
    async with resources.session_factory() as db_session:
        yield db_session


def random_client_address() -> str:
    """Each test client gets its own address, so per-address login limits never leak across tests."""
    octets = uuid.uuid4().bytes[:3]
    return "10." + ".".join(str(octet) for octet in octets)


@pytest.fixture
async def client(app: FastAPI, connection: AsyncConnection) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(random_client_address(), 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
