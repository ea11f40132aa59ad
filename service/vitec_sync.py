"""`vitec.sync`: departments → employees → estate summaries → details of the estates that changed.

Batched upserts that leave equal rows untouched, so running a sync twice changes nothing; each
batch commits on its own, so a retried sync resumes where the failed one stopped. The
watermark is the newest change date Vitec reported; an incremental sync asks for changes after it
less an overlap (Vitec's listing and clocks are not exact), and fetches details only where the
listed change date is newer than the stored one; it advances only when a run completes. A full
sync lists everything and, once complete, marks estates that are gone as deleted. Vitec's 401/403
end the job at once; outages are retried by the job.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from core.settings import VitecSettings
from domain.jobs import JobKind, JobStatus, PermanentJobError, TransientJobError
from domain.users import Principal
from domain.vitec import (
    SyncMode,
    VitecError,
    VitecEstate,
    VitecEstateSummary,
    VitecForbiddenError,
    VitecNotFoundError,
    VitecUnauthorizedError,
)
from repository.jobs import JobRepository
from repository.organizations import OrganizationRepository
from repository.vitec.client import VitecClient
from repository.vitec_read_model import UpsertResult, VitecReadModelRepository
from service.image_mirror import request_mirror
from service.job_runner import JobContext
from service.jobs import IdempotencyRequest, JobService, JobStart
from service.unit_of_work import notify_read_model_after_commit, transaction
from service.vitec import vitec_client

OVERLAP = timedelta(minutes=5)
DETAIL_BATCH = 50
DETAIL_CONCURRENCY = 8


def sync_schedules(settings: VitecSettings) -> list[dict[str, Any]]:
    """An incremental sync every interval (0 disables it) and a full one on the nightly cron (Oslo time)."""
    schedules: list[dict[str, Any]] = [
        {"cron": settings.full_sync_cron, "cron_offset": "Europe/Oslo", "schedule_id": "vitec.sync.full",
         "kwargs": {"mode": SyncMode.FULL.value}},
    ]  # fmt: skip
    if settings.sync_interval_seconds:
        schedules.append(
            {"interval": settings.sync_interval_seconds, "schedule_id": "vitec.sync.incremental",
             "kwargs": {"mode": SyncMode.INCREMENTAL.value}}
        )  # fmt: skip
    return schedules


async def sync(context: JobContext) -> dict[str, Any]:
    """Run one sync of the job's organization; the result counts what this attempt wrote."""
    mode = SyncMode(context.payload.get("mode", SyncMode.INCREMENTAL.value))
    if context.organization_id is None:
        raise PermanentJobError("a Vitec sync needs an organization", code="vitec_sync_without_organization")
    async with context.batch() as session:
        organization = await OrganizationRepository(session).get(context.organization_id)
    if organization is None:
        raise PermanentJobError("the organization no longer exists", code="organization_not_found")
    try:
        return await _sync(context, organization.id, organization.vitec_installation_id, mode)
    except (VitecUnauthorizedError, VitecForbiddenError) as exc:
        raise PermanentJobError(exc.detail, code=exc.code) from exc
    except VitecError as exc:
        raise TransientJobError(exc.detail, code=exc.code) from exc


async def _sync(context: JobContext, organization_id: uuid.UUID, installation: str, mode: SyncMode) -> dict[str, Any]:
    """Each step commits on its own (the upserts are idempotent), so a failure late in a large sync
    keeps what was written and the retry fetches only what is still missing. What needs the whole
    run — deletions, the watermark — commits at the end, with the job's success."""
    client = vitec_client(context.resources)
    await context.progress(2, "departments")
    listed_departments = await client.list_departments(installation)
    await context.progress(8, "employees")
    listed_employees = await client.list_employees(installation)
    async with context.batch() as session:
        repository = VitecReadModelRepository(session)
        departments = await repository.upsert_departments(organization_id, listed_departments)
        employees = await repository.upsert_employees(organization_id, listed_employees)
        _announce_if_written(session, organization_id, departments, employees)
        state = await repository.sync_state(organization_id)
        stored = await repository.estate_change_dates(organization_id)
    watermark = state.watermark if state is not None else None
    changed_after = watermark - OVERLAP if mode is SyncMode.INCREMENTAL and watermark is not None else None
    await context.progress(12, "estate listing")
    summaries = await client.list_estate_summaries(installation, changed_after=changed_after)
    changed = [summary for summary in summaries if _needs_details(summary, stored.get(summary.vitec_id))]
    estates = await _sync_details(context, client, organization_id, installation, changed)
    repository = VitecReadModelRepository(context.session)
    deleted = 0
    if mode is SyncMode.FULL:  # only now is the listing known complete
        deleted = await repository.mark_missing_deleted(organization_id, {summary.vitec_id for summary in summaries})
    if deleted:
        notify_read_model_after_commit(context.session, organization_id)
    if reshapes_estates(estates.inserted + estates.updated + deleted, stored=len(stored)):
        await repository.refresh_statistics()
    await request_mirror(context.session, context.resources, organization_id)
    newest = max((summary.changed_at for summary in summaries if summary.changed_at), default=None)
    await repository.save_sync_state(
        organization_id,
        watermark=max(filter(None, (watermark, newest)), default=None),
        last_success_at=datetime.now(UTC),
    )
    return {
        "mode": mode.value,
        "departments": _counts(departments),
        "employees": _counts(employees),
        "estates": {**_counts(estates), "listed": len(summaries), "fetched": len(changed), "deleted": deleted},
    }


