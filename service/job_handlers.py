"""The production job kinds and their handlers: import this module to make them runnable (the
worker, the scheduler, the API and the CLI do)."""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from domain.jobs import JobKind
from service.document_jobs import finalize as finalize_document
from service.document_jobs import purge as purge_document
from service.image_mirror import mirror as mirror_images
from service.job_kinds import KINDS, JobKindSpec
from service.maintenance import cleanup
from service.report_jobs import render as render_report
from service.scheduling import ScheduleScope
from service.vitec_sync import sync, sync_schedules


def _cleanup_schedules(settings: Settings) -> list[dict[str, Any]]:
    return [{"cron": settings.jobs.cleanup_cron, "schedule_id": JobKind.MAINTENANCE_CLEANUP.value}]


def _sync_schedules(settings: Settings) -> list[dict[str, Any]]:
    return sync_schedules(settings.vitec)


KINDS.register(JobKindSpec(JobKind.MAINTENANCE_CLEANUP.value, cleanup, _cleanup_schedules))
KINDS.register(
    JobKindSpec(
        JobKind.VITEC_SYNC.value,
        sync,
        _sync_schedules,
        scope=ScheduleScope.ORGANIZATION,
        dedupe_key=JobKind.VITEC_SYNC.value,
    )
)
KINDS.register(JobKindSpec(JobKind.DOCUMENTS_FINALIZE.value, finalize_document))
KINDS.register(JobKindSpec(JobKind.DOCUMENTS_PURGE.value, purge_document))
KINDS.register(JobKindSpec(JobKind.BLOBS_MIRROR.value, mirror_images))
KINDS.register(JobKindSpec(JobKind.REPORTS_RENDER.value, render_report))
