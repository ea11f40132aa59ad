from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from api.schemas.common import Collection, ResponseBody
from domain.jobs import JobStatus


class JobLike(Protocol):
    """What a job representation is built from: a polled snapshot or a loaded row."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def progress_percent(self) -> int: ...
    @property
    def progress_message(self) -> str | None: ...
    @property
    def result(self) -> dict[str, Any] | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def version(self) -> int: ...


class JobProgress(BaseModel):
    percent: int = Field(ge=0, le=100)
    message: str | None


class JobErrorInfo(BaseModel):
    internal_code: str
    message: str


class JobRead(ResponseBody):
    """A job: poll it until `status` is final. `result` is kind-specific."""

    id: uuid.UUID
    kind: str
    status: JobStatus
    progress: JobProgress
    result: dict[str, Any] | None
    error: JobErrorInfo | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: JobLike) -> JobRead:
        failed = job.status == JobStatus.FAILED.value and job.error_code is not None
        return cls(
            id=job.id,
            kind=job.kind,
            status=JobStatus(job.status),
            progress=JobProgress(percent=job.progress_percent, message=job.progress_message),
            result=job.result if job.status == JobStatus.SUCCEEDED.value else None,
            error=JobErrorInfo(internal_code=job.error_code or "", message=job.error_message or "") if failed else None,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobCollection(Collection[JobRead]):
    pass


class KindCounts(BaseModel):
    queued: int = 0
    running: int = 0
    failed: int = 0
    succeeded: int = 0
    cancelled: int = 0


class StreamInfo(BaseModel):
    length: int
    pending: int = Field(description="Delivered to a worker, not yet acknowledged.")
    lag: int | None = Field(description="In the stream, not yet delivered to any worker.")


class WorkerInfo(BaseModel):
    id: str
    last_seen_at: datetime


class QueueRead(BaseModel):
    kinds: dict[str, KindCounts]
    oldest_queued_age_seconds: float | None
    stream: StreamInfo
    workers: list[WorkerInfo]
