from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from api.schemas.common import RequestBody
from domain.vitec import SyncMode


class SyncRequest(RequestBody):
    mode: SyncMode = SyncMode.INCREMENTAL


class SyncError(BaseModel):
    internal_code: str
    message: str


class SyncCounts(BaseModel):
    departments: int
    employees: int
    estates: int


class SyncStatusRead(BaseModel):
    """The organization's Vitec sync: last outcome, watermark, live totals, the active job."""

    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: SyncError | None
    watermark: datetime | None
    counts: SyncCounts
    active_job_id: uuid.UUID | None
