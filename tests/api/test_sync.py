"""Starting a Vitec sync and reading its status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import VitecSettings
from domain.jobs import JobStatus
from repository.models import Organization
from service.vitec_sync import sync_schedules
from tests.factories.jobs import create_job
from tests.factories.users import SignedIn

SYNC = "/api/v1/sync/vitec"


async def test_an_admin_starts_a_sync_and_an_active_one_is_answered(admin: SignedIn, client: AsyncClient) -> None:
    first = await client.post(SYNC, json={"mode": "full"}, headers=admin.headers)
    second = await client.post(SYNC, json={"mode": "incremental"}, headers=admin.headers)

    assert first.status_code == second.status_code == 202
    assert first.json()["kind"] == "vitec.sync"
    assert first.headers["location"] == f"/api/v1/jobs/{first.json()['id']}"
    assert second.json()["id"] == first.json()["id"]
    status = (await client.get(SYNC, headers=admin.headers)).json()
    assert status["active_job_id"] == first.json()["id"]


async def test_brokers_may_read_but_not_start_a_sync(broker_user: SignedIn, client: AsyncClient) -> None:
    started = await client.post(SYNC, json={}, headers=broker_user.headers)
    status = await client.get(SYNC, headers=broker_user.headers)

    assert started.status_code == 403
    assert status.status_code == 200


async def test_bad_sync_bodies_are_422(admin: SignedIn, client: AsyncClient) -> None:
    assert (await client.post(SYNC, json={"mode": "everything"}, headers=admin.headers)).status_code == 422
    assert (await client.post(SYNC, json={"mode": "full", "extra": 1}, headers=admin.headers)).status_code == 422


async def test_status_before_any_sync(admin: SignedIn, client: AsyncClient) -> None:
    status = (await client.get(SYNC, headers=admin.headers)).json()

    assert status == {
        "last_success_at": None, "last_attempt_at": None, "last_error": None, "watermark": None,
        "counts": {"departments": 0, "employees": 0, "estates": 0}, "active_job_id": None,
    }  # fmt: skip


async def test_status_shows_the_last_failure(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    await create_job(
        session, organization, kind="vitec.sync", status=JobStatus.FAILED, error_code="vitec_unauthorized",
        error_message="Vitec refused our credentials", started_at=datetime.now(UTC) - timedelta(minutes=1),
    )  # fmt: skip
    await session.commit()

    status = (await client.get(SYNC, headers=admin.headers)).json()

    assert status["last_error"] == {"internal_code": "vitec_unauthorized", "message": "Vitec refused our credentials"}
    assert status["last_attempt_at"] is not None
    assert status["active_job_id"] is None


def test_schedules_an_interval_and_a_nightly_full_sync() -> None:
    schedules = sync_schedules(VitecSettings(sync_interval_seconds=900, full_sync_cron="0 2 * * *"))
    disabled = sync_schedules(VitecSettings(sync_interval_seconds=0))

    assert {s["schedule_id"]: s["kwargs"]["mode"] for s in schedules} == {
        "vitec.sync.full": "full", "vitec.sync.incremental": "incremental",
    }  # fmt: skip
    full = next(s for s in schedules if s["schedule_id"] == "vitec.sync.full")
    assert (full["cron"], full["cron_offset"]) == ("0 2 * * *", "Europe/Oslo")
    assert [s["schedule_id"] for s in disabled] == ["vitec.sync.full"]
