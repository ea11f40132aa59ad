"""Blob Storage as the domain sees it: what a stored blob is, and the errors reaching it can raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import AppError


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A committed blob's properties."""

    name: str
    size: int
    content_type: str | None
    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """A short-lived SAS URL for one blob and the moment it stops working."""

    url: str
    expires_at: datetime


class BlobStorageUnavailableError(AppError):
    code = "blob_storage_unavailable"
    status_code = 503
    title = "File storage is unavailable; try again shortly"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
