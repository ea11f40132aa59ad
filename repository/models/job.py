from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from domain.jobs import ACTIVE_STATUSES, JobStatus
from repository.models.base import BaseTableModel, UpdatedAtMixin


def _in(statuses: Collection[JobStatus]) -> str:
    """`status IN (...)` of the given statuses, in the enum's order (the migrations' spelling)."""
    return "status IN (" + ", ".join(f"'{status.value}'" for status in JobStatus if status in statuses) + ")"


class Job(UpdatedAtMixin, BaseTableModel):
    """One unit of slow work: the frontend's source of truth and the outbox of the broker.

    `version` moves with every visible change, whoever writes the row (the `jobs_bump_version`
    trigger), and is the ETag of the job's representation.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in(set(JobStatus)), name="status"),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent"),
        # One active job per (organization, dedupe key): a second sync request finds the first.
        Index(
            "uq_jobs_active_dedupe",
            "organization_id",
            "dedupe_key",
            unique=True,
            postgresql_where=text(f"{_in(ACTIVE_STATUSES)} AND dedupe_key IS NOT NULL"),
            postgresql_nulls_not_distinct=True,
        ),
        # One job per schedule tick, ever: two schedulers, or a restart within a tick, add nothing.
        Index("uq_jobs_schedule_key", "schedule_key", unique=True),
        Index("ix_jobs_organization_id_created_at_id", "organization_id", "created_at", "id"),
        # The sweeper's two scans.
        Index("ix_jobs_queued_run_after", "run_after", postgresql_where=text("status = 'queued'")),
        Index("ix_jobs_running_heartbeat_at", "heartbeat_at", postgresql_where=text("status = 'running'")),
        Index("ix_jobs_finished_at", "finished_at", postgresql_where=text("finished_at IS NOT NULL")),
    )

    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default="queued", default="queued")
    progress_percent: Mapped[int] = mapped_column(SmallInteger, server_default="0", default=0)
    progress_message: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"), default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    max_attempts: Mapped[int] = mapped_column(server_default="5", default=5)
    run_after: Mapped[datetime] = mapped_column(server_default=func.now())
    dispatched_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    schedule_key: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(server_default="1", default=1)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