def _announce_if_written(session: AsyncSession, organization_id: uuid.UUID, *results: UpsertResult) -> None:
    if any(result.inserted or result.updated for result in results):
        notify_read_model_after_commit(session, organization_id)


async def _sync_details(
    context: JobContext,
    client: VitecClient,
    organization_id: uuid.UUID,
    installation: str,
    changed: Sequence[VitecEstateSummary],
) -> UpsertResult:
    async with context.batch() as session:
        repository = VitecReadModelRepository(session)
        departments = await repository.department_ids(organization_id)
        employees = await repository.employee_ids(organization_id)
    limit = asyncio.Semaphore(DETAIL_CONCURRENCY)

    async def fetch(summary: VitecEstateSummary) -> VitecEstate | None:
        async with limit:
            try:
                return await client.get_estate(installation, summary.vitec_id)
            except VitecNotFoundError:  # deleted between the listing and now; a full sync marks it
                return None

    written = UpsertResult(0, 0)
    for start in range(0, len(changed), DETAIL_BATCH):
        batch = await asyncio.gather(*(fetch(summary) for summary in changed[start : start + DETAIL_BATCH]))
        estates = [estate for estate in batch if estate is not None]
        async with context.batch() as session:
            result = await VitecReadModelRepository(session).upsert_estates(
                organization_id, estates, departments, employees
            )
            _announce_if_written(session, organization_id, result)
        written += result
        done = min(start + DETAIL_BATCH, len(changed))
        await context.progress(15 + 80 * done // max(1, len(changed)), f"estates {done} of {len(changed)}")
    return written


def _needs_details(summary: VitecEstateSummary, stored: tuple[datetime | None, bool] | None) -> bool:
    if stored is None:
        return True
    stored_changed_at, deleted = stored
    if deleted or summary.changed_at is None or stored_changed_at is None:
        return True
    return summary.changed_at > stored_changed_at


def reshapes_estates(changed: int, *, stored: int) -> bool:
    """Whether a sync changed enough of the organization's estates (a tenth of those it had) to
    leave the planner's statistics behind; the first sync of an organization always does, a
    routine incremental sync does not."""
    return changed > 0 and changed * 10 >= stored


def _counts(result: UpsertResult) -> dict[str, int]:
    return {"inserted": result.inserted, "updated": result.updated}


@dataclass(frozen=True, slots=True)
class SyncStatus:
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error_code: str | None
    last_error_message: str | None
    watermark: datetime | None
    departments: int
    employees: int
    estates: int
    active_job_id: uuid.UUID | None


async def request_sync(
    jobs: JobService, principal: Principal, mode: SyncMode, idempotency: IdempotencyRequest | None
) -> JobStart:
    """Start a sync of the caller's organization (admins); while one is active, that one answers."""
    principal.require_admin()
    return await jobs.start(
        principal, JobKind.VITEC_SYNC, payload={"mode": mode.value}, dedupe_key=JobKind.VITEC_SYNC.value,
        idempotency=idempotency,
    )  # fmt: skip


async def sync_status(session: AsyncSession, principal: Principal) -> SyncStatus:
    """The organization's last sync: its outcome, the watermark, and the live totals of the read model."""
    organization_id = principal.organization_id
    read_model = VitecReadModelRepository(session)
    jobs = JobRepository(session)
    state = await read_model.sync_state(organization_id)
    latest = await jobs.latest_of_kind(organization_id, JobKind.VITEC_SYNC)
    failed = latest is not None and latest.status == JobStatus.FAILED.value
    active = await jobs.active_with_dedupe_key(organization_id, JobKind.VITEC_SYNC.value)
    departments, employees, estates = await read_model.counts(organization_id)
    return SyncStatus(
        last_success_at=state.last_success_at if state else None,
        last_attempt_at=(latest.started_at or latest.created_at) if latest else None,
        last_error_code=latest.error_code if failed and latest else None,
        last_error_message=latest.error_message if failed and latest else None,
        watermark=state.watermark if state else None,
        departments=departments,
        employees=employees,
        estates=estates,
        active_job_id=active.id if active else None,
    )


async def queue_seed_sync(resources: Resources, mode: SyncMode) -> uuid.UUID | None:
    """Queue a sync of the organization named by SEED_VITEC_INSTALLATION_ID (ops and `make run`)."""
    installation = resources.settings.seed.vitec_installation_id.strip().upper()
    async with transaction(resources) as session:
        organization = await OrganizationRepository(session).get_by_installation_id(installation)
        if organization is None:
            return None
        started = await JobService(session, resources).start(
            None, JobKind.VITEC_SYNC, organization_id=organization.id, payload={"mode": mode.value},
            dedupe_key=JobKind.VITEC_SYNC.value,
        )  # fmt: skip
    return started.job.id
