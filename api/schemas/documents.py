from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import Collection, RequestBody, ResponseBody


class DocumentRead(ResponseBody):
    """A document of an estate; `content_type`, `size_bytes` and `sha256` describe the verified bytes."""

    id: uuid.UUID
    estate_id: uuid.UUID
    kind: str = Field(description="`upload`, `report` or `vitec`.")
    filename: str
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    status: str = Field(description="`pending_upload`, `processing`, `available` or `failed`.")
    created_at: datetime


class DocumentCollection(Collection[DocumentRead]):
    pass


class UploadUrlRequest(RequestBody):
    filename: str = Field(min_length=1, max_length=1000)
    content_type: str = Field(min_length=1, max_length=255)
    size_bytes: int = Field(gt=0)


class UploadUrlRead(BaseModel):
    """PUT the file to `upload_url` with `required_headers` before `expires_at`, then call `complete`."""

    document_id: uuid.UUID
    upload_url: str
    expires_at: datetime
    required_headers: dict[str, str]


class CompleteRequest(RequestBody):
    sha256: str | None = Field(
        default=None, pattern="^[0-9a-fA-F]{64}$", description="Hex SHA-256 of the file, checked when given."
    )
