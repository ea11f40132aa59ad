"""The operations commands behind `python -m cli`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.database import unit_of_work
from core.logging import configure_logging
from core.resources import Resources
from core.settings import get_settings
from domain.vitec import SyncMode
from repository.databases import create_database_if_missing, postgres_answers, redis_answers
from service.organizations import OrganizationService
from service.vitec_sync import queue_seed_sync


async def seed() -> int:
    """Create the SEED_* organization and admin; running it again changes nothing."""
    settings = get_settings()
    configure_logging(settings.app)
    resources = Resources.build(settings)
    try:
        async with unit_of_work(resources.session_factory) as session:
            result = await OrganizationService(session, resources.password_hasher).seed(
                name=settings.seed.organization_name,
                vitec_installation_id=settings.seed.vitec_installation_id,
                admin_email=settings.seed.admin_email,
                admin_password=settings.seed.admin_password.get_secret_value(),
            )
    finally:
        await resources.close()
    org = result.organization
    print(  # noqa: T201 - this command's output is for the operator
        f"organization {org.name!r} ({org.vitec_installation_id}): "
        f"{'created' if result.organization_created else 'already there'}; "
        f"admin {settings.seed.admin_email}: {'created' if result.admin_created else 'already there'}"
    )
    return 0


async def sync(mode: str) -> int:
    """Queue a Vitec sync for the SEED_* organization; a worker runs it (an active one is reused)."""
    settings = get_settings()
    configure_logging(settings.app)
    resources = Resources.build(settings)
    await resources.start_producer()
    try:
        job_id = await queue_seed_sync(resources, SyncMode(mode))
    finally:
        await resources.close()
    print(f"vitec.sync queued: job {job_id}" if job_id else "no organization for SEED_VITEC_INSTALLATION_ID")  # noqa: T201
    return 0 if job_id else 1


async def ensure_database() -> int:
    created = await create_database_if_missing(get_settings().database.url)
    print("database created" if created else "database exists")  # noqa: T201
    return 0


async def wait_for(service: str, within_seconds: float) -> int:
    settings = get_settings()
    probes: dict[str, Callable[[], Awaitable[bool]]] = {
        "postgres": lambda: postgres_answers(settings.database.url),
        "redis": lambda: redis_answers(settings.redis.url),
    }
    deadline = time.monotonic() + within_seconds
    while True:
        if await probes[service]():
            return 0
        if time.monotonic() >= deadline:
            return 1
        await asyncio.sleep(0.2)
