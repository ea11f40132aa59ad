"""Helpers of the document tests: what is stored for an estate, rows and blobs alike."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from repository.models import Document
from service.blobs import blob_store
from service.job_runner import JobContext


async def stored(
    session: AsyncSession, resources: Resources, organization_id: uuid.UUID, estate_id: uuid.UUID
) -> tuple[int, list[str]]:
    """(document rows, committed blob names) of an estate."""
    rows = await session.scalar(select(func.count()).select_from(Document).where(Document.estate_id == estate_id))
    blobs = await blob_store(resources).list_names(f"documents/{organization_id}/{estate_id}/")
    return int(rows or 0), blobs


class _NoLease:
    """Stands in for the worker's lease: the handlers under test report progress into nothing."""

    async def progress(self, percent: int, message: str | None) -> None:
        return None

    async def checkpoint(self) -> None:
        return None


def job_context(session: AsyncSession, resources: Resources, kind: str, payload: dict[str, Any]) -> JobContext:
    """A task body's context on the test's session, to run a handler in-process."""
    return JobContext(uuid.uuid4(), kind, None, payload, 1, session, resources, _NoLease())  # type: ignore[arg-type]
