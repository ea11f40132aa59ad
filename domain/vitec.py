"""Vitec Next data as the application understands it: entities mapped from the Hub's JSON, and the
errors the Hub can answer. Field names of Vitec's JSON appear only in repository/vitec/mapping.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.errors import AppError, NotFoundError

JsonObject = dict[str, Any]


class SyncMode(StrEnum):
    """`incremental` fetches what changed since the watermark; `full` re-lists everything and marks
    estates that vanished from Vitec as deleted."""

    INCREMENTAL = "incremental"
    FULL = "full"


class BrokerRole(StrEnum):
    MAIN_BROKER = "main_broker"
    RESPONSIBLE_BROKER = "responsible_broker"
    ASSISTANT = "assistant"
    RESPONSIBLE_SETTLEMENT = "responsible_settlement"
    SECONDARY_ASSISTANT = "secondary_assistant"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class VitecDepartment:
    vitec_id: int
    name: str
    market_name: str | None
    email: str | None
    phone: str | None
    street: str | None
    zip_code: str | None
    city: str | None
    raw: JsonObject = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VitecEmployee:
    vitec_id: str
    name: str
    title: str | None
    email: str | None
    mobile_phone: str | None
    department_ids: tuple[int, ...]
    active: bool
    raw: JsonObject = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class BrokerAssignment:
    employee_vitec_id: str
    role: BrokerRole
    role_code: int | None


@dataclass(frozen=True, slots=True)
class VitecEstateSummary:
    """One entry of the estate listing: enough to know whether the details must be fetched."""

    vitec_id: str
    changed_at: datetime | None
    department_vitec_id: int | None


@dataclass(frozen=True, slots=True)
class VitecImage:
    vitec_id: str
    sequence: int
    description: str | None
    category: str | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class VitecBinary:
    """A picture's or document's bytes, as Vitec sent them, with the media type it declared."""

    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class VitecDocument:
    vitec_id: str
    doc_type: str | None
    title: str | None
    extension: str | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class VitecEstate:
    """A full estate, mapped; `status` and `estate_type` are our lower-case names (or "unknown",
    with the raw codes kept beside them)."""

    vitec_id: str
    changed_at: datetime | None
    assignment_number: str | None
    status: str
    status_code: int | None
    estate_type: str
    estate_type_code: int | None
    department_vitec_id: int | None
    street: str | None
    zip_code: str | None
    city: str | None
    heading: str | None
    description: str | None
    asking_price: Decimal | None
    total_price: Decimal | None
    primary_area: Decimal | None
    usable_area: Decimal | None
    rooms: int | None
    bedrooms: int | None
    construction_year: int | None
    energy_letter: str | None
    brokers: tuple[BrokerAssignment, ...]
    images: tuple[VitecImage, ...]
    documents: tuple[VitecDocument, ...]
    raw: JsonObject = field(compare=False, repr=False)


def estate_uuid(vitec_id: str) -> uuid.UUID | None:
    """Vitec's estate ids are upper-case GUIDs; None when one is not."""
    try:
        return uuid.UUID(vitec_id)
    except ValueError:
        return None


# Errors of the Hub. The permanent ones end a job at once; the transient ones are retried.
# Image types served as they are; anything else is served as `application/octet-stream`, so no
# browser runs what Vitec (or whoever fed it) declared as HTML or SVG.
RASTER_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif", "image/avif"})


class VitecError(AppError):
    code = "vitec_error"
    status_code = 502
    title = "The Vitec Hub answered with an error"


class VitecUnauthorizedError(VitecError):
    code = "vitec_unauthorized"
    title = "Vitec refused our credentials"


class VitecForbiddenError(VitecError):
    code = "vitec_forbidden"
    title = "Our credentials lack the right for this Vitec installation or function"


class VitecNotFoundError(VitecError):
    code = "vitec_not_found"
    status_code = 404
    title = "Vitec has no such resource"


class VitecUnavailableError(VitecError):
    """Retries ran out (429, 5xx, timeouts, dropped connections) or the circuit is open."""

    code = "vitec_unavailable"
    status_code = 503
    title = "Vitec is not answering; try again later"


class VitecResponseInvalidError(VitecError):
    code = "vitec_response_invalid"
    title = "Vitec answered something we cannot read"


class EstateNotFoundError(NotFoundError):
    code = "estate_not_found"
    title = "Estate not found"


class EstateImageNotFoundError(NotFoundError):
    code = "estate_image_not_found"
    title = "Image not found"


class EstateImageTooLargeError(VitecError):
    """Vitec's image is larger than VITEC_IMAGE_MAX_BYTES: refused before it fills memory."""

    code = "estate_image_too_large"
    status_code = 502
    title = "The image from Vitec is larger than allowed"


class EstateImageTimeoutError(VitecError):
    """Vitec did not deliver the image within VITEC_IMAGE_DEADLINE_SECONDS (retries included)."""

    code = "estate_image_timeout"
    status_code = 504
    title = "Vitec did not deliver the image in time; try again later"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
