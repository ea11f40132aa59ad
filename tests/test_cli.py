"""`python -m cli seed`: the real command against the test database, run twice."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from repository.models import Job, Organization, User
from tests.conftest import ROOT, TEST_JWT_SECRET


def run_cli(settings: Settings, arguments: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database.url,
        "REDIS_URL": settings.redis.url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "JOB_STREAM": settings.jobs.stream,
        "JOB_CONSUMER_GROUP": settings.jobs.consumer_group,
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip


def run_seed(settings: Settings, installation_id: str, email: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database.url,
        "REDIS_URL": settings.redis.url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "SEED_VITEC_INSTALLATION_ID": installation_id,
        "SEED_ADMIN_EMAIL": email,
        "SEED_ORGANIZATION_NAME": f"Org {installation_id}",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", "seed"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )


async def test_seed_is_idempotent_and_keyed_by_installation(
    settings: Settings, migrated_database: str, session: AsyncSession
) -> None:
    installation = "SEED" + uuid.uuid4().hex[:8].upper()
    email = f"seed-{uuid.uuid4().hex[:8]}@example.com"
    other_installation = installation + "B"
    other_email = "b-" + email

    first = run_seed(settings, installation, email)
    second = run_seed(settings, installation, email)
    third = run_seed(settings, other_installation, other_email)

    assert "created; admin" in first.stdout
    assert f"{email}: created" in first.stdout
    assert "already there; admin" in second.stdout
    assert "already there" in second.stdout.rsplit(":", 1)[1]
    organizations = (
        (
            await session.execute(
                select(Organization).where(Organization.vitec_installation_id.in_([installation, other_installation]))
            )
        )
        .scalars()
        .all()
    )
    assert len(organizations) == 2
    admins = (await session.execute(select(User).where(User.email.in_([email, other_email])))).scalars().all()
    assert {admin.role for admin in admins} == {"admin"}
    assert len({admin.organization_id for admin in admins}) == 2
    assert "created" in third.stdout


async def test_sync_queues_a_sync_of_the_seed_organization(
    settings: Settings, migrated_database: str, session: AsyncSession
) -> None:
    installation = "SEED" + uuid.uuid4().hex[:8].upper()
    env = {"SEED_VITEC_INSTALLATION_ID": installation}
    run_seed(settings, installation, f"sync-{uuid.uuid4().hex[:8]}@example.com")

    first = run_cli(settings, ["sync", "--mode", "full"], env)
    again = run_cli(settings, ["sync"], env)

    organization = (
        await session.execute(select(Organization).where(Organization.vitec_installation_id == installation))
    ).scalar_one()
    jobs = (await session.execute(select(Job).where(Job.organization_id == organization.id))).scalars().all()
    assert [(job.kind, job.payload["mode"], job.status) for job in jobs] == [("vitec.sync", "full", "queued")]
    assert str(jobs[0].id) in first.stdout
    assert str(jobs[0].id) in again.stdout  # the active sync is answered, not a second one
